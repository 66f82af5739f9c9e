/* dm_streams: a diff's streams checked and created in parallel (see dm_streams.h). */
#include "dagmanager/dm_streams.h"

#include "bus_nats.h"
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct job {
    struct bus_conn *bus;
    const char *topic;
    int64_t max_age_s;
    int created, rc, threaded;
    pthread_t th;
    char err[400];
};

static void *run(void *arg)
{
    struct job *j = arg;
    j->rc =
        bus_conn_ensure_stream(j->bus, j->topic, j->max_age_s, &j->created, j->err, sizeof(j->err));
    return NULL;
}

int dm_streams_ensure(struct bus_conn *bus, const char *const *topics, size_t n, int64_t max_age_s,
                      unsigned long *created, char *err, size_t errlen)
{
    struct job one, *jobs = n > 1 ? calloc(n, sizeof(*jobs)) : &one;
    if (!jobs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t first = 0; first < n; first += DM_STREAMS_PARALLEL) {
        size_t end = first + DM_STREAMS_PARALLEL < n ? first + DM_STREAMS_PARALLEL : n;
        for (size_t i = first; i < end; i++) {
            jobs[i] = (struct job){.bus = bus, .topic = topics[i], .max_age_s = max_age_s};
            /* the last one (or one without a thread) runs here */
            jobs[i].threaded = i + 1 < end && pthread_create(&jobs[i].th, NULL, run, &jobs[i]) == 0;
            if (!jobs[i].threaded)
                run(&jobs[i]);
        }
        for (size_t i = first; i < end; i++)
            if (jobs[i].threaded)
                pthread_join(jobs[i].th, NULL);
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (jobs[i].created) {
            (*created)++;
            LOG_INFO("dm-bus", "stream for queue '%s' created", jobs[i].topic);
        }
        if (jobs[i].rc < 0 && rc == 0) {
            snprintf(err, errlen, "%s", jobs[i].err);
            rc = -1;
        }
    }
    if (jobs != &one)
        free(jobs);
    return rc;
}
