/* scaffold: locate the SDK and templates; create projects (see scaffold.h). */
#include "cli/project/scaffold.h"

#include "cli/project/sample_data.h"
#include "common/state_dir.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEMPLATES_LIST "templates.list"

/* ------------------------------------------------------------ small file helpers */

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* snprintf for paths: -1 when the result does not fit (then 'out' is truncated). */
static int pathf(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int pathf(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, len, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Join 'a' and 'b' with '/' into out; -1 if it does not fit. */
static int join(char *out, size_t len, const char *a, const char *b)
{
    return pathf(out, len, "%s/%s", a, b);
}

/* Copy the directory part of 'path' into out ("/" stays "/"). */
static void dir_of(const char *path, char *out, size_t len)
{
    snprintf(out, len, "%s", path);
    char *slash = strrchr(out, '/');
    if (!slash)
        snprintf(out, len, ".");
    else if (slash == out)
        out[1] = '\0';
    else
        *slash = '\0';
}

/* Read a whole file into a NUL-terminated malloc'd buffer. */
static char *read_all(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
        if (cap - len - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    if (len_out)
        *len_out = len;
    return buf;
}

/* ------------------------------------------------------------ locating */

int scaffold_self_exe(char *out, size_t len, char *err, size_t errlen)
{
    ssize_t n = readlink("/proc/self/exe", out, len - 1);
    if (n < 0 || (size_t)n >= len - 1) {
        snprintf(err, errlen, "cannot read '/proc/self/exe': %s",
                 n < 0 ? strerror(errno) : "path too long");
        return -1;
    }
    out[n] = '\0';
    return 0;
}

int scaffold_locate(const char *exe, struct scaffold_paths *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    char real[PATH_MAX], bin[PATH_MAX], base[PATH_MAX], probe[PATH_MAX + 64];
    if (!realpath(exe, real)) {
        snprintf(err, errlen, "cannot resolve '%s': %s", exe, strerror(errno));
        return -1;
    }
    pathf(out->exe, sizeof(out->exe), "%s", real);
    dir_of(real, bin, sizeof(bin));
    dir_of(bin, base, sizeof(base));

    /* Installed: PREFIX/bin/qmtl next to PREFIX/include, PREFIX/lib, PREFIX/share/qmtl. */
    pathf(probe, sizeof(probe), "%s/include/qmtl/qmtl.h", base);
    int inc_ok = is_file(probe);
    pathf(probe, sizeof(probe), "%s/share/qmtl/" TEMPLATES_LIST, base);
    if (inc_ok && is_file(probe)) {
        out->installed = 1;
        pathf(out->prefix, sizeof(out->prefix), "%s", base);
        pathf(out->include_dir, sizeof(out->include_dir), "%s/include", base);
        pathf(out->lib_dir, sizeof(out->lib_dir), "%s/lib", base);
        pathf(out->data_dir, sizeof(out->data_dir), "%s/share/qmtl", base);
        return 0;
    }

    /* Build tree: ROOT/build[/VARIANT]/bin/qmtl. */
    char root[PATH_MAX];
    pathf(root, sizeof(root), "%s", base);
    for (int up = 0; up <= 3; up++) {
        char parent[PATH_MAX];
        dir_of(root, parent, sizeof(parent));
        if (strcmp(parent, root) == 0)
            break;
        pathf(root, sizeof(root), "%s", parent);
        pathf(probe, sizeof(probe), "%s/sdk/include/qmtl/qmtl.h", root);
        if (!is_file(probe))
            continue;
        pathf(probe, sizeof(probe), "%s/scaffold/" TEMPLATES_LIST, root);
        if (!is_file(probe))
            continue;
        pathf(out->prefix, sizeof(out->prefix), "%s", base);
        pathf(out->include_dir, sizeof(out->include_dir), "%s/sdk/include", root);
        pathf(out->lib_dir, sizeof(out->lib_dir), "%s/lib", base);
        pathf(out->data_dir, sizeof(out->data_dir), "%s/scaffold", root);
        return 0;
    }
    snprintf(err, errlen,
             "cannot find the qmtl SDK for '%s': expected '%s/include/qmtl' and "
             "'%s/share/qmtl' (installed) or a source tree above '%s'",
             real, base, base, base);
    return -1;
}

/* ------------------------------------------------------------ the catalog */

void scaffold_catalog_release(struct scaffold_catalog *cat)
{
    for (size_t i = 0; i < cat->n; i++) {
        free(cat->items[i].name);
        free(cat->items[i].description);
        free(cat->items[i].symbols);
    }
    free(cat->items);
    cat->items = NULL;
    cat->n = 0;
}

/* "A,B,C" of non-empty [A-Za-z0-9_.-] tags (at most 40 bytes each). */
static int valid_symbols(const char *s)
{
    for (;;) {
        size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");
        if (n == 0 || n > 40)
            return 0;
        s += n;
        if (*s == '\0')
            return 1;
        if (*s++ != ',')
            return 0;
    }
}

/* Cut the next blank-separated word off *p (NUL-terminating it); "" at the end. */
static char *next_word(char **p)
{
    char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    char *w = s;
    s += strcspn(s, " \t\r");
    if (*s)
        *s++ = '\0';
    *p = s;
    return w;
}

static int valid_template_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
            return 0;
    return 1;
}

int scaffold_catalog_load(const char *data_dir, struct scaffold_catalog *cat, char *err,
                          size_t errlen)
{
    cat->items = NULL;
    cat->n = 0;
    char path[PATH_MAX], probe[PATH_MAX * 2];
    if (join(path, sizeof(path), data_dir, TEMPLATES_LIST) < 0) {
        snprintf(err, errlen, "template directory path too long");
        return -1;
    }
    char *text = read_all(path, NULL);
    if (!text) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    int line_no = 0, rc = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        line_no++; /* blank lines are skipped by strtok: numbers count non-empty lines */
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '#' || *line == '\0' || *line == '\r')
            continue;
        char *rest = line;
        char *name = next_word(&rest);
        char *symbols = next_word(&rest);
        char *desc = rest;
        while (*desc == ' ' || *desc == '\t')
            desc++;
        size_t dl = strlen(desc);
        while (dl > 0 && (desc[dl - 1] == '\r' || desc[dl - 1] == ' '))
            desc[--dl] = '\0';
        if (!valid_template_name(name) || !*symbols || !*desc) {
            snprintf(err, errlen, "%s: entry %d: expected 'NAME SYMBOLS DESCRIPTION'", path,
                     line_no);
            rc = -1;
            break;
        }
        if (!valid_symbols(symbols)) {
            snprintf(err, errlen,
                     "%s: entry %d: template '%s': SYMBOLS '%s' is not a comma-separated list "
                     "of data tags ([A-Za-z0-9_.-])",
                     path, line_no, name, symbols);
            rc = -1;
            break;
        }
        pathf(probe, sizeof(probe), "%s/templates/%s/strategy.c", data_dir, name);
        if (!is_file(probe)) {
            snprintf(err, errlen, "%s: template '%s' has no '%s'", path, name, probe);
            rc = -1;
            break;
        }
        if (scaffold_catalog_find(cat, name)) {
            snprintf(err, errlen, "%s: template '%s' listed twice", path, name);
            rc = -1;
            break;
        }
        struct scaffold_template *items = realloc(cat->items, (cat->n + 1) * sizeof(*items));
        if (!items) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        cat->items = items;
        items[cat->n].name = strdup(name);
        items[cat->n].description = strdup(desc);
        items[cat->n].symbols = strdup(symbols);
        cat->n++;
        if (!items[cat->n - 1].name || !items[cat->n - 1].description ||
            !items[cat->n - 1].symbols) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
    }
    free(text);
    if (rc == 0 && cat->n == 0) {
        snprintf(err, errlen, "%s: no templates listed", path);
        rc = -1;
    }
    if (rc < 0)
        scaffold_catalog_release(cat);
    return rc;
}

const struct scaffold_template *scaffold_catalog_find(const struct scaffold_catalog *cat,
                                                      const char *name)
{
    for (size_t i = 0; i < cat->n; i++)
        if (strcmp(cat->items[i].name, name) == 0)
            return &cat->items[i];
    return NULL;
}

void scaffold_catalog_names(const struct scaffold_catalog *cat, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < cat->n && used < len; i++) {
        int n = snprintf(out + used, len - used, "%s%s", i ? ", " : "", cat->items[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int scaffold_template_reads(const struct scaffold_template *t, const char *symbol)
{
    size_t n = strlen(symbol);
    for (const char *p = t->symbols; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && strncmp(p, symbol, n) == 0)
            return 1;
        p += k;
        if (*p == ',')
            p++;
    }
    return 0;
}

int scaffold_sample_spec(const struct scaffold_template *t, struct sample_spec *spec, char *err,
                         size_t errlen)
{
    sample_spec_default(spec);
    for (size_t i = 0; i < spec->n_series; i++)
        if (!scaffold_template_reads(t, spec->series[i].symbol))
            spec->skip_mask |= 1u << i;
    for (const char *p = t->symbols; *p;) {
        size_t k = strcspn(p, ",");
        int found = 0;
        for (size_t i = 0; i < spec->n_series; i++)
            found |= strlen(spec->series[i].symbol) == k &&
                     strncmp(spec->series[i].symbol, p, k) == 0;
        if (!found) {
            snprintf(err, errlen,
                     "template '%s' reads '%.*s', which the sample data set does not have", t->name,
                     (int)k, p);
            return -1;
        }
        p += k;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* ------------------------------------------------------------ substitution */

struct subst {
    const char *name; /* without the @ signs */
    const char *value;
};

/* Write 'text' to 'path' with @NAME@ placeholders replaced. 0 or -1 (errno set). */
static int write_substituted(const char *path, const char *text, const struct subst *vars,
                             size_t n_vars)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    const char *p = text;
    while (*p) {
        const char *at = strchr(p, '@');
        if (!at) {
            fputs(p, f);
            break;
        }
        fwrite(p, 1, (size_t)(at - p), f);
        const struct subst *hit = NULL;
        for (size_t i = 0; i < n_vars; i++) {
            size_t nl = strlen(vars[i].name);
            if (strncmp(at + 1, vars[i].name, nl) == 0 && at[1 + nl] == '@') {
                hit = &vars[i];
                break;
            }
        }
        if (hit) {
            fputs(hit->value, f);
            p = at + strlen(hit->name) + 2;
        } else {
            fputc('@', f);
            p = at + 1;
        }
    }
    int bad = ferror(f);
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        errno = e ? e : EIO;
        return -1;
    }
    return 0;
}

/* Copy every file under 'src' into 'dst' (created as needed), substituting. */
static int copy_tree(const char *src, const char *dst, const struct subst *vars, size_t n_vars,
                     char *err, size_t errlen)
{
    if (mkdir(dst, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create directory '%s': %s", dst, strerror(errno));
        return -1;
    }
    if (!is_dir(dst)) {
        snprintf(err, errlen, "cannot create directory '%s': a file is in the way", dst);
        return -1;
    }
    DIR *d = opendir(src);
    if (!d) {
        snprintf(err, errlen, "cannot read template directory '%s': %s", src, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char from[PATH_MAX], to[PATH_MAX];
        const char *out_name = strcmp(de->d_name, "gitignore") == 0 ? ".gitignore" : de->d_name;
        if (join(from, sizeof(from), src, de->d_name) < 0 ||
            join(to, sizeof(to), dst, out_name) < 0) {
            snprintf(err, errlen, "path too long under '%s'", dst);
            rc = -1;
            break;
        }
        if (is_dir(from)) {
            rc = copy_tree(from, to, vars, n_vars, err, errlen);
            continue;
        }
        char *text = read_all(from, NULL);
        if (!text) {
            snprintf(err, errlen, "cannot read template file '%s': %s", from, strerror(errno));
            rc = -1;
            break;
        }
        if (write_substituted(to, text, vars, n_vars) < 0) {
            snprintf(err, errlen, "cannot write '%s': %s", to, strerror(errno));
            rc = -1;
        }
        free(text);
    }
    closedir(d);
    return rc;
}

/* ------------------------------------------------------------ the target directory */

/* 1 if 'path' holds any entry, 0 if empty, -1 on error (errno). */
static int dir_has_entries(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *de;
    int found = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            found = 1;
            break;
        }
    }
    closedir(d);
    return found;
}

void scaffold_project_name(const char *path, char *out, size_t len)
{
    char tmp[PATH_MAX];
    pathf(tmp, sizeof(tmp), "%s", path);
    size_t n = strlen(tmp);
    while (n > 1 && tmp[n - 1] == '/')
        tmp[--n] = '\0';
    char real[PATH_MAX];
    const char *full = realpath(tmp, real) ? real : tmp;
    const char *base = strrchr(full, '/');
    base = base ? base + 1 : full;
    size_t j = 0;
    for (; *base && j + 1 < len && j < 64; base++)
        out[j++] = (isalnum((unsigned char)*base) || *base == '_' || *base == '-' || *base == '.')
                       ? *base
                       : '_';
    out[j] = '\0';
    if (j == 0 || strspn(out, ".") == j)
        snprintf(out, len, "strategy");
}

/* ------------------------------------------------------------ create */

/*
 * Keep the header of 'text' (snippet file 'path') and the "- tags: [SYMBOL]" blocks of
 * the symbols template 't' reads (see scaffold.h). New string, or NULL with err.
 */
static char *filter_sources(const char *text, const char *path,
                            const struct scaffold_template *t, char *err, size_t errlen)
{
    size_t cap = strlen(text) + 1, used = 0;
    char *out = malloc(cap);
    if (!out) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int keep = 1, line_no = 0;
    size_t n_sym = 1;
    for (const char *c = t->symbols; *c; c++)
        n_sym += *c == ',';
    size_t n_kept = 0;
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, "\n");
        line_no++;
        const char *q = p + strspn(p, " \t");
        if (q[0] == '-' && q[1] == ' ') {
            const char *open = "- tags: [";
            size_t sl = strncmp(q, open, strlen(open)) == 0
                            ? strcspn(q + strlen(open), "],\n")
                            : 0;
            const char *sym = q + strlen(open);
            if (sl == 0 || sl > 40 || sym[sl] != ']') {
                snprintf(err, errlen, "%s:%d: expected a data source starting '- tags: [SYMBOL]'",
                         path, line_no);
                free(out);
                return NULL;
            }
            char one[48];
            snprintf(one, sizeof(one), "%.*s", (int)sl, sym);
            keep = scaffold_template_reads(t, one);
            n_kept += keep;
        }
        if (keep) {
            memcpy(out + used, p, len);
            used += len;
            out[used++] = '\n';
        }
        p += len;
        if (*p == '\n')
            p++;
    }
    if (used > 0)
        used--; /* the placeholder's own line supplies the last newline */
    out[used] = '\0';
    if (n_kept != n_sym) {
        snprintf(err, errlen,
                 "%s: template '%s' reads %s but the file has %zu matching data source%s (one "
                 "'- tags: [SYMBOL]' block per symbol is needed)",
                 path, t->name, t->symbols, n_kept, n_kept == 1 ? "" : "s");
        free(out);
        return NULL;
    }
    return out;
}

static char *read_snippet(const char *data_dir, const char *name,
                          const struct scaffold_template *t, char *err, size_t errlen)
{
    char path[PATH_MAX];
    pathf(path, sizeof(path), "%s/snippets/%s", data_dir, name);
    char *s = read_all(path, NULL);
    if (!s) {
        snprintf(err, errlen, "cannot read template file '%s': %s", path, strerror(errno));
        return NULL;
    }
    char *kept = filter_sources(s, path, t, err, errlen);
    free(s);
    return kept;
}

int scaffold_create(const struct scaffold_paths *paths, const struct scaffold_options *opt,
                    char *err, size_t errlen)
{
    struct scaffold_catalog cat;
    if (scaffold_catalog_load(paths->data_dir, &cat, err, errlen) < 0)
        return SCAFFOLD_EFAIL;
    const struct scaffold_template *t =
        opt->template_name ? scaffold_catalog_find(&cat, opt->template_name) : &cat.items[0];
    if (!t) {
        char names[1024];
        scaffold_catalog_names(&cat, names, sizeof(names));
        snprintf(err, errlen, "unknown template '%s'; valid templates: %s", opt->template_name,
                 names);
        scaffold_catalog_release(&cat);
        return SCAFFOLD_ETEMPLATE;
    }
    int rc = SCAFFOLD_EFAIL;
    char *snippet = NULL;
    const char *path = opt->path;
    struct stat st;

    if (!path || !*path) {
        snprintf(err, errlen, "no target directory given");
        rc = SCAFFOLD_EPATH;
        goto out;
    }
    if (stat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "cannot create project in '%s': not a directory", path);
            rc = SCAFFOLD_EPATH;
            goto out;
        }
        int has = dir_has_entries(path);
        if (has < 0) {
            snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
            rc = SCAFFOLD_EPATH;
            goto out;
        }
        if (has && !opt->force) {
            snprintf(err, errlen,
                     "refusing to create a project in '%s': directory is not empty "
                     "(use --force to write into it anyway)",
                     path);
            rc = SCAFFOLD_ENOTEMPTY;
            goto out;
        }
    } else if (state_mkdir_p(path, 0755) != 0) {
        snprintf(err, errlen, "cannot create '%s': %s", path, strerror(errno));
        rc = SCAFFOLD_EPATH;
        goto out;
    }
    if (access(path, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "cannot write into '%s': %s", path, strerror(errno));
        rc = SCAFFOLD_EPATH;
        goto out;
    }

    struct sample_spec spec;
    if (opt->with_sample_data && scaffold_sample_spec(t, &spec, err, errlen) < 0)
        goto out;
    snippet = read_snippet(paths->data_dir,
                           opt->with_sample_data ? "data-sample.yml" : "data-synthetic.yml", t,
                           err, errlen);
    if (!snippet)
        goto out;
    char project[80];
    scaffold_project_name(path, project, sizeof(project));
    const struct subst vars[] = {
        {"PROJECT", project},
        {"TEMPLATE", t->name},
        {"DESCRIPTION", t->description},
        {"QMTL", opt->qmtl_exe ? opt->qmtl_exe : "qmtl"},
        {"DATA_SOURCES", snippet},
    };
    size_t n_vars = sizeof(vars) / sizeof(vars[0]);
    char src[PATH_MAX];
    if (pathf(src, sizeof(src), "%s/project", paths->data_dir) < 0 ||
        copy_tree(src, path, vars, n_vars, err, errlen) < 0)
        goto out;
    if (pathf(src, sizeof(src), "%s/templates/%s", paths->data_dir, t->name) < 0 ||
        copy_tree(src, path, vars, n_vars, err, errlen) < 0)
        goto out;
    if (opt->with_sample_data) {
        char data[PATH_MAX];
        if (join(data, sizeof(data), path, "data") < 0 ||
            (mkdir(data, 0755) != 0 && errno != EEXIST)) {
            snprintf(err, errlen, "cannot create directory '%s/data': %s", path, strerror(errno));
            goto out;
        }
        if (sample_write_csv(&spec, data, NULL, err, errlen) < 0)
            goto out;
    }
    rc = SCAFFOLD_OK;
out:
    free(snippet);
    scaffold_catalog_release(&cat);
    return rc;
}
