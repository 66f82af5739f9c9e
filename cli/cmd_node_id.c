/* qmtl node-id: canonical node specs, NodeIDs and the CRC-32 handshake value. */
#include "cli.h"
#include "nodeid.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whole file (or stdin) into a malloc'd buffer. NULL with errno on failure. */
static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    for (;;) {
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f)) {
                int e = errno;
                free(buf);
                errno = e ? e : EIO;
                return NULL;
            }
            break;
        }
    }
    *len = n;
    return buf;
}

struct result {
    char id[NODEID_LEN + 1];
    char *canonical;
};

static void print_text(const struct result *r, size_t n, int is_array, uint32_t crc)
{
    for (size_t i = 0; i < n; i++) {
        if (is_array)
            printf("# node %zu\n", i);
        printf("canonical: %s\nnode_id:   %s\n", r[i].canonical, r[i].id);
    }
    if (is_array)
        printf("crc32:     %" PRIu32 "\n", crc);
}

static int print_json(const struct result *r, size_t n, int is_array, uint32_t crc)
{
    json_t *nodes = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            nodes, json_pack("{s:s,s:s}", "canonical", r[i].canonical, "node_id", r[i].id));
    json_t *out;
    if (is_array) {
        out = json_pack("{s:o,s:I}", "nodes", nodes, "crc32", (json_int_t)crc);
    } else {
        out = json_incref(json_array_get(nodes, 0));
        json_decref(nodes);
    }
    char *s = out ? json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(out);
    if (!s)
        return -1;
    printf("%s\n", s);
    free(s);
    return 0;
}

int cmd_node_id(int argc, char **argv)
{
    int as_json = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            as_json = 1;
        } else if (strcmp(argv[i], "--") == 0) {
            if (i + 1 < argc)
                path = argv[++i];
            if (i + 1 < argc) {
                fprintf(stderr, "qmtl node-id: too many arguments\n");
                cli_print_usage(cli_find("node-id"), 1);
                return CLI_USAGE;
            }
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_unknown_option("node-id", argv[i]);
        } else if (path) {
            fprintf(stderr, "qmtl node-id: too many arguments\n");
            cli_print_usage(cli_find("node-id"), 1);
            return CLI_USAGE;
        } else {
            path = argv[i];
        }
    }

    const char *name = (!path || strcmp(path, "-") == 0) ? "<stdin>" : path;
    FILE *f = stdin;
    if (path && strcmp(path, "-") != 0) {
        f = fopen(path, "rb");
        if (!f) {
            fprintf(stderr, "qmtl node-id: cannot open '%s': %s\n", path, strerror(errno));
            return CLI_FAIL;
        }
    }
    size_t len = 0;
    char *buf = read_all(f, &len);
    int read_errno = errno;
    if (f != stdin)
        fclose(f);
    if (!buf) {
        fprintf(stderr, "qmtl node-id: cannot read '%s': %s\n", name, strerror(read_errno));
        return CLI_FAIL;
    }

    json_error_t je;
    json_t *root = json_loadb(buf, len, JSON_DECODE_ANY, &je);
    free(buf);
    if (!root) {
        fprintf(stderr, "qmtl node-id: %s:%d:%d: invalid JSON: %s\n", name, je.line, je.column,
                je.text);
        return CLI_FAIL;
    }
    int is_array = json_is_array(root);
    if (!is_array && !json_is_object(root)) {
        fprintf(stderr, "qmtl node-id: %s: expected a node object or an array of nodes\n", name);
        json_decref(root);
        return CLI_FAIL;
    }
    size_t n = is_array ? json_array_size(root) : 1;
    struct result *res = calloc(n ? n : 1, sizeof(*res));
    const char **ids = calloc(n ? n : 1, sizeof(*ids));
    int failed = 0;
    if (!res || !ids) {
        fprintf(stderr, "qmtl node-id: out of memory\n");
        failed = 1;
        n = 0;
    }
    /* every bad node is reported, not only the first */
    for (size_t i = 0; i < n; i++) {
        const json_t *node = is_array ? json_array_get(root, i) : root;
        char err[512];
        if (nodeid_from_json(node, res[i].id, &res[i].canonical, err, sizeof(err)) < 0) {
            if (is_array)
                fprintf(stderr, "qmtl node-id: %s: node %zu: %s\n", name, i, err);
            else
                fprintf(stderr, "qmtl node-id: %s: %s\n", name, err);
            failed = 1;
            continue;
        }
        ids[i] = res[i].id;
    }
    int rc = CLI_OK;
    if (failed) {
        rc = CLI_FAIL;
    } else {
        uint32_t crc = nodeid_crc32_ids(ids, n);
        if (as_json) {
            if (print_json(res, n, is_array, crc) < 0) {
                fprintf(stderr, "qmtl node-id: out of memory\n");
                rc = CLI_FAIL;
            }
        } else {
            print_text(res, n, is_array, crc);
        }
        if (fflush(stdout) != 0) {
            fprintf(stderr, "qmtl node-id: cannot write output: %s\n", strerror(errno));
            rc = CLI_FAIL;
        }
    }
    for (size_t i = 0; res && i < n; i++)
        free(res[i].canonical);
    free(res);
    free(ids);
    json_decref(root);
    return rc;
}
