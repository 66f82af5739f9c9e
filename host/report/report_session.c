/* report_session: the attached run's summary lines and JSON (see report_session.h). */
#include "host/report/report_session.h"

void report_session_text(FILE *out, const struct session_stats *s)
{
    fprintf(out, "gate: %ld order(s) sent, %ld blocked by the gate (domain %s%s%s)\n",
            s->orders_sent, s->orders_blocked, s->domain, s->safe_mode ? ", safe_mode: " : "",
            s->safe_mode && s->reason ? s->reason : "");
    if (s->orders_live)
        fprintf(out, "live orders: %ld sent to the gateway, %ld refused by its gate, %ld failed\n",
                s->orders_live - s->orders_refused - s->orders_failed, s->orders_refused,
                s->orders_failed);
    if (s->fills_received || s->fills_repeated || s->rebuilt_fills || s->rebuilt_open ||
        s->orders_held)
        fprintf(out,
                "fills: %ld from the gateway (%ld repeated); book rebuilt with %ld fill(s) and "
                "%ld open order(s); %ld order(s) held back (sent before the restart)\n",
                s->fills_received, s->fills_repeated, s->rebuilt_fills, s->rebuilt_open,
                s->orders_held);
    fprintf(out,
            "gateway: %d strateg%s submitted, %d refused; %ld stream connect(s), %ld "
            "disconnect(s), %ld activation update(s) applied%s\n",
            s->submitted, s->submitted == 1 ? "y" : "ies", s->refused, s->connects, s->disconnects,
            s->events_applied, s->interrupted ? "; interrupted" : "");
}

json_t *report_session_json(const struct session_stats *s)
{
    json_t *j = json_pack(
        "{ss sb so sI sI sI sI sI si si sI sI sI sb}", "domain", s->domain, "safe_mode",
        s->safe_mode, "downgrade_reason", s->reason ? json_string(s->reason) : json_null(),
        "orders_sent", (json_int_t)s->orders_sent, "orders_blocked", (json_int_t)s->orders_blocked,
        "orders_live", (json_int_t)s->orders_live, "orders_refused", (json_int_t)s->orders_refused,
        "orders_failed", (json_int_t)s->orders_failed, "submitted", s->submitted, "refused",
        s->refused, "connects", (json_int_t)s->connects, "disconnects", (json_int_t)s->disconnects,
        "activation_updates", (json_int_t)s->events_applied, "interrupted", s->interrupted);
    json_t *f = json_pack("{sI sI sI sI sI}", "received", (json_int_t)s->fills_received,
                          "repeated", (json_int_t)s->fills_repeated, "rebuilt_fills",
                          (json_int_t)s->rebuilt_fills, "rebuilt_open_orders",
                          (json_int_t)s->rebuilt_open, "orders_held", (json_int_t)s->orders_held);
    if (j && f)
        json_object_set_new(j, "fills", f);
    else
        json_decref(f);
    return j;
}
