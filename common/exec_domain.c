/* exec_domain: the effective_mode -> execution domain table (see exec_domain.h). */
#include "exec_domain.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

const char *exec_domain_name(int domain)
{
    switch (domain) {
    case EXEC_DRYRUN:
        return "dryrun";
    case EXEC_LIVE:
        return "live";
    case EXEC_SHADOW:
        return "shadow";
    default:
        return "backtest";
    }
}

static const struct {
    const char *token;
    int domain;
} mode_tokens[] = {
    {"validate", EXEC_BACKTEST},   {"validation", EXEC_BACKTEST}, {"computeonly", EXEC_BACKTEST},
    {"compute", EXEC_BACKTEST},    {"backtest", EXEC_BACKTEST},   {"backtesting", EXEC_BACKTEST},
    {"offline", EXEC_BACKTEST},    {"sandbox", EXEC_BACKTEST},    {"sim", EXEC_BACKTEST},
    {"simulation", EXEC_BACKTEST}, {"simulated", EXEC_BACKTEST},  {"paper", EXEC_DRYRUN},
    {"papertrade", EXEC_DRYRUN},   {"papertrading", EXEC_DRYRUN}, {"papertrader", EXEC_DRYRUN},
    {"papermode", EXEC_DRYRUN},    {"dryrun", EXEC_DRYRUN},       {"dryrunmode", EXEC_DRYRUN},
    {"live", EXEC_LIVE},           {"active", EXEC_LIVE},         {"prod", EXEC_LIVE},
    {"production", EXEC_LIVE},     {"shadow", EXEC_SHADOW},
};

int exec_mode_to_domain(const char *mode)
{
    if (!mode)
        return -1;
    char tok[64];
    size_t n = 0;
    for (const char *p = mode; *p && *p != '/' && *p != ':'; p++) {
        if (isspace((unsigned char)*p) || *p == '_' || *p == '-')
            continue;
        if (n + 1 >= sizeof(tok))
            return -1;
        tok[n++] = (char)tolower((unsigned char)*p);
    }
    tok[n] = 0;
    if (!n || !strcmp(tok, "default"))
        return -1;
    for (size_t i = 0; i < sizeof(mode_tokens) / sizeof(mode_tokens[0]); i++)
        if (!strcmp(tok, mode_tokens[i].token))
            return mode_tokens[i].domain;
    return -1;
}

int exec_mode_is_world_mode(const char *mode)
{
    static const char *const modes[] = {"validate", "compute-only", "paper", "live", "shadow"};
    for (size_t i = 0; mode && i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcmp(mode, modes[i]) == 0)
            return 1;
    return 0;
}
