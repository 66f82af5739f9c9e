/* qmtl sdk: compiler and linker flags for building strategies and their tests. */
#include "cli.h"

#include "cli/project/scaffold.h"

#include <stdio.h>
#include <string.h>

/* What the testkit library needs at link time: the runtime's libraries only (the archive
 * holds the testkit and the runtime -- the host, its event loop and live sink included --
 * but no gateway, DAG manager or CLI code). Kept equal to the Libs line of
 * scripts/qmtl.pc.in (e2e t003 compares them). */
#define SDK_SYSTEM_LIBS "-lyaml -ljansson -levent -ldl -lm -pthread"

/* A sanitized qmtl ships a sanitized testkit: tests must link the sanitizer runtimes. */
#if defined(__SANITIZE_ADDRESS__)
#define SDK_SANITIZE " -fsanitize=address,undefined"
#else
#define SDK_SANITIZE ""
#endif

int cmd_sdk(int argc, char **argv)
{
    enum { CFLAGS = 1, LIBS = 2, PREFIX = 4, DATADIR = 8 };
    int want = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--cflags") == 0)
            want |= CFLAGS;
        else if (strcmp(argv[i], "--libs") == 0)
            want |= LIBS;
        else if (strcmp(argv[i], "--prefix") == 0)
            want |= PREFIX;
        else if (strcmp(argv[i], "--datadir") == 0)
            want |= DATADIR;
        else {
            return cli_unknown_option("sdk", argv[i]);
        }
    }
    if (!want) {
        cli_print_usage(cli_find("sdk"), 1);
        return CLI_USAGE;
    }
    char err[1024], exe[PATH_MAX];
    struct scaffold_paths p;
    if (scaffold_self_exe(exe, sizeof(exe), err, sizeof(err)) < 0 ||
        scaffold_locate(exe, &p, err, sizeof(err)) < 0) {
        fprintf(stderr, "qmtl sdk: %s\n", err);
        return CLI_FAIL;
    }
    const char *sep = "";
    if (want & PREFIX) {
        printf("%s%s", sep, p.prefix);
        sep = " ";
    }
    if (want & DATADIR) {
        printf("%s%s", sep, p.data_dir);
        sep = " ";
    }
    if (want & CFLAGS) {
        printf("%s-I%s", sep, p.include_dir);
        sep = " ";
    }
    if (want & LIBS)
        printf("%s-L%s -lqmtl_testkit " SDK_SYSTEM_LIBS SDK_SANITIZE, sep, p.lib_dir);
    printf("\n");
    return CLI_OK;
}
