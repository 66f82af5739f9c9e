/* qmtl service: start a service process (gateway or DAG manager). */
#include "cli.h"

#include "common/config.h"
#include "common/log.h"
#include "common/state_dir.h"
#include "gateway/gw_server.h"

#include "dagmanager/dm_server.h"
#include "gateway/gw_hub.h"

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
        else if (argv[i][0] == '-')
            return cli_unknown_option("service gateway", argv[i]);
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
    if (state_prepare_store(&cfg.gateway.store_path, "gateway.db", "gateway.store_path", err,
                            sizeof(err)) != 0) {
        fprintf(stderr, "qmtl service gateway: %s\n", err);
        config_release(&cfg);
        return CLI_FAIL;
    }
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
    /* the event hub: WebSocket stream /ws/evt and /events/subscribe */
    struct gw_hub *hub = gw_hub_new(srv);
    if (!hub) {
        fprintf(stderr, "qmtl service gateway: cannot start the event hub\n");
        gw_server_free(srv);
        config_release(&cfg);
        return CLI_FAIL;
    }
    LOG_INFO("gateway", "listening on %s (store '%s')", gw_server_url(srv), cfg.gateway.store_path);
    rc = gw_server_run(srv, 1);
    gw_hub_free(hub);
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
        /* the DAG manager parses its own arguments; misspelled options get the hint here */
        for (int i = 3; i < argc; i++) {
            if (!strcmp(argv[i], "--config") || !strncmp(argv[i], "--config=", 9))
                i += argv[i][8] != '=';
            else if (argv[i][0] == '-')
                return cli_unknown_option("service dagmanager server", argv[i]);
        }
        return dm_cmd_server(argc - 1, argv + 1);
    }
    fprintf(stderr, "qmtl service: unknown service '%s'\n", argv[1]);
    cli_print_usage(cli_find("service"), 1);
    return CLI_USAGE;
}
