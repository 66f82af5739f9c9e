/* risk: pre-trade limits of one strategy (see risk.h). */
#include "host/orders/risk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int risk_init(struct risk *r, const struct risk_limits *lim)
{
    memset(r, 0, sizeof(*r));
    if (lim)
        r->lim = *lim;
    r->day = -1;
    if (r->lim.max_orders_per_minute > 0 &&
        !(r->sent = calloc((size_t)r->lim.max_orders_per_minute, sizeof(*r->sent))))
        return -1;
    return 0;
}

void risk_release(struct risk *r)
{
    free(r->sent);
    memset(r, 0, sizeof(*r));
}

const char *risk_reason_name(int reason)
{
    static const char *const names[RISK_N] = {
        "ok",       "max_position",          "max_position_notional", "max_order_notional",
        "max_orders_per_minute", "max_daily_loss", "kill_switch"};
    return reason >= 0 && reason < RISK_N ? names[reason] : "?";
}

int risk_limit_set(struct risk_limits *lim, const char *key, const char *value)
{
    char *end;
    double v = value ? strtod(value, &end) : NAN;
    if (!value || end == value || *end || !isfinite(v) || v < 0)
        return -1;
    if (!strcmp(key, "max_position"))
        lim->max_position = v;
    else if (!strcmp(key, "max_position_notional"))
        lim->max_position_notional = v;
    else if (!strcmp(key, "max_order_notional"))
        lim->max_order_notional = v;
    else if (!strcmp(key, "max_orders_per_minute") && v <= 1000000)
        lim->max_orders_per_minute = (long)v;
    else if (!strcmp(key, "max_daily_loss"))
        lim->max_daily_loss = v;
    else
        return -1;
    return 0;
}

/* Orders sent in (ts - 60, ts]. */
static size_t recent(const struct risk *r, int64_t ts)
{
    size_t n = 0, cap = (size_t)r->lim.max_orders_per_minute;
    for (size_t i = 0; i < r->n_sent; i++)
        if (r->sent[(r->head + cap - 1 - i) % cap] > ts - 60)
            n++;
    return n;
}

static int refuse(struct risk *r, int reason)
{
    r->rejected[reason]++;
    return reason;
}

int risk_check(struct risk *r, double pos, double delta, double price, int64_t ts, int killed)
{
    if (killed)
        return refuse(r, RISK_KILL_SWITCH);
    if (r->breached)
        return refuse(r, RISK_MAX_DAILY_LOSS);
    const struct risk_limits *l = &r->lim;
    double after = pos + delta;
    int grows = fabs(after) > fabs(pos);
    if (grows && l->max_position > 0 && fabs(after) > l->max_position)
        return refuse(r, RISK_MAX_POSITION);
    if (grows && l->max_position_notional > 0 && fabs(after) * price > l->max_position_notional)
        return refuse(r, RISK_MAX_POSITION_NOTIONAL);
    if (l->max_order_notional > 0 && fabs(delta) * price > l->max_order_notional)
        return refuse(r, RISK_MAX_ORDER_NOTIONAL);
    if (l->max_orders_per_minute > 0 && recent(r, ts) >= (size_t)l->max_orders_per_minute)
        return refuse(r, RISK_MAX_ORDERS_PER_MINUTE);
    return RISK_OK;
}

void risk_sent(struct risk *r, int64_t ts)
{
    size_t cap = (size_t)r->lim.max_orders_per_minute;
    if (!cap || !r->sent)
        return;
    r->sent[r->head] = ts;
    r->head = (r->head + 1) % cap;
    if (r->n_sent < cap)
        r->n_sent++;
}

int risk_mark(struct risk *r, int64_t ts, double equity)
{
    int64_t day = ts >= 0 ? ts / 86400 : -1 - (-ts - 1) / 86400;
    if (day != r->day) {
        r->day = day;
        r->day_start = equity;
    }
    if (r->breached || !(r->lim.max_daily_loss > 0))
        return 0;
    if (r->day_start - equity > r->lim.max_daily_loss) {
        r->breached = 1;
        return 1;
    }
    return 0;
}
