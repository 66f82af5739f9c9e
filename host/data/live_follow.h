/*
 * live_follow: a CSV file followed as it grows ('follow:PATH' inputs, host/data/live_in.h).
 *
 * The file is read from its start (its first line is the header, host/data/csv.h format), then
 * watched: every LIVE_FOLLOW_POLL_MS the new complete lines are read (a last line without
 * its newline waits for it). Rotation as 'tail -F' survives it:
 *  - renamed away and a new file created under the path: the old file is read to its end,
 *    then the new one from its start (a new header);
 *  - truncated in place (copytruncate): read again from the start (a new header);
 *  - the path missing for a while: the open file is kept and the path tried again.
 * Rows going back in time are passed on (the runtime's late-data policy decides). Bad rows
 * are counted and logged with the file's line number (live_in_bad_line_).
 */
#ifndef QMTL_HOST_LIVE_FOLLOW_H
#define QMTL_HOST_LIVE_FOLLOW_H

#include <stddef.h>

#include "host/data/live_in.h"

#define LIVE_FOLLOW_POLL_MS 100

struct live_follow;

/* Open 'path' (it must exist now) and start following it on li's loop. 'name' is the
 * source's spec (copied), tags are copied. NULL with err set. */
struct live_follow *live_follow_new(struct live_in *li, const char *name, const char *path,
                                    const char *const *tags, size_t n_tags, unsigned flags,
                                    char *err, size_t errlen);

/* Read again now (after the host stopped being behind). */
void live_follow_kick(struct live_follow *f);

/* NULL is a no-op. */
void live_follow_free(struct live_follow *f);

#endif
