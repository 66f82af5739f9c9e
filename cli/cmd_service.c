/* qmtl service: start a service process (gateway or DAG manager). */
#include "cli.h"

#include "common/config.h"
#include "common/log.h"
#include "common/state_dir.h"
#include "gateway/gw_server.h"

#include "dagmanager/dm_server.h"
#include "gateway/gw_hub.h"

#include <event2/event.h>
#include <signal.h>
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

static void on_dm_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    LOG_INFO("dagmanager", "%s received, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopbreak(arg);
}

static int dm_usage(void)
{
    fprintf(stderr, "usage: qmtl service dagmanager server [--config F]\n");
    return CLI_USAGE;
}

/* 'qmtl service dagmanager server [--config F]'; argv[0] is "dagmanager". Runs until
 * SIGINT/SIGTERM. */
static int run_dagmanager(int argc, char **argv)
{
    const char *path = NULL;
    if (argc < 2 || strcmp(argv[1], "server") != 0) {
        if (argc >= 2)
            fprintf(stderr, "qmtl service dagmanager: unknown subcommand '%s'\n", argv[1]);
        return dm_usage();
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        else if (argv[i][0] == '-' && strcmp(argv[i], "--config") != 0)
            return cli_unknown_option("service dagmanager server", argv[i]);
        else {
            fprintf(stderr, "qmtl service dagmanager server: unknown option '%s'\n", argv[i]);
            return dm_usage();
        }
    }
    struct qmtl_config cfg;
    struct cfg_error cerr;
    int rc = config_load(path, &cfg, &cerr);
    if (rc < 0) {
        fprintf(stderr, "qmtl service dagmanager server: %s\n", cerr.msg);
        config_release(&cfg);
        return CLI_FAIL;
    }
    for (size_t i = 0; i < cfg.n_warnings; i++)
        LOG_WARN("config", "%s", cfg.warnings[i]);
    char err[512];
    if (state_prepare_store(&cfg.dagmanager.store_path, "dagmanager.db", "dagmanager.store_path",
                            err, sizeof(err)) != 0) {
        fprintf(stderr, "qmtl service dagmanager server: %s\n", err);
        config_release(&cfg);
        return CLI_FAIL;
    }
    signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    struct dm_server *s = base ? dm_server_new(base, &cfg.dagmanager, err, sizeof(err)) : NULL;
    if (!s) {
        fprintf(stderr, "qmtl service dagmanager server: %s\n",
                base ? err : "cannot create the event loop");
        if (base)
            event_base_free(base);
        config_release(&cfg);
        return CLI_FAIL;
    }
    struct event *sigint = evsignal_new(base, SIGINT, on_dm_signal, base);
    struct event *sigterm = evsignal_new(base, SIGTERM, on_dm_signal, base);
    if (sigint)
        event_add(sigint, NULL);
    if (sigterm)
        event_add(sigterm, NULL);
    LOG_INFO("dagmanager", "listening on http://%s:%d (store '%s', config %s)", cfg.dagmanager.host,
             dm_server_port(s), cfg.dagmanager.store_path,
             cfg.source_path ? cfg.source_path : "built-in defaults");
    event_base_dispatch(base);
    if (sigint)
        event_free(sigint);
    if (sigterm)
        event_free(sigterm);
    dm_server_free(s);
    event_base_free(base);
    config_release(&cfg);
    LOG_INFO("dagmanager", "stopped");
    return CLI_OK;
}

int cmd_service(int argc, char **argv)
{
    if (argc < 2) {
        cli_print_usage(cli_find("service"), 1);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "gateway") == 0)
        return run_gateway(argc - 1, argv + 1);
    if (strcmp(argv[1], "dagmanager") == 0)
        return run_dagmanager(argc - 1, argv + 1);
    fprintf(stderr, "qmtl service: unknown service '%s'\n", argv[1]);
    cli_print_usage(cli_find("service"), 1);
    return CLI_USAGE;
}
