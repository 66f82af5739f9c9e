/*
 * scaffold: find this qmtl's SDK and project templates, list the templates, and
 * create a strategy project from one (what 'qmtl project init' and 'qmtl sdk' do).
 *
 * Where things are, from the path of the running qmtl binary EXE (bin = its dir,
 * base = the parent of bin):
 *   installed ('make install PREFIX=P', EXE = P/bin/qmtl):
 *       headers P/include/qmtl, library P/lib, templates P/share/qmtl
 *   build tree (EXE = ROOT/build[/VARIANT]/bin/qmtl):
 *       headers ROOT/sdk/include/qmtl, library base/lib, templates ROOT/scaffold
 *       (ROOT is the nearest ancestor of base, at most 3 levels up, holding both)
 * No environment variable is needed for either.
 *
 * The template directory (scaffold/ in the source tree):
 *   templates.list          one template per line: NAME SYMBOLS DESCRIPTION... ('#'
 *                           comments); SYMBOLS is the comma-separated list of data tags
 *                           the template's strategy reads (e.g. "BTC" or "BTC,ETH");
 *                           the order is the listing order, the first is the default
 *   project/                files copied into every project
 *   templates/NAME/         files copied over them for template NAME (at least strategy.c)
 *   snippets/               text inserted by placeholders (data sources in qmtl.yml)
 *
 * Data: a project gets data for exactly the template's SYMBOLS, nothing more, so every
 * data source in its qmtl.yml feeds a stream input. The data snippet (data-sample.yml
 * or data-synthetic.yml) is a header of comments followed by one block per symbol, each
 * starting with a line "- tags: [SYMBOL]"; the blocks of other symbols are dropped. With
 * sample data, only the CSV files of the template's symbols are written.
 * A file named 'gitignore' is written as '.gitignore'; names starting with '.' are
 * skipped. In every copied file the placeholders @PROJECT@, @TEMPLATE@,
 * @DESCRIPTION@, @QMTL@ and @DATA_SOURCES@ are replaced; other text is copied as is.
 */
#ifndef QMTL_CLI_PROJECT_SCAFFOLD_H
#define QMTL_CLI_PROJECT_SCAFFOLD_H

#include <limits.h>
#include <stddef.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

struct scaffold_paths {
    char exe[PATH_MAX];         /* absolute path of the qmtl binary */
    char prefix[PATH_MAX];      /* install prefix, or the build directory (ROOT/build[/V]) */
    char include_dir[PATH_MAX]; /* holds qmtl/qmtl.h and qmtl/testkit.h */
    char lib_dir[PATH_MAX];     /* holds libqmtl_testkit.a */
    char data_dir[PATH_MAX];    /* holds templates.list */
    int installed;              /* 1: installed layout, 0: build tree */
};

/* Absolute path of the running executable (/proc/self/exe). 0 or -1 with err. */
int scaffold_self_exe(char *out, size_t len, char *err, size_t errlen);

/* Fill 'out' for the qmtl binary at 'exe' (see above). 0 or -1 with err. */
int scaffold_locate(const char *exe, struct scaffold_paths *out, char *err, size_t errlen);

struct scaffold_template {
    char *name;
    char *description;
    char *symbols; /* comma-separated data tags the strategy reads, e.g. "BTC,ETH" */
};

/* The templates of a data dir, in listing order. Release with scaffold_catalog_release. */
struct scaffold_catalog {
    struct scaffold_template *items;
    size_t n;
};

/*
 * Read DATA_DIR/templates.list. Every listed template must have
 * DATA_DIR/templates/NAME/strategy.c and a SYMBOLS list of tags made of
 * [A-Za-z0-9_.-]. 0, or -1 with err (file:line for bad lines).
 */
int scaffold_catalog_load(const char *data_dir, struct scaffold_catalog *cat, char *err,
                          size_t errlen);
void scaffold_catalog_release(struct scaffold_catalog *cat);
/* The template called 'name', or NULL. Borrowed from 'cat'. */
const struct scaffold_template *scaffold_catalog_find(const struct scaffold_catalog *cat,
                                                      const char *name);
/* Comma-separated names ("general, single_indicator, ...") into out. */
void scaffold_catalog_names(const struct scaffold_catalog *cat, char *out, size_t len);

/* 1 if 'symbol' is one of the template's SYMBOLS, else 0. */
int scaffold_template_reads(const struct scaffold_template *t, const char *symbol);

struct sample_spec;
/*
 * The sample data written for template 't' with --with-sample-data: the default sample
 * set (sample_spec_default) with every series the template does not read skipped
 * (skip_mask). 0, or -1 with err when the template reads a symbol the sample set lacks.
 */
int scaffold_sample_spec(const struct scaffold_template *t, struct sample_spec *spec, char *err,
                         size_t errlen);

/* Failure values of scaffold_create (each with a message in err). */
enum scaffold_status {
    SCAFFOLD_OK = 0,
    SCAFFOLD_EFAIL = -1,     /* reading templates or writing files failed */
    SCAFFOLD_ENOTEMPTY = -2, /* target directory not empty and no 'force' */
    SCAFFOLD_ETEMPLATE = -3, /* unknown template (the message lists the valid ones) */
    SCAFFOLD_EPATH = -4      /* target cannot be created or written, or is not a directory */
};

struct scaffold_options {
    const char *path;          /* target directory (created with parents if missing) */
    const char *template_name; /* NULL: the first listed template */
    int with_sample_data;      /* write data/ with the default sample data set */
    int force;                 /* allow a non-empty target; files of the project overwrite */
    const char *qmtl_exe;      /* absolute path recorded in the project Makefile */
};

/*
 * Create the project. The project's name (descriptor name, README title) is the
 * target directory's base name with characters outside [A-Za-z0-9_.-] replaced by
 * '_'. Returns SCAFFOLD_OK or one of enum scaffold_status.
 */
int scaffold_create(const struct scaffold_paths *paths, const struct scaffold_options *opt,
                    char *err, size_t errlen);

/* The project name scaffold_create derives from 'path', into out. */
void scaffold_project_name(const char *path, char *out, size_t len);

#endif
