/* host_check: validation of declared values and the code identity of compute functions
 * (declared in host_api.h). */
#include <ctype.h>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "host/host_api.h"
#include "nodeid.h"

#define TAG_MAX_LEN 100
#define TAGS_MAX 32

/* ------------------------------------------------------------------ validation */

int host_parse_interval(const char *s, int64_t *out, char *err, size_t errlen)
{
    if (!s || !*s) {
        snprintf(err, errlen, "interval is empty");
        return -1;
    }
    const char *p = s;
    int64_t v = 0;
    if (!isdigit((unsigned char)*p))
        goto bad;
    while (isdigit((unsigned char)*p)) {
        v = v * 10 + (*p - '0');
        if (v > 86400L * 3600)
            goto range;
        p++;
    }
    int64_t mul = 1;
    if (*p) {
        switch (tolower((unsigned char)*p)) {
        case 's':
            mul = 1;
            break;
        case 'm':
            mul = 60;
            break;
        case 'h':
            mul = 3600;
            break;
        default:
            goto bad;
        }
        if (p[1])
            goto bad;
    }
    v *= mul;
    if (v < 1 || v > 86400)
        goto range;
    *out = v;
    return 0;
bad:
    snprintf(err, errlen, "invalid interval '%s' (expected N, Ns, Nm or Nh)", s);
    return -1;
range:
    snprintf(err, errlen, "interval '%s' out of range (1 s .. 86400 s)", s);
    return -1;
}

static int tag_ok(const char *t)
{
    size_t n = 0;
    for (; t[n]; n++) {
        unsigned char c = (unsigned char)t[n];
        if (!isalnum(c) && c != '_' && c != '.' && c != '-')
            return 0;
    }
    return n >= 1 && n <= TAG_MAX_LEN;
}

int host_check_tags(const char *const *tags, size_t *n_out, char *err, size_t errlen)
{
    size_t n = 0;
    if (!tags || !tags[0]) {
        snprintf(err, errlen, "at least one tag is required");
        return -1;
    }
    for (; tags[n]; n++) {
        if (n >= TAGS_MAX) {
            snprintf(err, errlen, "too many tags (at most %d)", TAGS_MAX);
            return -1;
        }
        if (!tag_ok(tags[n])) {
            snprintf(err, errlen, "invalid tag '%.120s' (1..%d chars of [A-Za-z0-9_.-])", tags[n],
                     TAG_MAX_LEN);
            return -1;
        }
        for (size_t j = 0; j < n; j++)
            if (strcmp(tags[j], tags[n]) == 0) {
                snprintf(err, errlen, "duplicate tag '%s'", tags[n]);
                return -1;
            }
    }
    *n_out = n;
    return 0;
}

/* ------------------------------------------------------------------ code hash */

struct phdr_find {
    uintptr_t addr;
    char build_id[2 * 64 + 1];
    uintptr_t base;
    uintptr_t seg_end; /* end of the loaded segment holding addr */
    int found;
};

/* libgcc's unwinder: the FDE (unwind entry) covering 'pc' and the start of its function. */
struct dwarf_eh_bases {
    void *tbase;
    void *dbase;
    void *func;
};
extern const void *_Unwind_Find_FDE(void *pc, struct dwarf_eh_bases *bases);

/*
 * Bytes of the function starting at 'fn': from the dynamic symbol table when it exports
 * the function, else from its unwind entry (static functions, stripped objects). The
 * entry is used only when its pc_begin, read as the pc-relative 4-byte encoding that gcc
 * and clang emit for shared objects, is 'fn' itself. 0 when neither knows.
 */
static size_t function_size(void *fn)
{
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (dladdr1(fn, &info, (void **)&sym, RTLD_DL_SYMENT) && sym && info.dli_saddr == fn &&
        ELF64_ST_TYPE(sym->st_info) == STT_FUNC && sym->st_size)
        return (size_t)sym->st_size;
    struct dwarf_eh_bases b;
    const unsigned char *fde = _Unwind_Find_FDE((char *)fn + 1, &b);
    if (!fde || b.func != fn)
        return 0;
    /* FDE: length (4), CIE pointer (4), pc_begin, pc_range */
    int32_t begin, range;
    memcpy(&begin, fde + 8, sizeof(begin));
    memcpy(&range, fde + 12, sizeof(range));
    if ((const void *)(fde + 8 + begin) != fn || range <= 0)
        return 0;
    return (size_t)range;
}

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct phdr_find *f = arg;
    int inside = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && f->addr >= start && f->addr < start + ph->p_memsz) {
            inside = 1;
            f->seg_end = start + ph->p_memsz;
        }
    }
    if (!inside)
        return 0;
    f->found = 1;
    f->base = info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        const unsigned char *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
            const unsigned char *name = p + sizeof(*nh);
            const unsigned char *desc = name + ((nh->n_namesz + 3) & ~3u);
            if (desc + nh->n_descsz > end)
                break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(name, "GNU", 4) == 0 &&
                nh->n_descsz <= 64) {
                for (unsigned k = 0; k < nh->n_descsz; k++)
                    snprintf(f->build_id + 2 * k, 3, "%02x", desc[k]);
                return 1;
            }
            p = desc + ((nh->n_descsz + 3) & ~3u);
        }
    }
    return 1;
}

int host_code_hash(qmtl_compute_fn fn, const char *code_version, char *out, size_t outlen)
{
    if (code_version && *code_version) {
        snprintf(out, outlen, "version:%s", code_version);
        return 0;
    }
    struct phdr_find f;
    memset(&f, 0, sizeof(f));
    union {
        qmtl_compute_fn fn;
        uintptr_t addr;
    } u = {.fn = fn};
    f.addr = u.addr;
    dl_iterate_phdr(phdr_cb, &f);
    size_t len = f.found ? function_size((void *)f.addr) : 0;
    if (len && len <= f.seg_end - f.addr) {
        char hex[65];
        nodeid_blake3_hex((const void *)f.addr, len, hex);
        snprintf(out, outlen, "fn:%s", hex);
        return 0;
    }
    if (f.found && f.build_id[0]) {
        snprintf(out, outlen, "so:%s:%lx", f.build_id, (unsigned long)(f.addr - f.base));
        return 0;
    }
    char hex[65];
    nodeid_blake3_hex((const void *)f.addr, 64, hex);
    snprintf(out, outlen, "fn:%.32s:%lx", hex, (unsigned long)(f.addr - f.base));
    return 0;
}
