/* live_nats_pub: line-JSON messages published on a NATS subject (see live_nats_pub.h). */
#include "host/data/live_nats_pub.h"

#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/data/live_nats.h"

#define FLUSH_MS 2000

struct live_nats_pub {
    natsConnection *nc;
    char *spec;
    char subject[LIVE_NATS_SUBJECT_MAX];
};

struct live_nats_pub *live_nats_pub_new(const char *spec, char *err, size_t errlen)
{
    struct live_nats_spec sp;
    struct live_nats_pub *p = calloc(1, sizeof(*p));
    if (!p || !(p->spec = strdup(spec))) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (live_nats_parse(spec, &sp, err, errlen) < 0) {
        free(p->spec);
        free(p);
        return NULL;
    }
    memcpy(p->subject, sp.subject, sizeof(p->subject));
    natsOptions *o = NULL;
    natsStatus s = live_nats_options_(&o, sp.url, "qmtl-feed");
    if (s == NATS_OK)
        s = natsConnection_Connect(&p->nc, o);
    natsOptions_Destroy(o);
    if (s != NATS_OK) {
        char what[600];
        snprintf(what, sizeof(what), "cannot connect to %s", sp.url);
        live_nats_fail_(err, errlen, 0, spec, what, s);
        free(p->spec);
        free(p);
        return NULL;
    }
    return p;
}

int live_nats_pub_send(struct live_nats_pub *p, const char *data, size_t len, char *err,
                       size_t errlen)
{
    if (len > LIVE_NATS_MSG_MAX) {
        snprintf(err, errlen, "%s: a message of %zu bytes (at most %d)", p->spec, len,
                 LIVE_NATS_MSG_MAX);
        return -1;
    }
    natsStatus s = natsConnection_Publish(p->nc, p->subject, data, (int)len);
    return s == NATS_OK ? 0 : live_nats_fail_(err, errlen, 0, p->spec, "publish", s);
}

int live_nats_pub_close(struct live_nats_pub *p, char *err, size_t errlen)
{
    if (!p)
        return 0;
    natsStatus s = natsConnection_FlushTimeout(p->nc, FLUSH_MS);
    int rc = s == NATS_OK ? 0 : live_nats_fail_(err, errlen, 0, p->spec, "flush", s);
    natsConnection_Close(p->nc);
    natsConnection_Destroy(p->nc);
    free(p->spec);
    free(p);
    return rc;
}
