/*
 * live_nats_pub: a publisher of line-JSON messages on the subject of a NATS input spec
 * (host/data/live_nats.h): 'qmtl feed --to nats://HOST:PORT/SUBJECT' and the tests. Core
 * NATS publishes (a stream capturing the subject stores them); the spec's ?stream and
 * ?durable options are for readers and ignored here.
 */
#ifndef QMTL_HOST_LIVE_NATS_PUB_H
#define QMTL_HOST_LIVE_NATS_PUB_H

#include <stddef.h>

struct live_nats_pub;

/* Connect to the server of 'spec' (nats://HOST:PORT/SUBJECT). NULL with err. */
struct live_nats_pub *live_nats_pub_new(const char *spec, char *err, size_t errlen);

/* Publish 'len' bytes (whole lines) as one message on the subject. 0, or -1 with err. */
int live_nats_pub_send(struct live_nats_pub *p, const char *data, size_t len, char *err,
                       size_t errlen);

/* Wait (2 s at most) until the server has every message, close, free. 0, or -1 with err
 * (still freed). NULL: 0. */
int live_nats_pub_close(struct live_nats_pub *p, char *err, size_t errlen);

#endif
