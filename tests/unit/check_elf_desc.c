/* elf_desc: the descriptor header read from the file as data, on good and hostile files. */
#include "host/plugin/elf_desc.h"

#include <check.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qmtl/qmtl.h>

static unsigned char *load(const char *name, size_t *len)
{
    const char *b = getenv("QMTL_BUILD");
    char path[512];
    snprintf(path, sizeof(path), "%s/fixtures/%s.so", b && *b ? b : "build", name);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static char err[512];

START_TEST(test_reads_descriptor)
{
    size_t len;
    unsigned char *buf = load("ok", &len);
    struct elf_desc d;
    ck_assert_int_eq(elf_desc_read_mem(buf, len, "ok.so", &d, err, sizeof(err)), 0);
    ck_assert_uint_eq(d.magic, QMTL_PLUGIN_MAGIC);
    ck_assert_uint_eq(d.abi_major, QMTL_ABI_MAJOR);
    ck_assert_uint_eq(d.abi_minor, QMTL_ABI_MINOR);
    ck_assert_uint_eq(d.size, sizeof(struct qmtl_plugin));
    free(buf);
    buf = load("other_major", &len);
    ck_assert_int_eq(elf_desc_read_mem(buf, len, "x.so", &d, err, sizeof(err)), 0);
    ck_assert_uint_eq(d.abi_major, QMTL_ABI_MAJOR + 1);
    free(buf);
    buf = load("no_descriptor", &len);
    ck_assert_int_eq(elf_desc_read_mem(buf, len, "x.so", &d, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "plugin 'x.so': no descriptor: symbol 'qmtl_plugin_descriptor' not "
                          "found (define it with QMTL_PLUGIN())");
    free(buf);
}
END_TEST

START_TEST(test_every_prefix_is_refused_safely)
{
    /* every truncation of a real plugin: refused, never read out of bounds (ASan) */
    size_t len;
    unsigned char *buf = load("ok", &len);
    struct elf_desc d;
    for (size_t n = 0; n < len; n += (n < 4096 ? 1 : 97)) {
        unsigned char *cut = malloc(n ? n : 1);
        memcpy(cut, buf, n);
        int rc = elf_desc_read_mem(cut, n, "t.so", &d, err, sizeof(err));
        /* the descriptor may be found before the section headers end the file */
        if (rc == 0)
            ck_assert_uint_eq(d.magic, QMTL_PLUGIN_MAGIC);
        free(cut);
    }
    ck_assert_int_eq(elf_desc_read_mem(buf, 3, "t.so", &d, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "plugin 't.so': not an ELF file");
    free(buf);
}
END_TEST

START_TEST(test_hostile_headers)
{
    size_t len;
    unsigned char *buf = load("ok", &len);
    unsigned char *w = malloc(len);
    struct elf_desc d;
    Elf64_Ehdr *eh = (Elf64_Ehdr *)w;

    /* section header table past the end of the file */
    memcpy(w, buf, len);
    eh->e_shoff = (Elf64_Off)len;
    ck_assert_int_eq(elf_desc_read_mem(w, len, "t.so", &d, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "truncated file"), "%s", err);

    /* offsets that overflow 64 bits */
    memcpy(w, buf, len);
    eh->e_phoff = ~(Elf64_Off)0 - 8;
    ck_assert_int_eq(elf_desc_read_mem(w, len, "t.so", &d, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "overflow"), "%s", err);

    /* wrong entry size */
    memcpy(w, buf, len);
    eh->e_shentsize = 12;
    ck_assert_int_eq(elf_desc_read_mem(w, len, "t.so", &d, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "malformed ELF file: header entry sizes"), "%s", err);

    /* an executable, not a shared object */
    memcpy(w, buf, len);
    eh->e_type = ET_EXEC;
    ck_assert_int_eq(elf_desc_read_mem(w, len, "t.so", &d, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "plugin 't.so': not a shared object (build with -shared -fPIC)");

    /* big-endian data */
    memcpy(w, buf, len);
    w[EI_DATA] = ELFDATA2MSB;
    ck_assert_int_eq(elf_desc_read_mem(w, len, "t.so", &d, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "built for another machine (ELF class 2, byte order 2"), "%s", err);

    /* .dynsym pointing outside the file, and its string table link out of range */
    memcpy(w, buf, len);
    Elf64_Shdr *sh = (Elf64_Shdr *)(w + eh->e_shoff);
    int dyn = -1;
    for (int i = 0; i < eh->e_shnum; i++)
        if (sh[i].sh_type == SHT_DYNSYM)
            dyn = i;
    ck_assert_int_ge(dyn, 0);
    sh[dyn].sh_size = (Elf64_Xword)len * 4;
    ck_assert_int_eq(elf_desc_read_mem(w, len, "t.so", &d, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "plugin 't.so': malformed ELF file: .dynsym or .dynstr outside the file");
    memcpy(w, buf, len);
    sh[dyn].sh_link = 0xffff;
    ck_assert_int_eq(elf_desc_read_mem(w, len, "t.so", &d, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "plugin 't.so': malformed ELF file: .dynsym string table link");

    /* no section headers at all */
    memcpy(w, buf, len);
    eh->e_shnum = 0;
    ck_assert_int_eq(elf_desc_read_mem(w, len, "t.so", &d, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "plugin 't.so': malformed ELF file: no dynamic symbol table in the "
                          "section headers (stripped of them?)");

    /* the descriptor's address in no loaded segment */
    memcpy(w, buf, len);
    Elf64_Phdr *ph = (Elf64_Phdr *)(w + eh->e_phoff);
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD)
            ph[i].p_type = PT_NULL;
    ck_assert_int_eq(elf_desc_read_mem(w, len, "t.so", &d, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "is in no loaded segment"), "%s", err);

    /* a segment whose file range runs past the end of the file */
    memcpy(w, buf, len);
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD)
            ph[i].p_offset = (Elf64_Off)len;
    ck_assert_int_eq(elf_desc_read_mem(w, len, "t.so", &d, err, sizeof(err)), -1);
    free(w);
    free(buf);
}
END_TEST

START_TEST(test_host_machine)
{
#if defined(__x86_64__)
    ck_assert_int_eq(elf_host_machine(), EM_X86_64);
#elif defined(__aarch64__)
    ck_assert_int_eq(elf_host_machine(), EM_AARCH64);
#else
    ck_assert_int_ne(elf_host_machine(), EM_NONE);
#endif
}
END_TEST

int main(void)
{
    Suite *s = suite_create("elf_desc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_reads_descriptor);
    tcase_add_test(tc, test_every_prefix_is_refused_safely);
    tcase_add_test(tc, test_hostile_headers);
    tcase_add_test(tc, test_host_machine);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
