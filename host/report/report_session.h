/*
 * report_session: the summary of an attached run (the control session's figures,
 * host/online/session.h), printed after the offline report (host/report/report.h).
 */
#ifndef QMTL_HOST_REPORT_SESSION_H
#define QMTL_HOST_REPORT_SESSION_H

#include <jansson.h>
#include <stdio.h>

#include "host/online/session.h"

/* "gate: N order(s) sent, M blocked by the gate (domain D[, safe_mode: R])", then (when
 * live orders were made) "live orders: N sent to the gateway, R refused by its gate, F
 * failed", then the gateway line. */
void report_session_text(FILE *out, const struct session_stats *s);
/* The same as a JSON object (new reference). */
json_t *report_session_json(const struct session_stats *s);

#endif
