/* config_check: structural checks and probes behind `qmtl config validate`. */
#include "cli/config/config_check.h"
#include "bearer.h"
#include "http_client.h"
#include "state_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *config_severity_name(enum cfg_severity s)
{
    return s == CFG_SEV_OK ? "OK" : s == CFG_SEV_WARN ? "WARN" : "ERROR";
}

const char *config_severity_json(enum cfg_severity s)
{
    return s == CFG_SEV_OK ? "ok" : s == CFG_SEV_WARN ? "warning" : "error";
}

unsigned config_check_parse_target(const char *s)
{
    if (!s)
        return 0;
    if (!strcmp(s, "gateway"))
        return CFG_TARGET_GATEWAY;
    if (!strcmp(s, "dagmanager"))
        return CFG_TARGET_DAGMANAGER;
    if (!strcmp(s, "host"))
        return CFG_TARGET_HOST;
    if (!strcmp(s, "all"))
        return CFG_TARGET_ALL;
    return 0;
}

static void add(struct cfg_report *r, const char *target, const char *name, enum cfg_severity sev,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void add(struct cfg_report *r, const char *target, const char *name, enum cfg_severity sev,
                const char *fmt, ...)
{
    struct cfg_check *n = realloc(r->checks, sizeof(*n) * (r->n + 1));
    if (!n)
        abort();
    r->checks = n;
    struct cfg_check *ck = &n[r->n++];
    memset(ck, 0, sizeof(*ck));
    snprintf(ck->target, sizeof(ck->target), "%s", target);
    snprintf(ck->name, sizeof(ck->name), "%s", name);
    ck->severity = sev;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ck->hint, sizeof(ck->hint), fmt, ap);
    va_end(ap);
}

void config_report_release(struct cfg_report *r)
{
    if (!r)
        return;
    free(r->checks);
    r->checks = NULL;
    r->n = 0;
}

/* ---------------------------------------------------------------- probes */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int ms_left(double deadline)
{
    double left = deadline - now_s();
    return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

/* Split http(s)://host[:port][/path] into parts. 0 or -1. */
static int split_url(const char *url, int *tls, char *host, size_t hl, char *port, size_t pl,
                     char *path, size_t pathl)
{
    const char *p;
    if (!strncmp(url, "http://", 7)) {
        *tls = 0;
        p = url + 7;
    } else if (!strncmp(url, "https://", 8)) {
        *tls = 1;
        p = url + 8;
    } else {
        return -1;
    }
    const char *hend;
    const char *hstart = p;
    if (*p == '[') {
        hend = strchr(p, ']');
        if (!hend)
            return -1;
        hstart = p + 1;
        p = hend + 1;
    } else {
        hend = p + strcspn(p, ":/");
        p = hend;
    }
    size_t n = (size_t)(hend - hstart);
    if (n == 0 || n >= hl)
        return -1;
    memcpy(host, hstart, n);
    host[n] = '\0';
    if (*p == ':') {
        p++;
        size_t m = strcspn(p, "/");
        if (m == 0 || m >= pl)
            return -1;
        memcpy(port, p, m);
        port[m] = '\0';
        p += m;
    } else {
        snprintf(port, pl, "%s", *tls ? "443" : "80");
    }
    /* base path without a trailing slash */
    snprintf(path, pathl, "%s", p);
    size_t l = strlen(path);
    while (l > 0 && path[l - 1] == '/')
        path[--l] = '\0';
    return 0;
}

static int connect_deadline(const char *host, const char *port, double deadline, char *hint,
                            size_t len)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(hint, len, "cannot resolve '%s': %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    int last_err = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last_err = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
            last_err = errno;
            close(fd);
            fd = -1;
            continue;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int pr = poll(&pfd, 1, ms_left(deadline));
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (pr <= 0) {
            last_err = pr == 0 ? ETIMEDOUT : errno;
            close(fd);
            fd = -1;
            continue;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            last_err = soerr ? soerr : errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(hint, len, "cannot connect to %s:%s: %s", host, port, strerror(last_err));
    return fd;
}

int config_probe_http_health(const char *url, double timeout_s, char *hint, size_t len)
{
    char host[256], port[16], base[512];
    int tls;
    if (split_url(url, &tls, host, sizeof(host), port, sizeof(port), base, sizeof(base)) != 0) {
        snprintf(hint, len, "'%s' is not an http:// or https:// URL", url);
        return -1;
    }
    if (tls) { /* no TLS client here: a TCP connect is all that is checked */
        int fd = connect_deadline(host, port, now_s() + timeout_s, hint, len);
        if (fd < 0)
            return -1;
        close(fd);
        snprintf(hint, len, "%s:%s accepts connections (TLS not checked)", host, port);
        return 0;
    }
    struct http_request rq = {
        .method = "GET", .url = url, .path = "/health", .timeout_s = timeout_s};
    struct http_response resp;
    char err[400];
    int rc = http_fetch(&rq, &resp, err, sizeof(err));
    int status = resp.status;
    http_response_release(&resp);
    switch (rc) {
    case 0:
        snprintf(hint, len, "GET %s/health answered %d", url, status);
        return status >= 200 && status <= 299 ? 0 : -1;
    case HTTP_ETIMEOUT:
        snprintf(hint, len, "no answer from %s within %gs (GET %s/health)", url, timeout_s, base);
        return -1;
    case HTTP_EMALFORMED:
        snprintf(hint, len, "%s:%s did not answer HTTP to GET %s/health", host, port, base);
        return -1;
    default:
        snprintf(hint, len, "%s", err);
        return -1;
    }
}

static void dir_of(const char *path, char *out, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, len, ".");
    else if (slash == path)
        snprintf(out, len, "/");
    else
        snprintf(out, len, "%.*s", (int)(slash - path), path);
}

static int sqlite_exec_check(sqlite3 *db, const char *sql, const char *path, char *hint, size_t len)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(hint, len, "'%s': %s", path, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* The store's directory is missing: the service creates it (state_make_parent), which
 * works when the nearest existing ancestor is a writable directory. */
static int probe_missing_dir(const char *path, const char *dir, char *hint, size_t len)
{
    char anc[1024];
    struct stat st;
    snprintf(anc, sizeof(anc), "%s", dir);
    while (stat(anc, &st) != 0) {
        char *slash = strrchr(anc, '/');
        if (!slash)
            snprintf(anc, sizeof(anc), ".");
        else if (slash == anc)
            anc[1] = '\0';
        else
            *slash = '\0';
        if (!strcmp(anc, ".") || !strcmp(anc, "/"))
            break;
    }
    if (stat(anc, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(hint, len, "directory '%s' of '%s' does not exist and cannot be created: '%s' is "
                            "not a directory", dir, path, anc);
        return -1;
    }
    if (access(anc, W_OK | X_OK) != 0) {
        snprintf(hint, len, "directory '%s' of '%s' does not exist and cannot be created: '%s' is "
                            "not writable", dir, path, anc);
        return -1;
    }
    snprintf(hint, len, "'%s' will be created, with its directory '%s' (mode 0700)", path, dir);
    return 0;
}

int config_probe_sqlite_writable(const char *path, char *hint, size_t len)
{
    struct stat st;
    if (!strcmp(path, ":memory:")) {
        snprintf(hint, len, "in-memory store: nothing survives a restart");
        return 0;
    }
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
            snprintf(hint, len, "'%s' exists but is not a regular file", path);
            return -1;
        }
        sqlite3 *db = NULL;
        int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
        if (rc != SQLITE_OK) {
            snprintf(hint, len, "cannot open '%s' for writing: %s", path,
                     db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
            sqlite3_close(db);
            return -1;
        }
        sqlite3_busy_timeout(db, 200);
        int bad = sqlite_exec_check(db, "PRAGMA schema_version", path, hint, len) ||
                  sqlite_exec_check(db, "BEGIN IMMEDIATE; ROLLBACK", path, hint, len);
        int busy = bad && (sqlite3_errcode(db) == SQLITE_BUSY || sqlite3_errcode(db) == SQLITE_LOCKED);
        sqlite3_close(db);
        if (busy) {
            /* a running gateway or DAG manager holds its store exclusively */
            snprintf(hint, len, "'%s' is locked: in use by a running service", path);
            return 1;
        }
        if (bad)
            return -1;
        snprintf(hint, len, "'%s' is a writable SQLite database", path);
        return 0;
    }
    if (errno != ENOENT && errno != ENOTDIR) {
        snprintf(hint, len, "cannot stat '%s': %s", path, strerror(errno));
        return -1;
    }
    char dir[1024], scratch[1100];
    dir_of(path, dir, sizeof(dir));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return probe_missing_dir(path, dir, hint, len);
    snprintf(scratch, sizeof(scratch), "%s/.qmtl-probe-%ld.db", dir, (long)getpid());
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(scratch, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    int bad = rc != SQLITE_OK;
    if (bad)
        snprintf(hint, len, "cannot create a database in '%s': %s", dir,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    else
        bad = sqlite_exec_check(db, "CREATE TABLE probe(x); DROP TABLE probe", dir, hint, len);
    sqlite3_close(db);
    unlink(scratch);
    char journal[1200];
    snprintf(journal, sizeof(journal), "%s-journal", scratch);
    unlink(journal);
    if (bad)
        return -1;
    snprintf(hint, len, "'%s' will be created (directory '%s' is writable)", path, dir);
    return 0;
}

enum cfg_severity config_probe_plugins_dir(const char *dir, char *hint, size_t len)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        snprintf(hint, len, "'%s': %s", dir, strerror(errno));
        return CFG_SEV_ERROR;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(hint, len, "'%s' is not a directory", dir);
        return CFG_SEV_ERROR;
    }
    /* the same rule qmtl run applies (host/plugin/loader.h plugin_check_owner) */
    if (st.st_mode & S_IWOTH) {
        snprintf(hint, len, "'%s' is world-writable: anyone could plant a plugin (chmod go-w)",
                 dir);
        return CFG_SEV_ERROR;
    }
    if (st.st_mode & S_IWGRP) {
        snprintf(hint, len, "'%s' is group-writable: qmtl run refuses it (chmod go-w)", dir);
        return CFG_SEV_ERROR;
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        snprintf(hint, len,
                 "'%s' is owned by uid %u, neither this user nor root: qmtl run refuses it", dir,
                 (unsigned)st.st_uid);
        return CFG_SEV_ERROR;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(hint, len, "cannot list '%s': %s", dir, strerror(errno));
        return CFG_SEV_ERROR;
    }
    int n = 0;
    for (struct dirent *de; (de = readdir(d));) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] != '.' && l > 3 && !strcmp(de->d_name + l - 3, ".so"))
            n++;
    }
    closedir(d);
    snprintf(hint, len, "'%s' holds %d plugin(s)", dir, n);
    return CFG_SEV_OK;
}

int config_probe_listen(const char *host, int port, char *hint, size_t len)
{
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE},
                    *res = NULL;
    int gai = getaddrinfo(*host ? host : NULL, ps, &hints, &res);
    if (gai != 0) {
        snprintf(hint, len, "cannot resolve listen address '%s': %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    int rc = -1;
    if (fd < 0) {
        snprintf(hint, len, "cannot create a socket: %s", strerror(errno));
    } else {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, res->ai_addr, res->ai_addrlen) == 0) {
            snprintf(hint, len, "%s:%d is free", host, port);
            rc = 0;
        } else if (errno == EADDRINUSE) {
            snprintf(hint, len, "%s:%d is already in use (a service already running?)", host, port);
            rc = 1;
        } else {
            snprintf(hint, len, "cannot listen on %s:%d: %s", host, port, strerror(errno));
        }
        close(fd);
    }
    freeaddrinfo(res);
    return rc;
}

/* ---------------------------------------------------------------- checks */

#define HINT 400

static void skipped(struct cfg_report *r, const char *target, const char *name)
{
    add(r, target, name, CFG_SEV_WARN, "skipped (--offline)");
}

static void check_listen(struct cfg_report *r, const char *target, const char *host, int port,
                         int offline)
{
    char h[HINT];
    if (offline) {
        skipped(r, target, "listen");
        return;
    }
    if (port == 0) {
        add(r, target, "listen", CFG_SEV_OK, "port 0: any free port is picked at start");
        return;
    }
    int rc = config_probe_listen(host, port, h, sizeof(h));
    add(r, target, "listen",
        rc == 0   ? CFG_SEV_OK
        : rc == 1 ? CFG_SEV_WARN
                  : CFG_SEV_ERROR,
        "%s", h);
}

/* The store a service opens ("" = in the state directory); NULL after reporting why. */
static char *store_of(struct cfg_report *r, const char *target, const char *configured,
                      const char *default_name)
{
    char e[HINT], key[64];
    snprintf(key, sizeof(key), "%s.store_path", target);
    char *p = state_store_path(configured, default_name, key, e, sizeof(e));
    if (!p)
        add(r, target, "store", CFG_SEV_ERROR, "%s", e);
    return p;
}

static void check_store(struct cfg_report *r, const char *target, const char *path, int offline)
{
    char h[HINT];
    if (!path)
        return; /* store_of() said why */
    if (offline) {
        skipped(r, target, "store");
        return;
    }
    int rc = config_probe_sqlite_writable(path, h, sizeof(h));
    add(r, target, "store",
        rc < 0                                 ? CFG_SEV_ERROR
        : rc > 0 || !strcmp(path, ":memory:") ? CFG_SEV_WARN
                                               : CFG_SEV_OK,
        "%s", h);
}

static void check_url(struct cfg_report *r, const char *target, const char *name, const char *url,
                      double timeout, enum cfg_severity on_fail, const char *when_empty,
                      enum cfg_severity empty_sev, int offline)
{
    char h[HINT];
    if (!*url) {
        add(r, target, name, empty_sev, "%s", when_empty);
        return;
    }
    if (offline) {
        skipped(r, target, name);
        return;
    }
    int rc = config_probe_http_health(url, timeout, h, sizeof(h));
    add(r, target, name, rc == 0 ? CFG_SEV_OK : on_fail, "%s", h);
}

static void check_gateway(const struct qmtl_config *c, struct cfg_report *r, int offline)
{
    const struct cfg_gateway *g = &c->gateway;
    double t = config_budgets(c)->http_timeout_s;
    check_listen(r, "gateway", g->host, g->port, offline);
    char *store = store_of(r, "gateway", g->store_path, "gateway.db");
    check_store(r, "gateway", store, offline);
    free(store);
    check_url(r, "gateway", "dagmanager", g->dagmanager_url, t, CFG_SEV_WARN,
              "no dagmanager_url: the gateway runs degraded (no queue registry)", CFG_SEV_WARN,
              offline);
    if (!*g->event_secret)
        add(r, "gateway", "event_secret", CFG_SEV_WARN,
            "empty: a random secret is made at start, so stream tokens die with the process "
            "(set QMTL_EVENT_SECRET)");
    else if (strlen(g->event_secret) < 16)
        add(r, "gateway", "event_secret", CFG_SEV_WARN, "shorter than 16 bytes");
    else
        add(r, "gateway", "event_secret", CFG_SEV_OK, "set");
    /* empty is a choice (signed fills refused); a short key is guessable */
    if (*g->fill_secret && strlen(g->fill_secret) < 16)
        add(r, "gateway", "fill_secret", CFG_SEV_WARN, "shorter than 16 bytes");
    /* one line for the four credentials (docs/operations.md, "Security model") */
    const struct {
        const char *key, *value;
    } creds[] = {{"operator_token", g->operator_token},
                 {"submit_token", g->submit_token},
                 {"host_token", g->host_token},
                 {"connector_token", g->connector_token}};
    char empty[128] = "";
    int any = 0;
    for (size_t i = 0; i < sizeof(creds) / sizeof(creds[0]); i++) {
        size_t n = strlen(empty);
        any |= *creds[i].value != '\0';
        if (!*creds[i].value)
            snprintf(empty + n, sizeof(empty) - n, "%s%s", n ? ", " : "", creds[i].key);
    }
    if (g->insecure_allow_anonymous && !bearer_host_is_loopback(g->host))
        add(r, "gateway", "credentials", CFG_SEV_ERROR,
            "insecure_allow_anonymous with host '%s', not a loopback address: the gateway "
            "refuses to start",
            g->host);
    else if (g->insecure_allow_anonymous)
        add(r, "gateway", "credentials", CFG_SEV_WARN,
            "insecure_allow_anonymous: requests without a token hold every credential");
    else if (!any)
        add(r, "gateway", "credentials", CFG_SEV_WARN,
            "no token set: the gateway refuses to start (see docs/operations.md, Security "
            "model)");
    else if (*empty)
        add(r, "gateway", "credentials", CFG_SEV_WARN, "empty (their routes refuse): %s", empty);
    else
        add(r, "gateway", "credentials", CFG_SEV_OK, "operator, submitter, host, connector set");
}

static void check_dagmanager(const struct qmtl_config *c, struct cfg_report *r, int offline)
{
    const struct cfg_dagmanager *d = &c->dagmanager;
    double t = config_budgets(c)->http_timeout_s;
    if (d->port != 0 && d->port == c->gateway.port && !strcmp(d->host, c->gateway.host))
        add(r, "dagmanager", "port", CFG_SEV_ERROR, "same host:port as the gateway (%s:%d)",
            d->host, d->port);
    else
        check_listen(r, "dagmanager", d->host, d->port, offline);
    char e[HINT];
    char *store = store_of(r, "dagmanager", d->store_path, "dagmanager.db");
    char *gw = state_store_path(c->gateway.store_path, "gateway.db", "gateway.store_path", e,
                                sizeof(e));
    if (store && gw && strcmp(store, ":memory:") && !strcmp(store, gw))
        add(r, "dagmanager", "store", CFG_SEV_ERROR,
            "store_path '%s' is also the gateway's store_path", store);
    else
        check_store(r, "dagmanager", store, offline);
    free(store);
    free(gw);
    check_url(r, "dagmanager", "gateway", d->gateway_url, t, CFG_SEV_WARN,
              "no gateway_url: no callbacks to a gateway", CFG_SEV_OK, offline);
    if (d->insecure_allow_anonymous && !bearer_host_is_loopback(d->host))
        add(r, "dagmanager", "token", CFG_SEV_ERROR,
            "insecure_allow_anonymous with host '%s', not a loopback address: the DAG "
            "manager refuses to start",
            d->host);
    else if (!*d->token && !d->insecure_allow_anonymous)
        add(r, "dagmanager", "token", CFG_SEV_WARN,
            "empty: the DAG manager refuses to start (set it and gateway.dagmanager_token)");
}

static void check_host(const struct qmtl_config *c, struct cfg_report *r, int offline)
{
    const struct cfg_host *h = &c->host;
    char hint[HINT];
    if (offline) {
        skipped(r, "host", "plugins_dir");
    } else {
        enum cfg_severity s = config_probe_plugins_dir(h->plugins_dir, hint, sizeof(hint));
        add(r, "host", "plugins_dir", s, "%s", hint);
    }
    if (h->n_data == 0)
        add(r, "host", "data", CFG_SEV_WARN,
            "no data sources configured (use --data or host.data)");
    for (size_t i = 0; i < h->n_data; i++) {
        const struct cfg_data_source *d = &h->data[i];
        char name[40];
        snprintf(name, sizeof(name), "data[%zu]", i);
        if (*d->synthetic) {
            add(r, "host", name, CFG_SEV_OK, "synthetic %s, %ld bars of %llds", d->synthetic,
                d->count, (long long)d->interval_s);
        } else if (*d->live) {
            add(r, "host", name, CFG_SEV_OK, "live input %s", d->live);
        } else if (offline) {
            skipped(r, "host", name);
        } else {
            struct stat st;
            if (stat(d->path, &st) != 0)
                add(r, "host", name, CFG_SEV_ERROR, "'%s': %s", d->path, strerror(errno));
            else if (!S_ISREG(st.st_mode))
                add(r, "host", name, CFG_SEV_ERROR, "'%s' is not a regular file", d->path);
            else if (access(d->path, R_OK) != 0)
                add(r, "host", name, CFG_SEV_ERROR, "'%s' is not readable", d->path);
            else
                add(r, "host", name, CFG_SEV_OK, "'%s' (%lld bytes)", d->path,
                    (long long)st.st_size);
        }
    }
    if (*h->world_id && !*h->gateway_url) {
        add(r, "host", "gateway", CFG_SEV_ERROR, "world_id '%s' is set but gateway_url is empty",
            h->world_id);
        return;
    }
    check_url(r, "host", "gateway", h->gateway_url, config_budgets(c)->http_timeout_s,
              CFG_SEV_ERROR, "offline (no gateway_url)", CFG_SEV_OK, offline);
    if (*h->gateway_url && !*h->world_id)
        add(r, "host", "world_id", CFG_SEV_WARN, "gateway_url is set but world_id is empty");
}

enum cfg_severity config_check(const struct qmtl_config *c, unsigned targets, int offline,
                               struct cfg_report *r)
{
    memset(r, 0, sizeof(*r));
    add(r, "config", "source", CFG_SEV_OK, "%s",
        c->source_path ? c->source_path : "built-in defaults (no qmtl.yml found)");
    for (size_t i = 0; i < c->n_warnings; i++) {
        char name[40];
        snprintf(name, sizeof(name), "warning[%zu]", i);
        add(r, "config", name, CFG_SEV_WARN, "%s", c->warnings[i]);
    }
    if (c->test.test_mode)
        add(r, "config", "test_mode", CFG_SEV_WARN, "test mode is on: short test budgets in use");
    if (targets & CFG_TARGET_GATEWAY)
        check_gateway(c, r, offline);
    if (targets & CFG_TARGET_DAGMANAGER)
        check_dagmanager(c, r, offline);
    if (targets & CFG_TARGET_HOST)
        check_host(c, r, offline);
    enum cfg_severity worst = CFG_SEV_OK;
    for (size_t i = 0; i < r->n; i++)
        if (r->checks[i].severity > worst)
            worst = r->checks[i].severity;
    return worst;
}
