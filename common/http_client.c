/* http_client: see http_client.h. */
#include "http_client.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int http_url_parse(const char *url, struct http_url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof(*u));
    if (!url || strncasecmp(url, "http://", 7) != 0) {
        snprintf(err, errlen, "bad URL '%s': only http://host[:port][/path] is supported",
                 url ? url : "");
        return -1;
    }
    const char *p = url + 7, *hend;
    if (*p == '[') { /* [v6]:port */
        hend = strchr(p, ']');
        if (!hend || (size_t)(hend - p - 1) >= sizeof(u->host) || hend == p + 1)
            goto bad;
        memcpy(u->host, p + 1, (size_t)(hend - p - 1));
        p = hend + 1;
    } else {
        hend = p + strcspn(p, ":/?#");
        if (hend == p || (size_t)(hend - p) >= sizeof(u->host))
            goto bad;
        memcpy(u->host, p, (size_t)(hend - p));
        p = hend;
    }
    u->port = 80;
    if (*p == ':') {
        char *end = NULL;
        errno = 0;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || errno || port < 1 || port > 65535 || (*end && *end != '/'))
            goto bad;
        u->port = (int)port;
        p = end;
    }
    if (*p && *p != '/')
        goto bad;
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    if (n == 0) {
        strcpy(u->path, "/");
    } else {
        if (n >= sizeof(u->path))
            goto bad;
        memcpy(u->path, p, n);
        u->path[n] = '\0';
    }
    return 0;
bad:
    snprintf(err, errlen, "bad URL '%s': expected http://host[:port][/path]", url);
    return -1;
}

int http_url_escape(const char *s, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = strlen(out);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        int plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                    (*c >= '0' && *c <= '9') || strchr("-._~:@!$'()*,;", *c);
        size_t need = plain ? 1 : 3;
        if (o + need >= outlen)
            return -1;
        if (plain) {
            out[o++] = (char)*c;
        } else {
            out[o++] = '%';
            out[o++] = hex[*c >> 4];
            out[o++] = hex[*c & 15];
        }
        out[o] = '\0';
    }
    return 0;
}

/* ------------------------------------------------------------------ clock */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct conn {
    int fd;
    double deadline;
    double budget;
    char *buf; /* received, not yet consumed: buf[off..len) */
    size_t off, len, cap;
    int eof;
    char *err;
    size_t errlen;
};

static int timeout_ms(const struct conn *c)
{
    double left = c->deadline - now_s();
    if (left <= 0)
        return 0;
    return (int)(left * 1000.0) + 1;
}

static int timed_out(struct conn *c)
{
    snprintf(c->err, c->errlen, "timed out after %.1f s", c->budget);
    return HTTP_ETIMEOUT;
}

/* Wait for events on the socket within the budget: 0 ready, HTTP_E* otherwise. */
static int wait_fd(struct conn *c, short events)
{
    for (;;) {
        int ms = timeout_ms(c);
        if (ms <= 0)
            return timed_out(c);
        struct pollfd pfd = {.fd = c->fd, .events = events};
        int r = poll(&pfd, 1, ms);
        if (r > 0)
            return 0;
        if (r == 0)
            return timed_out(c);
        if (errno != EINTR) {
            snprintf(c->err, c->errlen, "poll failed: %s", strerror(errno));
            return HTTP_EIO;
        }
    }
}

static int conn_open(struct conn *c, const struct http_url *u)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", u->port);
    int gai = getaddrinfo(u->host, portstr, &hints, &res);
    if (gai != 0 || !res) {
        snprintf(c->err, c->errlen, "cannot connect to %s:%d: %s", u->host, u->port,
                 gai_strerror(gai));
        return HTTP_ECONNECT;
    }
    int rc = HTTP_ECONNECT;
    int last_errno = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                        ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        c->fd = fd;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            rc = 0;
            break;
        }
        if (errno == EINPROGRESS) {
            int w = wait_fd(c, POLLOUT);
            if (w == HTTP_ETIMEOUT) {
                rc = w;
                close(fd);
                c->fd = -1;
                break;
            }
            int soerr = 0;
            socklen_t sl = sizeof(soerr);
            if (w == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0) {
                rc = 0;
                break;
            }
            last_errno = soerr ? soerr : errno;
        } else {
            last_errno = errno;
        }
        close(fd);
        c->fd = -1;
    }
    freeaddrinfo(res);
    if (rc == HTTP_ECONNECT)
        snprintf(c->err, c->errlen, "cannot connect to %s:%d: %s", u->host, u->port,
                 strerror(last_errno));
    return rc;
}

static int send_all(struct conn *c, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = send(c->fd, data, n, MSG_NOSIGNAL);
        if (w > 0) {
            data += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = wait_fd(c, POLLOUT);
            if (rc)
                return rc;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        snprintf(c->err, c->errlen, "cannot send the request: %s", strerror(errno));
        return HTTP_EIO;
    }
    return 0;
}

/* Read more bytes into the buffer: 0 got some (or EOF, see c->eof), HTTP_E* otherwise. */
static int fill(struct conn *c)
{
    if (c->off > 0 && c->off == c->len)
        c->off = c->len = 0;
    if (c->cap - c->len < 4096) {
        if (c->off > 0) {
            memmove(c->buf, c->buf + c->off, c->len - c->off);
            c->len -= c->off;
            c->off = 0;
        }
        if (c->cap - c->len < 4096) {
            size_t ncap = c->cap ? c->cap * 2 : 16384;
            char *nb = realloc(c->buf, ncap);
            if (!nb) {
                snprintf(c->err, c->errlen, "out of memory");
                return HTTP_EIO;
            }
            c->buf = nb;
            c->cap = ncap;
        }
    }
    for (;;) {
        ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (r > 0) {
            c->len += (size_t)r;
            return 0;
        }
        if (r == 0) {
            c->eof = 1;
            return 0;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int rc = wait_fd(c, POLLIN);
            if (rc)
                return rc;
            continue;
        }
        if (errno == EINTR)
            continue;
        snprintf(c->err, c->errlen, "cannot read the response: %s", strerror(errno));
        return HTTP_EIO;
    }
}

static int malformed(struct conn *c, const char *what)
{
    snprintf(c->err, c->errlen, "malformed response: %s", what);
    return HTTP_EMALFORMED;
}

/* Next line (without CRLF/LF) as a pointer into the buffer, NUL-terminated in place. */
static int read_line(struct conn *c, char **line, size_t limit, const char *where)
{
    size_t scanned = 0;
    for (;;) {
        char *start = c->buf ? c->buf + c->off : NULL;
        size_t avail = c->len - c->off;
        char *nl = start ? memchr(start + scanned, '\n', avail - scanned) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - start);
            if (n > 0 && start[n - 1] == '\r')
                start[n - 1] = '\0';
            *nl = '\0';
            c->off += n + 1;
            *line = start;
            return 0;
        }
        scanned = avail;
        if (avail > limit) {
            char msg[120];
            snprintf(msg, sizeof(msg), "%s longer than %zu bytes", where, limit);
            return malformed(c, msg);
        }
        if (c->eof) {
            char msg[120];
            snprintf(msg, sizeof(msg), "connection closed in the %s", where);
            return malformed(c, msg);
        }
        int rc = fill(c);
        if (rc)
            return rc;
    }
}

struct body {
    char *data;
    size_t len, cap;
};

static int body_add(struct conn *c, struct body *b, const char *p, size_t n)
{
    if (b->len + n > HTTP_MAX_BODY_BYTES)
        return malformed(c, "body larger than 64 MiB");
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 4096;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        char *nd = realloc(b->data, ncap);
        if (!nd) {
            snprintf(c->err, c->errlen, "out of memory");
            return HTTP_EIO;
        }
        b->data = nd;
        b->cap = ncap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

/* Move exactly n bytes of body (or until EOF when n == SIZE_MAX). */
static int read_body_bytes(struct conn *c, struct body *b, size_t n, const char *what)
{
    size_t want = n;
    while (n > 0) {
        size_t avail = c->len - c->off;
        if (avail > 0) {
            size_t take = avail < n ? avail : n;
            int rc = body_add(c, b, c->buf + c->off, take);
            if (rc)
                return rc;
            c->off += take;
            if (n != SIZE_MAX)
                n -= take;
            continue;
        }
        if (c->eof) {
            if (n == SIZE_MAX)
                return 0;
            char msg[160];
            snprintf(msg, sizeof(msg), "connection closed after %zu of %zu %s bytes",
                     want - n, want, what);
            return malformed(c, msg);
        }
        int rc = fill(c);
        if (rc)
            return rc;
    }
    return 0;
}

static int read_chunked(struct conn *c, struct body *b)
{
    for (;;) {
        char *line;
        int rc = read_line(c, &line, 1024, "chunk size line");
        if (rc)
            return rc;
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(line, &end, 16);
        if (end == line || errno || (*end && *end != ';' && *end != ' ' && *end != '\t'))
            return malformed(c, "bad chunk size line");
        if (n > HTTP_MAX_BODY_BYTES)
            return malformed(c, "body larger than 64 MiB");
        if (n == 0)
            break;
        rc = read_body_bytes(c, b, (size_t)n, "chunk");
        if (rc)
            return rc;
        rc = read_line(c, &line, 2, "chunk terminator");
        if (rc)
            return rc;
        if (*line)
            return malformed(c, "chunk not followed by CRLF");
    }
    /* trailers until the empty line */
    for (;;) {
        char *line;
        int rc = read_line(c, &line, HTTP_MAX_HEADER_BYTES, "chunked trailer");
        if (rc)
            return rc;
        if (!*line)
            return 0;
    }
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static int read_response(struct conn *c, const char *method, struct http_response *resp)
{
    char *line;
    int rc = read_line(c, &line, 8192, "status line");
    if (rc)
        return rc;
    int major = 0, minor = 0, status = 0, used = 0;
    if (sscanf(line, "HTTP/%1d.%1d %3d%n", &major, &minor, &status, &used) != 3 || major != 1 ||
        status < 100 || status > 999 || (line[used] && line[used] != ' ')) {
        char msg[120];
        snprintf(msg, sizeof(msg), "bad status line '%.60s'", line);
        return malformed(c, msg);
    }
    resp->status = status;
    long long clen = -1;
    int chunked = 0;
    size_t header_bytes = 0;
    for (;;) {
        rc = read_line(c, &line, HTTP_MAX_HEADER_BYTES, "headers");
        if (rc)
            return rc;
        header_bytes += strlen(line) + 2;
        if (header_bytes > HTTP_MAX_HEADER_BYTES)
            return malformed(c, "headers longer than 64 KiB");
        if (!*line)
            break;
        char *colon = strchr(line, ':');
        if (!colon || colon == line) {
            char msg[120];
            snprintf(msg, sizeof(msg), "bad header line '%.60s'", line);
            return malformed(c, msg);
        }
        *colon = '\0';
        char *value = trim(colon + 1);
        if (strcasecmp(line, "Content-Length") == 0) {
            char *end = NULL;
            errno = 0;
            long long v = strtoll(value, &end, 10);
            if (end == value || *end || errno || v < 0 || (clen >= 0 && v != clen))
                return malformed(c, "bad Content-Length");
            if ((unsigned long long)v > HTTP_MAX_BODY_BYTES)
                return malformed(c, "body larger than 64 MiB");
            clen = v;
        } else if (strcasecmp(line, "Transfer-Encoding") == 0) {
            if (strcasecmp(value, "chunked") != 0)
                return malformed(c, "unsupported Transfer-Encoding");
            chunked = 1;
        } else if (strcasecmp(line, "ETag") == 0) {
            free(resp->etag);
            resp->etag = strdup(value);
        } else if (strcasecmp(line, "Content-Type") == 0) {
            free(resp->content_type);
            resp->content_type = strdup(value);
        }
    }
    struct body b = {0};
    if (strcmp(method, "HEAD") == 0 || status == 204 || status == 304 ||
        (status >= 100 && status < 200))
        rc = 0;
    else if (chunked)
        rc = read_chunked(c, &b);
    else if (clen >= 0)
        rc = read_body_bytes(c, &b, (size_t)clen, "body");
    else
        rc = read_body_bytes(c, &b, SIZE_MAX, "body");
    if (rc == 0 && !b.data)
        rc = body_add(c, &b, "", 0);
    if (rc) {
        free(b.data);
        return rc;
    }
    resp->body = b.data;
    resp->body_len = b.len;
    return 0;
}

int http_fetch(const struct http_request *rq, struct http_response *resp, char *err,
               size_t errlen)
{
    memset(resp, 0, sizeof(*resp));
    struct http_url u;
    if (http_url_parse(rq->url, &u, err, errlen) < 0)
        return HTTP_EURL;
    double budget = rq->timeout_s > 0 ? rq->timeout_s : 2.0;
    struct conn c = {.fd = -1, .budget = budget, .deadline = now_s() + budget, .err = err,
                     .errlen = errlen};
    /* request head */
    const char *sub = rq->path ? rq->path : "";
    char *head = NULL;
    size_t headlen = 0;
    FILE *f = open_memstream(&head, &headlen);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return HTTP_EIO;
    }
    const char *base = strcmp(u.path, "/") == 0 && *sub ? "" : u.path;
    int v6 = strchr(u.host, ':') != NULL;
    fprintf(f, "%s %s%s HTTP/1.1\r\nHost: %s%s%s:%d\r\nConnection: close\r\n"
               "Accept: application/json\r\nUser-Agent: qmtl\r\n",
            rq->method, base, sub, v6 ? "[" : "", u.host, v6 ? "]" : "", u.port);
    for (const char *const *h = rq->headers; h && *h; h++)
        fprintf(f, "%s\r\n", *h);
    if (rq->body)
        fprintf(f, "Content-Type: application/json\r\nContent-Length: %zu\r\n", rq->body_len);
    else if (strcmp(rq->method, "POST") == 0 || strcmp(rq->method, "PUT") == 0)
        fprintf(f, "Content-Length: 0\r\n");
    fputs("\r\n", f);
    if (fclose(f) != 0) {
        free(head);
        snprintf(err, errlen, "out of memory");
        return HTTP_EIO;
    }
    int rc = conn_open(&c, &u);
    if (rc == 0)
        rc = send_all(&c, head, headlen);
    if (rc == 0 && rq->body && rq->body_len)
        rc = send_all(&c, rq->body, rq->body_len);
    free(head);
    if (rc == 0) {
        rc = read_response(&c, rq->method, resp);
    } else if (rc == HTTP_EIO) {
        /* The peer may have answered early (e.g. 413) and closed: prefer its answer. */
        char keep[256];
        snprintf(keep, sizeof(keep), "%s", err);
        if (read_response(&c, rq->method, resp) == 0)
            rc = 0;
        else
            snprintf(err, errlen, "%s", keep);
    }
    if (c.fd >= 0)
        close(c.fd);
    free(c.buf);
    if (rc)
        http_response_release(resp);
    return rc;
}

void http_response_release(struct http_response *resp)
{
    if (!resp)
        return;
    free(resp->etag);
    free(resp->content_type);
    free(resp->body);
    memset(resp, 0, sizeof(*resp));
}

int http_parse_response(const char *data, size_t len, const char *method,
                        struct http_response *resp, char *err, size_t errlen)
{
    memset(resp, 0, sizeof(*resp));
    /* The whole input is already "received" and the peer has closed: fill() is never
     * reached because every reader checks eof before asking for more. */
    struct conn c = {.fd = -1, .eof = 1, .err = err, .errlen = errlen, .budget = 0};
    c.buf = malloc(len + 1);
    if (!c.buf) {
        snprintf(err, errlen, "out of memory");
        return HTTP_EIO;
    }
    if (len)
        memcpy(c.buf, data, len);
    c.len = len;
    c.cap = len + 1;
    int rc = read_response(&c, method ? method : "GET", resp);
    free(c.buf);
    if (rc)
        http_response_release(resp);
    return rc;
}
