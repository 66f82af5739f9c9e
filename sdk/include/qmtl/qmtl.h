/*
 * qmtl.h: the one header a strategy author includes.
 *
 * A strategy is a shared object that exports one data symbol, the descriptor
 * 'qmtl_plugin_descriptor', filled with the QMTL_PLUGIN() macro:
 *
 *     #include <qmtl/qmtl.h>
 *
 *     static int setup(struct qmtl_ctx *ctx, const struct qmtl_host *h, struct qmtl_err *err)
 *     {
 *         const char *tags[] = {"BTC", NULL};
 *         qmtl_node px = h->stream_input(ctx, &(struct qmtl_stream_spec){
 *             QMTL_SPEC(qmtl_stream_spec), .tags = tags, .interval = "1m", .period = 1}, err);
 *         if (px < 0) return px;
 *         ...
 *         return QMTL_OK;
 *     }
 *     QMTL_PLUGIN(.name = "my_strategy", .version = "1.0.0", .setup = setup);
 *
 * and is built with:  cc -shared -fPIC -fvisibility=hidden -Wl,-z,defs -o s.so s.c
 * (no host library is linked: every host service comes through 'struct qmtl_host').
 *
 * Versioning (see docs/plugin-abi.md):
 *  - Every struct that crosses the boundary starts with its 'size' (the descriptor
 *    with magic, abi_major, abi_minor, size). Fields are only ever appended; each
 *    append bumps QMTL_ABI_MINOR. Removing, reordering or retyping a field bumps
 *    QMTL_ABI_MAJOR.
 *  - The host refuses a plugin of another major or of a newer minor than its own,
 *    before running any plugin code. A plugin tests for newer host services with
 *    QMTL_HOST_HAS(host, field).
 *  - A struct the plugin passes in with a smaller 'size' (built against an older
 *    header) is accepted: the fields it does not cover take their defaults (zero).
 *  - 1.1 added: qmtl_plugin.state_size and qmtl_host.strategy_state.
 *
 * Conventions:
 *  - Functions return QMTL_OK (0) or a negative QMTL_E* code; functions returning a
 *    node handle return a positive handle or a negative code. On failure the text is
 *    in the caller-owned 'struct qmtl_err' (nothing is allocated across the boundary).
 *  - Arguments are borrowed for the duration of the call; the host copies what it keeps.
 *  - The host owns node state; a plugin keeps no host pointer beyond the callback that
 *    received it.
 *
 * This header includes only libc headers and compiles as C11 and as C++.
 */
#ifndef QMTL_QMTL_H
#define QMTL_QMTL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ versions */

#define QMTL_ABI_MAJOR 1
#define QMTL_ABI_MINOR 1
#define QMTL_PLUGIN_MAGIC 0x4c544d51u /* "QMTL" in little-endian memory */
#define QMTL_DESCRIPTOR_SYMBOL "qmtl_plugin_descriptor"

#if defined(__GNUC__) || defined(__clang__)
#define QMTL_EXPORT __attribute__((visibility("default")))
#define QMTL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define QMTL_EXPORT
#define QMTL_PRINTF(a, b)
#endif

/* ------------------------------------------------------------------ errors */

enum qmtl_status {
    QMTL_OK = 0,
    QMTL_ERR = -1,    /* generic failure */
    QMTL_EAGAIN = -2, /* not now: try again later */
    QMTL_EINVAL = -3, /* invalid argument (bad spec, unknown handle, ...) */
    QMTL_ENOMEM = -4, /* out of memory */
    QMTL_EABI = -5,   /* ABI mismatch */
    QMTL_ENOENT = -6, /* no such thing (key, node, file) */
    QMTL_ESTATE = -7  /* not allowed in this state (e.g. a node declared after setup) */
};

#define QMTL_ERR_MSG_MAX 160

/* Caller-owned error: functions that fail write a code and one line of text. */
struct qmtl_err {
    int code;
    char msg[QMTL_ERR_MSG_MAX];
};

enum qmtl_log_level {
    QMTL_LOG_DEBUG = 0,
    QMTL_LOG_INFO = 1,
    QMTL_LOG_WARN = 2,
    QMTL_LOG_ERROR = 3
};

/* ------------------------------------------------------------------ values */

enum qmtl_type {
    QMTL_T_NONE = 0, /* no value: propagation stops on this branch */
    QMTL_T_NUMBER,   /* as.number */
    QMTL_T_INT,      /* as.integer */
    QMTL_T_BOOL,     /* as.boolean (0 or 1) */
    QMTL_T_BAR,      /* as.bar */
    QMTL_T_SIGNAL,   /* as.signal */
    QMTL_T_ORDER,    /* as.order */
    QMTL_T_JSON      /* as.json: UTF-8 JSON text; see qmtl_compute_fn for lifetime */
};

/* One OHLCV bar. */
struct qmtl_bar {
    double open, high, low, close, volume;
};

enum qmtl_action { QMTL_SELL = -1, QMTL_HOLD = 0, QMTL_BUY = 1 };

/* A trading signal: what position the strategy wants. */
struct qmtl_signal {
    int32_t action;  /* enum qmtl_action; informational, 'target' decides */
    int32_t reserved;
    double target;   /* wanted position as a fraction of equity, in [-1, 1] (0 = flat) */
    double strength; /* free-form confidence, reported only */
};

enum qmtl_side { QMTL_SIDE_SELL = -1, QMTL_SIDE_BUY = 1 };

/* An order intent (quantity in units of the instrument). */
struct qmtl_order {
    int32_t side; /* enum qmtl_side */
    int32_t reserved;
    double quantity; /* > 0 */
    double price;    /* reference price at decision time (fills add slippage) */
};

/*
 * Frozen since 1.0: qmtl_value and qmtl_window travel in arrays (windows, node outputs),
 * so they carry no 'size' and can never grow; a change to either is a major bump.
 */
struct qmtl_value {
    int32_t type; /* enum qmtl_type */
    int32_t reserved;
    union {
        double number;
        int64_t integer;
        int32_t boolean;
        struct qmtl_bar bar;
        struct qmtl_signal signal;
        struct qmtl_order order;
        const char *json;
    } as;
};

/* ------------------------------------------------------------------ windows and views */

/*
 * The items one input delivered to a node, oldest to newest, at most 'cap' of them
 * (cap = the consuming node's period). Storage is a ring owned by the host; read it
 * with the qmtl_window_* helpers below. Valid only during the compute call.
 * Frozen since 1.0, like qmtl_value (it travels in an array: view->inputs).
 */
struct qmtl_window {
    const struct qmtl_value *values; /* ring of 'cap' values */
    const int64_t *ts;               /* ring of 'cap' bucket timestamps (seconds) */
    uint32_t cap;                    /* ring capacity (the node's period) */
    uint32_t count;                  /* items held, 0..cap */
    uint32_t head;                   /* ring index of the newest item */
    uint32_t reserved;
    int64_t interval;        /* the upstream's interval in seconds */
    const char *upstream_id; /* NodeID of the upstream */
};

/* Number of items held (0..period). */
static inline uint32_t qmtl_window_len(const struct qmtl_window *w)
{
    return w->count;
}

/* True when the window holds 'period' items. */
static inline int qmtl_window_full(const struct qmtl_window *w)
{
    return w->count == w->cap;
}

static inline uint32_t qmtl_window_index_(const struct qmtl_window *w, uint32_t offset)
{
    /* (head + cap - offset) mod cap without a division: head < cap, offset < cap */
    uint32_t i = w->head + w->cap - offset;
    return i >= w->cap ? i - w->cap : i;
}

/* The item 'offset' steps back from the newest (0 = newest); NULL if there is none. */
static inline const struct qmtl_value *qmtl_window_at(const struct qmtl_window *w,
                                                      uint32_t offset)
{
    return offset < w->count ? &w->values[qmtl_window_index_(w, offset)] : NULL;
}

static inline const struct qmtl_value *qmtl_window_latest(const struct qmtl_window *w)
{
    return qmtl_window_at(w, 0);
}

/* Bucket timestamp of the item at 'offset'; -1 if there is none. */
static inline int64_t qmtl_window_ts_at(const struct qmtl_window *w, uint32_t offset)
{
    return offset < w->count ? w->ts[qmtl_window_index_(w, offset)] : -1;
}

/*
 * A value read as a number: number, integer, bool (0/1), bar -> close,
 * signal -> target, order -> signed quantity. NaN for none and JSON.
 */
static inline double qmtl_value_number(const struct qmtl_value *v)
{
    if (!v)
        return __builtin_nan("");
    switch (v->type) {
    case QMTL_T_NUMBER:
        return v->as.number;
    case QMTL_T_INT:
        return (double)v->as.integer;
    case QMTL_T_BOOL:
        return v->as.boolean ? 1.0 : 0.0;
    case QMTL_T_BAR:
        return v->as.bar.close;
    case QMTL_T_SIGNAL:
        return v->as.signal.target;
    case QMTL_T_ORDER:
        return v->as.order.side * v->as.order.quantity;
    default:
        return __builtin_nan("");
    }
}

/* The number at 'offset' (see qmtl_value_number); NaN if there is no such item. */
static inline double qmtl_window_number(const struct qmtl_window *w, uint32_t offset)
{
    return qmtl_value_number(qmtl_window_at(w, offset));
}

struct qmtl_ctx;  /* opaque: one per loaded strategy */
struct qmtl_host; /* the host's services, below */

/* What a custom node's compute callback sees. Valid only during the call. */
struct qmtl_view {
    uint32_t size;
    uint32_t n_inputs;
    const struct qmtl_window *inputs; /* one per declared input, in declaration order */
    int64_t ts;                       /* bucket timestamp being computed (seconds) */
    uint32_t trigger;                 /* index of the input whose arrival caused this call */
    uint32_t reserved;
    void *state;      /* the node's state: 'state_size' bytes, zeroed at creation, host-owned */
    const void *user; /* the spec's 'user' pointer, as declared */
    /* A node shared by several strategies computes once: ctx and user are those of its
     * first declarer that still runs (docs/plugin-abi.md). */
    struct qmtl_ctx *ctx;
    const struct qmtl_host *host;
};

/*
 * A custom node's computation. 'out' arrives as QMTL_T_NONE; set it to produce a
 * value. Leaving it NONE produces nothing and stops propagation on this branch.
 * Return QMTL_OK, or a negative code (with host->log to say why): the host reports
 * the plugin and node, and stops that strategy (other strategies go on).
 * A QMTL_T_JSON result may point at memory owned by the plugin: the host copies it
 * before the call returns to the scheduler.
 */
typedef int (*qmtl_compute_fn)(const struct qmtl_view *view, struct qmtl_value *out);

/* ------------------------------------------------------------------ node specs */

/* A node handle: > 0 valid, 0 "none", < 0 an error code. Valid within one strategy. */
typedef int32_t qmtl_node;

#define QMTL_MAX_INPUTS 8

/* Start every spec literal with this: QMTL_SPEC(qmtl_stream_spec). */
#define QMTL_SPEC(type) .size = sizeof(struct type)

enum qmtl_on_missing { QMTL_MISSING_SKIP = 0, QMTL_MISSING_FAIL = 1 };
enum qmtl_on_late { QMTL_LATE_RECOMPUTE = 0, QMTL_LATE_IGNORE = 1, QMTL_LATE_SIDE_OUTPUT = 2 };
enum qmtl_match_mode { QMTL_MATCH_ANY = 0, QMTL_MATCH_ALL = 1 };

/* Node flags. */
#define QMTL_FIRE_ON_ANY 0x1u /* compute on every input arrival, not once per aligned bucket */

/*
 * Intervals are text: "N" or "Ns" seconds, "Nm" minutes, "Nh" hours, 1 s .. 86400 s.
 * NULL means "the first input's interval". Periods are 1..10000; 0 means "the first
 * input's period" (1 for a stream input).
 */

/* A stream of data bound by tags (e.g. {"BTC", NULL}) to a configured data source. */
struct qmtl_stream_spec {
    uint32_t size;
    const char *name;        /* optional display name */
    const char *const *tags; /* NULL-terminated; 1..32 tags of [A-Za-z0-9_.-], <= 100 chars */
    const char *interval;    /* required for streams */
    int32_t period;          /* items kept for consumers that read it directly */
};

/* Every node in the host (of any strategy) whose tags match, as inputs. */
struct qmtl_tag_query_spec {
    uint32_t size;
    const char *name;
    const char *const *query_tags; /* NULL-terminated, non-empty, no duplicates */
    int32_t match_mode;            /* enum qmtl_match_mode */
    const char *interval;          /* required */
    int32_t period;
};

/*
 * A built-in indicator or transform, computed by the host (so equal ones are shared
 * between strategies). Kinds and the fields they use:
 *   sma, ema, stddev, zscore, rolling_min, rolling_max, rsi   window (>= 1)
 *   ema                                                       alpha (0: 2/(window+1))
 *   returns (alias pct_change), rate_of_change                window = lag (default 1)
 *   crossover   inputs = {fast, slow}: +1 when fast crosses above slow, -1 below, else no value
 * 'field' picks the bar field read from bar inputs: "close" (default), "open", "high",
 * "low", "volume". Outputs are numbers.
 */
struct qmtl_indicator_spec {
    uint32_t size;
    const char *kind;
    const char *name;
    qmtl_node inputs[QMTL_MAX_INPUTS]; /* 0-terminated */
    int32_t window;
    double alpha;
    const char *field;
    const char *interval;
};

/* A node whose computation is the plugin's own function. */
struct qmtl_node_spec {
    uint32_t size;
    const char *name;                  /* required; unique within the strategy */
    qmtl_node inputs[QMTL_MAX_INPUTS]; /* 0-terminated; at least one */
    const char *interval;              /* NULL: first input's */
    int32_t period;                    /* 0: first input's */
    uint32_t flags;                    /* QMTL_FIRE_ON_ANY */
    qmtl_compute_fn compute;           /* required */
    size_t state_size;                 /* bytes of zeroed, host-owned state (view->state) */
    const void *user; /* handed back as view->user; never a pointer into the .so's data */
    const char *params_json;           /* parameters that define identity (JSON object) */
    const char *const *tags;           /* NULL-terminated, optional (for tag queries) */
    int32_t on_missing;                /* enum qmtl_on_missing */
    int32_t on_late;                   /* enum qmtl_on_late */
    int64_t allowed_lateness;          /* seconds */
    const char *code_version; /* optional: identity uses it instead of the compute's bytes */
};

/*
 * Turns a number into a signal: target = +target_size when the input is above
 * 'buy_above', -target_size (or 0 when long_only) below 'sell_below', else unchanged.
 * A QMTL_T_SIGNAL input passes through.
 */
struct qmtl_signal_spec {
    uint32_t size;
    const char *name;
    qmtl_node input;
    double buy_above;
    double sell_below;
    double target_size; /* 0: 1.0 */
    int32_t long_only;
};

/*
 * Publishes orders that move the position toward each signal's target. Orders pass
 * the activation gate and go to the domain's sink (the simulated broker offline).
 */
struct qmtl_order_spec {
    uint32_t size;
    const char *name;
    qmtl_node signal;   /* node producing signals */
    qmtl_node price;    /* stream giving the reference price; 0: the signal's first stream */
    const char *symbol; /* default: the price stream's first tag */
    double quantity;    /* units at target 1.0; 0: size by equity (target * equity / price) */
};

/* ------------------------------------------------------------------ events to hooks */

/* Activation of this strategy in its world, per side (see the gateway). */
struct qmtl_activation {
    uint32_t size;
    int32_t side;   /* enum qmtl_side */
    int32_t active; /* orders on this side allowed by the world */
    int32_t frozen;
    int32_t draining;
    int32_t stale; /* the host has not confirmed the state recently: gate closed */
    double weight;
    int64_t ts;
    const char *etag;
    const char *run_id;
    const char *domain; /* "backtest", "dryrun", "live", "shadow" */
};

/* A fill from the simulated broker or a real one. */
struct qmtl_fill {
    uint32_t size;
    int32_t side;
    const char *symbol;
    double quantity;
    double price;
    double fee;
    int64_t ts;
};

/* ------------------------------------------------------------------ the host */

/*
 * Services the host gives a plugin. Append-only: test newer members with
 * QMTL_HOST_HAS. Node-creating functions are only valid inside setup() (else
 * QMTL_ESTATE). Returned strings are borrowed and valid until teardown.
 * Each member says since which ABI minor it exists.
 */
struct qmtl_host {
    uint32_t abi_major, abi_minor, size, reserved;

    /* Since 1.0. Log a line prefixed with the strategy's name. Plugins never write to stdout/stderr. */
    void (*log)(struct qmtl_ctx *ctx, int level, const char *fmt, ...) QMTL_PRINTF(3, 4);

    /* Since 1.0: node declarations (only inside setup()). */
    qmtl_node (*stream_input)(struct qmtl_ctx *ctx, const struct qmtl_stream_spec *spec,
                              struct qmtl_err *err);
    qmtl_node (*tag_query)(struct qmtl_ctx *ctx, const struct qmtl_tag_query_spec *spec,
                           struct qmtl_err *err);
    qmtl_node (*indicator)(struct qmtl_ctx *ctx, const struct qmtl_indicator_spec *spec,
                           struct qmtl_err *err);
    qmtl_node (*node)(struct qmtl_ctx *ctx, const struct qmtl_node_spec *spec,
                      struct qmtl_err *err);
    qmtl_node (*signal)(struct qmtl_ctx *ctx, const struct qmtl_signal_spec *spec,
                        struct qmtl_err *err);
    qmtl_node (*order_publisher)(struct qmtl_ctx *ctx, const struct qmtl_order_spec *spec,
                                 struct qmtl_err *err);

    /* Since 1.0. Strategy parameters from the configuration (host.strategies.<name>.<key>). */
    const char *(*config_string)(struct qmtl_ctx *ctx, const char *key, const char *dflt);
    double (*config_number)(struct qmtl_ctx *ctx, const char *key, double dflt);

    /* Since 1.0. Current activation for 'side'. Returns QMTL_OK or QMTL_ENOENT (not known yet). */
    int (*activation)(struct qmtl_ctx *ctx, int side, struct qmtl_activation *out);

    /* Since 1.0. Event time of the bucket being processed (seconds since the epoch). */
    int64_t (*now)(struct qmtl_ctx *ctx);

    /* Since 1.0. The NodeID ("blake3:<64 hex>") of one of this strategy's nodes; NULL if unknown. */
    const char *(*node_id)(struct qmtl_ctx *ctx, qmtl_node node);

    /*
     * Since 1.1. The strategy's own state: the descriptor's 'state_size' bytes, zeroed
     * before setup(), owned by the host and kept until the strategy is released (never
     * inside the .so, so a reload leaves nothing dangling). NULL when state_size is 0.
     * Reachable from setup(), every hook (their ctx) and every compute (view->ctx). A
     * custom node shared between strategies computes once, with the ctx of its first
     * declarer that still runs, so it sees that strategy's state: keep what defines its
     * output in params_json.
     */
    void *(*strategy_state)(struct qmtl_ctx *ctx);
};

#define QMTL_HOST_HAS(h, member)                                                                   \
    ((h)->size >= offsetof(struct qmtl_host, member) + sizeof((h)->member) && (h)->member)

/* ------------------------------------------------------------------ the descriptor */

struct qmtl_plugin {
    uint32_t magic; /* QMTL_PLUGIN_MAGIC */
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t size; /* sizeof(struct qmtl_plugin) as the plugin was built */

    const char *name;        /* required: unique among loaded strategies, [A-Za-z0-9_.-] */
    const char *version;     /* e.g. "1.0.0" */
    const char *description; /* one line, optional */

    /* Required: declare the strategy's nodes. Return QMTL_OK or a negative code with err set. */
    int (*setup)(struct qmtl_ctx *ctx, const struct qmtl_host *host, struct qmtl_err *err);
    /* Optional hooks. */
    void (*teardown)(struct qmtl_ctx *ctx, const struct qmtl_host *host);
    void (*on_start)(struct qmtl_ctx *ctx, const struct qmtl_host *host);
    void (*on_finish)(struct qmtl_ctx *ctx, const struct qmtl_host *host);
    void (*on_error)(struct qmtl_ctx *ctx, const struct qmtl_host *host,
                     const struct qmtl_err *error);
    void (*on_activation)(struct qmtl_ctx *ctx, const struct qmtl_host *host,
                          const struct qmtl_activation *activation);
    void (*on_fill)(struct qmtl_ctx *ctx, const struct qmtl_host *host,
                    const struct qmtl_fill *fill);
    void (*on_signal)(struct qmtl_ctx *ctx, const struct qmtl_host *host,
                      const struct qmtl_signal *signal, int64_t ts);

    /* Since 1.1: bytes of per-strategy state (host->strategy_state); at most 64 MiB.
     * A 1.0 descriptor (smaller 'size') has none. */
    size_t state_size;
};

#define QMTL_PLUGIN_HEADER                                                                         \
    .magic = QMTL_PLUGIN_MAGIC, .abi_major = QMTL_ABI_MAJOR, .abi_minor = QMTL_ABI_MINOR,          \
    .size = sizeof(struct qmtl_plugin)

/* Define the exported descriptor: QMTL_PLUGIN(.name = "x", .version = "1", .setup = f); */
#define QMTL_PLUGIN(...)                                                                           \
    QMTL_EXPORT const struct qmtl_plugin qmtl_plugin_descriptor = {QMTL_PLUGIN_HEADER, __VA_ARGS__}

/* ------------------------------------------------------------------ small helpers */

static inline struct qmtl_value qmtl_none(void)
{
    struct qmtl_value v;
    v.type = QMTL_T_NONE;
    v.reserved = 0;
    v.as.number = 0;
    return v;
}

static inline struct qmtl_value qmtl_number(double x)
{
    struct qmtl_value v = qmtl_none();
    v.type = QMTL_T_NUMBER;
    v.as.number = x;
    return v;
}

static inline struct qmtl_value qmtl_signal_value(int32_t action, double target)
{
    struct qmtl_value v = qmtl_none();
    v.type = QMTL_T_SIGNAL;
    v.as.signal.action = action;
    v.as.signal.reserved = 0;
    v.as.signal.target = target;
    v.as.signal.strength = 0;
    return v;
}

#ifdef __cplusplus
}
#endif

#endif /* QMTL_QMTL_H */
