/* plugin_watch: a real temporary directory and a real event_base; loops are bounded. */
#include "host/plugin/plugin_watch.h"

#include <check.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop_testlib.h"

static char dir[256];
static struct event_base *base;
static struct plugin_watch *w;

/* What the callback saw. A "plugin" here is complete when its text ends with "END\n";
 * the callback "loads" it by reading it, as the loader would. */
#define MAX_SEEN 256
static struct seen {
    enum plugin_watch_kind kind;
    char name[64];
    char text[64]; /* what was read (CHANGED) */
    int final, rc;
} seen[MAX_SEEN];
static int n_seen;

static int on_change(void *arg, const struct plugin_watch_event *ev)
{
    (void)arg;
    ck_assert_int_lt(n_seen, MAX_SEEN);
    struct seen *s = &seen[n_seen++];
    memset(s, 0, sizeof(*s));
    s->kind = ev->kind;
    s->final = ev->final;
    const char *slash = strrchr(ev->path, '/');
    ck_assert_ptr_nonnull(slash);
    ck_assert_int_eq(strncmp(ev->path, dir, (size_t)(slash - ev->path)), 0);
    snprintf(s->name, sizeof(s->name), "%s", slash + 1);
    if (ev->kind == PLUGIN_WATCH_REMOVED)
        return 0;
    FILE *f = fopen(ev->path, "r");
    size_t n = f ? fread(s->text, 1, sizeof(s->text) - 1, f) : 0;
    if (f)
        fclose(f);
    s->text[n] = '\0';
    s->rc = n >= 4 && !strcmp(s->text + n - 4, "END\n") ? 0 : -1;
    return s->rc;
}

static int run_until(int (*cond)(void), double max_s)
{
    return lt_run_until(base, cond, max_s);
}

static int want_seen;
static int seen_at_least(void)
{
    return n_seen >= want_seen;
}

static int wait_seen(int n)
{
    want_seen = n;
    return run_until(seen_at_least, 10);
}

static uint64_t want_rescans;
static int rescans_at_least(void)
{
    struct plugin_watch_stats st;
    plugin_watch_get_stats(w, &st);
    return st.rescans >= want_rescans;
}

/* Let 'k' more periodic rescans (and the passes they schedule) happen. */
static void wait_rescans(int k)
{
    struct plugin_watch_stats st;
    plugin_watch_get_stats(w, &st);
    want_rescans = st.rescans + (uint64_t)k;
    ck_assert(run_until(rescans_at_least, 10));
}

static void path_of(const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", dir, name);
}

static void write_file(const char *name, const char *text)
{
    char p[512];
    path_of(name, p, sizeof(p));
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}

static void rename_in(const char *from, const char *to)
{
    char a[512], b[512];
    path_of(from, a, sizeof(a));
    path_of(to, b, sizeof(b));
    ck_assert_int_eq(rename(a, b), 0);
}

/* The safe deploy: write a dotfile, then rename it over the target. */
static void deploy(const char *name, const char *text)
{
    write_file(".deploy.so.tmp", text);
    rename_in(".deploy.so.tmp", name);
}

static void start(const struct plugin_watch_options *o)
{
    char err[256] = "";
    w = plugin_watch_new(base, dir, o, on_change, NULL, err, sizeof(err));
    ck_assert_msg(w != NULL, "%s", err);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/qmtl-watch-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    base = event_base_new();
    ck_assert_ptr_nonnull(base);
    n_seen = 0;
    w = NULL;
}

static void teardown(void)
{
    plugin_watch_free(w);
    event_base_free(base);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* inotify, fast settle, slow periodic rescan (so that inotify does the work) */
static const struct plugin_watch_options fast = {.settle_s = 0.15, .rescan_s = 30};

START_TEST(test_names)
{
    ck_assert(plugin_watch_name_ok("x.so"));
    ck_assert(plugin_watch_name_ok("a.b.so"));
    ck_assert(!plugin_watch_name_ok(".x.so"));
    ck_assert(!plugin_watch_name_ok("x.so.tmp"));
    ck_assert(!plugin_watch_name_ok("x.tmp"));
    ck_assert(!plugin_watch_name_ok(".so"));
    ck_assert(!plugin_watch_name_ok("x.sox"));
}
END_TEST

START_TEST(test_missing_dir)
{
    char err[256] = "", p[300];
    snprintf(p, sizeof(p), "%s/nope", dir);
    ck_assert_ptr_null(plugin_watch_new(base, p, &fast, on_change, NULL, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "cannot watch plugins directory"));
    ck_assert_ptr_nonnull(strstr(err, "nope"));
}
END_TEST

START_TEST(test_atomic_rename)
{
    start(&fast);
    deploy("a.so", "v1 END\n");
    ck_assert(wait_seen(1));
    ck_assert_int_eq(seen[0].kind, PLUGIN_WATCH_CHANGED);
    ck_assert_str_eq(seen[0].name, "a.so");
    ck_assert_str_eq(seen[0].text, "v1 END\n");
    ck_assert_int_eq(seen[0].rc, 0);
    deploy("a.so", "v2 END\n");
    ck_assert(wait_seen(2));
    ck_assert_str_eq(seen[1].text, "v2 END\n");
    /* the dotfile never showed, and nothing more comes for what is loaded */
    plugin_watch_rescan(w);
    struct plugin_watch_stats st;
    plugin_watch_get_stats(w, &st);
    ck_assert_uint_eq(st.attempts, 2);
    ck_assert_uint_eq(st.failures, 0);
}
END_TEST

/* cp over the file: truncated, written in pieces, closed: loaded once complete; what
 * was tried while the writer held it open (if anything) was not final. */
START_TEST(test_copy_in_place)
{
    write_file("b.so", "v1 END\n");
    struct plugin_watch_options o = {.settle_s = 2, .rescan_s = 0.05, .adopt = 1};
    start(&o);
    char p[512];
    path_of("b.so", p, sizeof(p));
    int fd = open(p, O_WRONLY | O_TRUNC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "v2 ", 3), 3);
    wait_rescans(2); /* the loop runs while the writer holds the file open */
    ck_assert_int_eq(write(fd, "END\n", 4), 4);
    ck_assert_int_eq(close(fd), 0);
    ck_assert(wait_seen(1));
    for (int i = 0; i < n_seen; i++)
        ck_assert(seen[i].rc == 0 || !seen[i].final);
    ck_assert_str_eq(seen[n_seen - 1].text, "v2 END\n");
    ck_assert_int_eq(seen[n_seen - 1].rc, 0);
}
END_TEST

/* A half-written file fails, is retried once settled (final), reported once, then left
 * alone until it changes; the completed file loads. */
START_TEST(test_half_written)
{
    struct plugin_watch_options o = {.settle_s = 0.15, .rescan_s = 0.05};
    start(&o);
    write_file("c.so", "v1 half");
    ck_assert(wait_seen(2));
    ck_assert_int_eq(seen[0].rc, -1);
    ck_assert_int_eq(seen[0].final, 0); /* tried on close, before settling: not reported */
    ck_assert_int_eq(seen[1].rc, -1);
    ck_assert_int_eq(seen[1].final, 1); /* settled: reported, once */
    /* nothing more for this version, across rescans and passes */
    wait_rescans(5);
    ck_assert_int_eq(n_seen, 2);
    write_file("c.so", "v1 half END\n");
    ck_assert(wait_seen(3));
    ck_assert_int_eq(seen[2].rc, 0);
    ck_assert_str_eq(seen[2].text, "v1 half END\n");
}
END_TEST

/* Replaced twice within milliseconds: the last version ends up loaded, with at most one
 * load per version. */
START_TEST(test_replaced_twice)
{
    start(&fast);
    deploy("d.so", "v1 END\n");
    deploy("d.so", "v2 END\n");
    ck_assert(wait_seen(1));
    /* give a second attempt (if any) its chance, then look */
    plugin_watch_rescan(w);
    ck_assert_int_le(n_seen, 2);
    ck_assert_str_eq(seen[n_seen - 1].text, "v2 END\n");
    for (int i = 0; i < n_seen; i++)
        ck_assert_int_eq(seen[i].rc, 0);
}
END_TEST

START_TEST(test_removed_and_moved_out)
{
    write_file("e.so", "v1 END\n");
    write_file("f.so", "v1 END\n");
    struct plugin_watch_options o = fast;
    o.adopt = 1;
    start(&o);
    char p[512];
    path_of("e.so", p, sizeof(p));
    ck_assert_int_eq(unlink(p), 0);
    ck_assert(wait_seen(1));
    ck_assert_int_eq(seen[0].kind, PLUGIN_WATCH_REMOVED);
    ck_assert_str_eq(seen[0].name, "e.so");
    rename_in("f.so", ".f.so.disabled");
    ck_assert(wait_seen(2));
    ck_assert_int_eq(seen[1].kind, PLUGIN_WATCH_REMOVED);
    ck_assert_str_eq(seen[1].name, "f.so");
}
END_TEST

/* Without inotify the periodic rescan finds new, changed and removed files; a file it
 * finds is tried once settled, so a failure there is final at once. */
START_TEST(test_rescan_only)
{
    struct plugin_watch_options o = {.settle_s = 0.05, .rescan_s = 0.05, .no_inotify = 1};
    start(&o);
    write_file("g.so", "v1 END\n");
    ck_assert(wait_seen(1));
    ck_assert_int_eq(seen[0].kind, PLUGIN_WATCH_CHANGED);
    ck_assert_int_eq(seen[0].final, 1);
    ck_assert_int_eq(seen[0].rc, 0);
    deploy("g.so", "v2 broken");
    ck_assert(wait_seen(2));
    ck_assert_int_eq(seen[1].final, 1);
    ck_assert_int_eq(seen[1].rc, -1);
    wait_rescans(3);
    ck_assert_int_eq(n_seen, 2); /* reported once, not per rescan */
    char p[512];
    path_of("g.so", p, sizeof(p));
    ck_assert_int_eq(unlink(p), 0);
    ck_assert(wait_seen(3));
    ck_assert_int_eq(seen[2].kind, PLUGIN_WATCH_REMOVED);
}
END_TEST

/* SIGHUP's rescan tries a new file at once, settled or not, before returning. */
START_TEST(test_rescan_now)
{
    struct plugin_watch_options o = {.settle_s = 60, .rescan_s = 60, .no_inotify = 1};
    start(&o);
    write_file("h.so", "v1 END\n");
    ck_assert_int_eq(n_seen, 0);
    plugin_watch_rescan(w);
    ck_assert_int_eq(n_seen, 1);
    ck_assert_str_eq(seen[0].name, "h.so");
    ck_assert_int_eq(seen[0].rc, 0);
}
END_TEST

START_TEST(test_adopt_or_report_existing)
{
    write_file("i.so", "v1 END\n");
    write_file(".hidden.so", "v1 END\n");
    write_file("j.txt", "v1 END\n");
    struct plugin_watch_options o = fast;
    o.adopt = 1;
    start(&o);
    plugin_watch_rescan(w);
    ck_assert_int_eq(n_seen, 0); /* adopted: the caller loaded it */
    plugin_watch_free(w);
    w = NULL;
    o.adopt = 0;
    start(&o);
    ck_assert(wait_seen(1));
    plugin_watch_rescan(w);
    ck_assert_int_eq(n_seen, 1);
    ck_assert_str_eq(seen[0].name, "i.so");
}
END_TEST

/* More events than the inotify queue holds: IN_Q_OVERFLOW, then a rescan finds the file
 * whose events were lost. */
START_TEST(test_queue_overflow)
{
    long max = 0;
    FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
    if (f) {
        if (fscanf(f, "%ld", &max) != 1)
            max = 0;
        fclose(f);
    }
    if (max <= 0 || max > 100000)
        return; /* cannot overflow it cheaply here */
    start(&fast);
    /* each rename of an ignored file queues two events; the loop does not run */
    write_file(".a.tmp", "");
    for (long i = 0; i <= max / 2 + 16; i++)
        rename_in(i % 2 ? ".b.tmp" : ".a.tmp", i % 2 ? ".a.tmp" : ".b.tmp");
    write_file("k.so", "v1 END\n");
    ck_assert(wait_seen(1));
    ck_assert_str_eq(seen[0].name, "k.so");
    ck_assert_int_eq(seen[0].rc, 0);
    struct plugin_watch_stats st;
    plugin_watch_get_stats(w, &st);
    ck_assert_uint_ge(st.overflows, 1);
}
END_TEST

int main(void)
{
    log_set_level(LOG_LEVEL_ERROR);
    Suite *s = suite_create("plugin_watch");
    TCase *tc = tcase_create("watch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_missing_dir);
    tcase_add_test(tc, test_atomic_rename);
    tcase_add_test(tc, test_copy_in_place);
    tcase_add_test(tc, test_half_written);
    tcase_add_test(tc, test_replaced_twice);
    tcase_add_test(tc, test_removed_and_moved_out);
    tcase_add_test(tc, test_rescan_only);
    tcase_add_test(tc, test_rescan_now);
    tcase_add_test(tc, test_adopt_or_report_existing);
    tcase_add_test(tc, test_queue_overflow);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
