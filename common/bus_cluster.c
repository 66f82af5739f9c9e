/* bus_cluster: stream replicas and server moves of a bus connection (see bus_cluster.h). */
#include "bus_cluster.h"

#include "log.h"

#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *what, const char *stream, natsStatus s,
                jsErrCode je)
{
    const char *last = nats_GetLastError(NULL);
    snprintf(err, errlen, "bus: %s of stream '%s': %s%s%s%s", what, stream, natsStatus_GetText(s),
             last && *last ? " (" : "", last && *last ? last : "", last && *last ? ")" : "");
    if (je)
        snprintf(err + strlen(err), errlen > strlen(err) ? errlen - strlen(err) : 0,
                 " [JetStream error %d]", (int)je);
    return -1;
}

int bus_cluster_fit(jsCtx *js, const jsStreamInfo *si, int want, char *err, size_t errlen)
{
    jsStreamConfig *cfg = si->Config;
    if (!cfg || !cfg->Name) {
        snprintf(err, errlen, "bus: a stream's information has no configuration");
        return -1;
    }
    int64_t had = cfg->Replicas > 0 ? cfg->Replicas : 1; /* 0 reads as the default, 1 */
    if (want < 1 || want > BUS_REPLICAS_MAX) {
        snprintf(err, errlen, "bus: %d replicas asked for stream '%s' (1..%d)", want, cfg->Name,
                 BUS_REPLICAS_MAX);
        return -1;
    }
    if (had == want)
        return 0;
    jsStreamConfig upd = *cfg; /* shallow: the strings stay si's */
    upd.Replicas = want;
    jsStreamInfo *out = NULL;
    jsErrCode je = 0;
    natsStatus s = js_UpdateStream(&out, js, &upd, NULL, &je);
    if (s != NATS_OK) {
        char what[64];
        snprintf(what, sizeof(what), "cannot change the replicas (%lld -> %d)", (long long)had,
                 want);
        return fail(err, errlen, what, cfg->Name, s, je);
    }
    jsStreamInfo_Destroy(out);
    LOG_INFO("bus", "stream '%s': replicas %lld -> %d", cfg->Name, (long long)had, want);
    return 0;
}

int bus_cluster_fit_named(jsCtx *js, const char *stream, int want, char *err, size_t errlen)
{
    jsStreamInfo *si = NULL;
    jsErrCode je = 0;
    natsStatus s = js_GetStreamInfo(&si, js, stream, NULL, &je);
    if (s != NATS_OK)
        return fail(err, errlen, "lookup", stream, s, je);
    int rc = bus_cluster_fit(js, si, want, err, errlen);
    jsStreamInfo_Destroy(si);
    return rc;
}

int bus_cluster_unreachable(natsStatus s)
{
    return s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || s == NATS_CONNECTION_CLOSED ||
           s == NATS_CONNECTION_DISCONNECTED || s == NATS_NO_SERVER;
}

#define SERVERS_MAX 32

natsStatus bus_cluster_servers(natsOptions *o, const char *url)
{
    char copy[4096];
    const char *list[SERVERS_MAX];
    int n = 0;
    if (snprintf(copy, sizeof(copy), "%s", url) >= (int)sizeof(copy))
        return NATS_INVALID_ARG;
    for (char *p = copy, *next; p; p = next) {
        next = strchr(p, ',');
        if (next)
            *next++ = '\0';
        while (*p == ' ')
            p++;
        for (size_t len = strlen(p); len && p[len - 1] == ' '; len--)
            p[len - 1] = '\0';
        if (!*p)
            continue;
        if (n == SERVERS_MAX)
            return NATS_INVALID_ARG;
        list[n++] = p;
    }
    return n ? natsOptions_SetServers(o, list, n) : NATS_INVALID_ARG;
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    (void)closure;
    if (natsConnection_IsClosed(nc)) /* closed on purpose: nothing was lost */
        return;
    char url[256] = "";
    natsConnection_GetConnectedUrl(nc, url, sizeof(url));
    LOG_WARN("bus", "connection to %s lost; reconnecting", *url ? url : "the NATS server");
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    (void)closure;
    char url[256] = "";
    natsConnection_GetConnectedUrl(nc, url, sizeof(url));
    LOG_INFO("bus", "reconnected to %s", *url ? url : "a NATS server");
}

natsStatus bus_cluster_watch(natsOptions *o)
{
    natsStatus s = natsOptions_SetDisconnectedCB(o, on_disconnected, NULL);
    return s == NATS_OK ? natsOptions_SetReconnectedCB(o, on_reconnected, NULL) : s;
}

void bus_cluster_log_connected(natsConnection *nc)
{
    char url[256] = "";
    natsConnection_GetConnectedUrl(nc, url, sizeof(url));
    LOG_INFO("bus", "connected to %s", *url ? url : "a NATS server");
}
