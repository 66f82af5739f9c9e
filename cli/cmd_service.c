/* qmtl service: start a service process (gateway; the DAG manager is not built yet). */
#include "cli.h"

#include "common/config.h"
#include "common/log.h"
#include "gateway/gw_server.h"

/* The event stream hub (WebSocket /ws/evt) is built on top of gw_server; when its header
 * is present it is started here, at this single call site. */
#if defined(__has_include)
#if __has_include("gateway/gw_hub.h")
#include "gateway/gw_hub.h"
#define QMTL_HAVE_GW_HUB 1
#endif
#endif

/* The DAG manager server, when it is part of the build. */
#if defined(__has_include)
#if __has_include("dagmanager/dm_server.h")
#include "dagmanager/dm_server.h"
#define QMTL_HAVE_DAGMANAGER 1
#endif
#endif

#include <stdio.h>
#include <string.h>

static int run_gateway(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        else {
            fprintf(stderr, "qmtl service gateway: unknown argument '%s'\n", argv[i]);
            cli_print_usage(cli_find("service"), 1);
            return CLI_USAGE;
        }
    }
    struct qmtl_config cfg;
    struct cfg_error cerr;
    int rc = config_load(path, &cfg, &cerr);
    if (rc != 0) {
        fprintf(stderr, "qmtl service gateway: %s\n",
                rc == -2 ? "cannot read the config file" : cerr.msg);
        if (rc == -2 && path)
            fprintf(stderr, "  file: '%s'\n", path);
        config_release(&cfg);
        return CLI_FAIL;
    }
    for (size_t i = 0; i < cfg.n_warnings; i++)
        LOG_WARN("config", "%s", cfg.warnings[i]);
    char err[512];
    struct gw_server *srv = gw_server_new(&cfg, err, sizeof(err));
    if (!srv) {
        fprintf(stderr, "qmtl service gateway: %s\n", err);
        config_release(&cfg);
        return CLI_FAIL;
    }
    if (gw_server_bind(srv, err, sizeof(err)) < 0) {
        fprintf(stderr, "qmtl service gateway: %s\n", err);
        gw_server_free(srv);
        config_release(&cfg);
        return CLI_FAIL;
    }
#ifdef QMTL_HAVE_GW_HUB
    /* gw-ws: the event hub (WebSocket stream, /events/subscribe) */
    struct gw_hub *hub = gw_hub_new(srv);
    if (!hub) {
        fprintf(stderr, "qmtl service gateway: cannot start the event hub\n");
        gw_server_free(srv);
        config_release(&cfg);
        return CLI_FAIL;
    }
#endif
    if (!*cfg.gateway.operator_token)
        LOG_WARN("gateway", "gateway.operator_token is empty: operator routes answer 401");
    LOG_INFO("gateway", "listening on %s (store '%s')", gw_server_url(srv), cfg.gateway.store_path);
    rc = gw_server_run(srv, 1);
#ifdef QMTL_HAVE_GW_HUB
    gw_hub_free(hub);
#endif
    gw_server_free(srv);
    config_release(&cfg);
    LOG_INFO("gateway", "stopped");
    return rc == 0 ? CLI_OK : CLI_FAIL;
}

int cmd_service(int argc, char **argv)
{
    if (argc < 2) {
        cli_print_usage(cli_find("service"), 1);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "gateway") == 0)
        return run_gateway(argc - 1, argv + 1);
    if (strcmp(argv[1], "dagmanager") == 0) {
#ifdef QMTL_HAVE_DAGMANAGER
        return dm_cmd_server(argc - 1, argv + 1);
#else
        return cli_unavailable("service dagmanager");
#endif
    }
    fprintf(stderr, "qmtl service: unknown service '%s'\n", argv[1]);
    cli_print_usage(cli_find("service"), 1);
    return CLI_USAGE;
}
