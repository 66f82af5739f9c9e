/* qmtl report: the HTML report of a saved 'qmtl run --offline --json' document. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "host/report/report_html.h"

#define REPORT_MAX_BYTES (1024L * 1024 * 1024) /* a saved run is read whole */

int cmd_report(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "qmtl report: %s needs a file name\n", argv[i]);
                cli_print_usage(cli_find("report"), 1);
                return CLI_USAGE;
            }
            out = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "qmtl report: unknown option '%s'\n", argv[i]);
            cli_print_usage(cli_find("report"), 1);
            return CLI_USAGE;
        } else if (!in) {
            in = argv[i];
        } else {
            fprintf(stderr, "qmtl report: one run file only ('%s' is extra)\n", argv[i]);
            cli_print_usage(cli_find("report"), 1);
            return CLI_USAGE;
        }
    }
    if (!in || !out) {
        fprintf(stderr, "qmtl report: give RUN.json and -o OUT.html\n");
        cli_print_usage(cli_find("report"), 1);
        return CLI_USAGE;
    }
    FILE *f = fopen(in, "rb");
    if (!f) {
        fprintf(stderr, "qmtl report: cannot read '%s'\n", in);
        return CLI_FAIL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > REPORT_MAX_BYTES) {
        fclose(f);
        fprintf(stderr, "qmtl report: '%s' is larger than %ld bytes\n", in, REPORT_MAX_BYTES);
        return CLI_FAIL;
    }
    rewind(f);
    json_error_t je;
    json_t *doc = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    if (!doc) {
        fprintf(stderr, "qmtl report: %s:%d:%d: %s\n", in, je.line, je.column, je.text);
        return CLI_FAIL;
    }
    char err[512];
    if (report_doc_check(doc, err, sizeof(err))) {
        fprintf(stderr, "qmtl report: %s: %s (expected the output of 'qmtl run --offline "
                        "--json')\n",
                in, err);
        json_decref(doc);
        return CLI_FAIL;
    }
    FILE *o = fopen(out, "w");
    int rc = o ? report_html_write(o, doc, err, sizeof(err)) : -1;
    if (o && fclose(o))
        rc = -1;
    json_decref(doc);
    if (rc) {
        fprintf(stderr, "qmtl report: cannot write '%s'%s%s\n", out, o && *err ? ": " : "",
                o ? err : "");
        return CLI_FAIL;
    }
    printf("qmtl report: %s written\n", out);
    return CLI_OK;
}
