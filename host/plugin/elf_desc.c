/* elf_desc: the descriptor header read from a plugin file as data (see elf_desc.h). */
#include "host/plugin/elf_desc.h"

#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <qmtl/qmtl.h>

/* Symbols scanned at most (a plugin exports a handful; the limit bounds a hostile file). */
#define MAX_SYMS (1u << 20)

struct src {
    const unsigned char *mem; /* or NULL: read fd */
    int fd;
    uint64_t size;
};

int plugin_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Read exactly n bytes at off; 0, or -1 when the range is not inside the file. */
static int get(const struct src *s, uint64_t off, void *dst, size_t n)
{
    if (off > s->size || n > s->size - off)
        return -1;
    if (s->mem) {
        memcpy(dst, s->mem + off, n);
        return 0;
    }
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(s->fd, (char *)dst + done, n - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

/* Is [off, off + len) inside the file? */
static int inside(const struct src *s, uint64_t off, uint64_t len)
{
    return off <= s->size && len <= s->size - off;
}

int elf_host_machine(void)
{
#if defined(__x86_64__)
    return EM_X86_64;
#elif defined(__aarch64__)
    return EM_AARCH64;
#elif defined(__powerpc64__)
    return EM_PPC64;
#elif defined(__s390x__)
    return EM_S390;
#elif defined(__riscv)
    return EM_RISCV;
#elif defined(__loongarch__)
    return EM_LOONGARCH;
#else
    /* any other 64-bit host: its own executable says */
    static int cached = -1;
    if (cached < 0) {
        Elf64_Ehdr eh;
        FILE *f = fopen("/proc/self/exe", "rb");
        cached = f && fread(&eh, sizeof(eh), 1, f) == 1 ? eh.e_machine : EM_NONE;
        if (f)
            fclose(f);
    }
    return cached;
#endif
}

static int host_data_encoding(void)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return ELFDATA2MSB;
#else
    return ELFDATA2LSB;
#endif
}

static int check_header(const struct src *s, const char *path, Elf64_Ehdr *eh, char *err,
                        size_t errlen)
{
    memset(eh, 0, sizeof(*eh));
    size_t have = s->size < sizeof(*eh) ? (size_t)s->size : sizeof(*eh);
    if (have < SELFMAG || get(s, 0, eh, have) < 0 || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        return plugin_errf(err, errlen, "plugin '%s': not an ELF file", path);
    if (have < EI_NIDENT || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_ident[EI_DATA] != host_data_encoding())
        return plugin_errf(
            err, errlen,
            "plugin '%s': built for another machine (ELF class %d, byte order %d; this "
            "host needs 64-bit %s-endian)",
            path, have >= EI_NIDENT ? eh->e_ident[EI_CLASS] : 0,
            have >= EI_NIDENT ? eh->e_ident[EI_DATA] : 0,
            host_data_encoding() == ELFDATA2LSB ? "little" : "big");
    if (have < sizeof(*eh))
        return plugin_errf(err, errlen, "plugin '%s': truncated file (%zu bytes)", path, have);
    if (eh->e_machine != elf_host_machine())
        return plugin_errf(
            err, errlen, "plugin '%s': built for another machine (ELF machine %d, this host is %d)",
            path, eh->e_machine, elf_host_machine());
    if (eh->e_type != ET_DYN)
        return plugin_errf(err, errlen,
                           "plugin '%s': not a shared object (build with -shared -fPIC)", path);
    if ((eh->e_phnum && eh->e_phentsize != sizeof(Elf64_Phdr)) ||
        (eh->e_shnum && eh->e_shentsize != sizeof(Elf64_Shdr)))
        return plugin_errf(err, errlen, "plugin '%s': malformed ELF file: header entry sizes %u/%u",
                           path, eh->e_phentsize, eh->e_shentsize);
    uint64_t ph_len = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
    uint64_t sh_len = (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr);
    if (!inside(s, eh->e_phoff, ph_len) || !inside(s, eh->e_shoff, sh_len)) {
        uint64_t ph_end = eh->e_phoff + ph_len, sh_end = eh->e_shoff + sh_len;
        if (ph_end < eh->e_phoff || sh_end < eh->e_shoff)
            return plugin_errf(err, errlen,
                               "plugin '%s': malformed ELF file: header offsets overflow", path);
        return plugin_errf(
            err, errlen, "plugin '%s': truncated file (%llu bytes, headers need %llu)", path,
            (unsigned long long)s->size, (unsigned long long)(ph_end > sh_end ? ph_end : sh_end));
    }
    return 0;
}

/* Find the exported descriptor symbol in .dynsym; 1 found, 0 not found, -1 malformed or
 * no .dynsym section at all (files stripped of their section headers are not read). */
static int find_symbol(const struct src *s, const Elf64_Ehdr *eh, Elf64_Sym *out, const char **why)
{
    static const char want[] = QMTL_DESCRIPTOR_SYMBOL;
    for (uint32_t i = 0; i < eh->e_shnum; i++) {
        Elf64_Shdr sh, str;
        if (get(s, eh->e_shoff + (uint64_t)i * sizeof(sh), &sh, sizeof(sh)) < 0)
            return *why = "section header", -1;
        if (sh.sh_type != SHT_DYNSYM)
            continue;
        if (sh.sh_link >= eh->e_shnum ||
            get(s, eh->e_shoff + (uint64_t)sh.sh_link * sizeof(str), &str, sizeof(str)) < 0 ||
            str.sh_type != SHT_STRTAB)
            return *why = ".dynsym string table link", -1;
        if (sh.sh_entsize != sizeof(Elf64_Sym) || !inside(s, sh.sh_offset, sh.sh_size) ||
            !inside(s, str.sh_offset, str.sh_size))
            return *why = ".dynsym or .dynstr outside the file", -1;
        uint64_t n = sh.sh_size / sizeof(Elf64_Sym);
        if (n > MAX_SYMS)
            return *why = "too many dynamic symbols", -1;
        for (uint64_t k = 1; k < n; k++) {
            Elf64_Sym sym;
            if (get(s, sh.sh_offset + k * sizeof(sym), &sym, sizeof(sym)) < 0)
                return *why = ".dynsym entry", -1;
            if (sym.st_shndx == SHN_UNDEF || ELF64_ST_BIND(sym.st_info) == STB_LOCAL ||
                sym.st_name >= str.sh_size || str.sh_size - sym.st_name < sizeof(want))
                continue;
            char name[sizeof(want)];
            if (get(s, str.sh_offset + sym.st_name, name, sizeof(name)) < 0)
                return *why = ".dynstr entry", -1;
            if (memcmp(name, want, sizeof(want)) == 0) {
                *out = sym;
                return 1;
            }
        }
        return 0;
    }
    *why = "no dynamic symbol table in the section headers (stripped of them?)";
    return -1;
}

/* The file offset of virtual address v (n bytes); 1 in the file, 0 zero-filled, -1 none. */
static int vaddr_to_off(const struct src *s, const Elf64_Ehdr *eh, uint64_t v, uint64_t n,
                        uint64_t *off)
{
    for (uint32_t i = 0; i < eh->e_phnum; i++) {
        Elf64_Phdr ph;
        if (get(s, eh->e_phoff + (uint64_t)i * sizeof(ph), &ph, sizeof(ph)) < 0)
            return -1;
        if (ph.p_type != PT_LOAD || v < ph.p_vaddr)
            continue;
        uint64_t rel = v - ph.p_vaddr;
        if (ph.p_filesz > ph.p_memsz || rel > ph.p_memsz || n > ph.p_memsz - rel)
            continue;
        if (rel >= ph.p_filesz)
            return 0; /* .bss: zeros at load time */
        if (n > ph.p_filesz - rel || !inside(s, ph.p_offset, ph.p_filesz))
            return -1;
        *off = ph.p_offset + rel;
        return 1;
    }
    return -1;
}

static int read_desc(const struct src *s, const char *path, struct elf_desc *out, char *err,
                     size_t errlen)
{
    Elf64_Ehdr eh;
    if (check_header(s, path, &eh, err, errlen) < 0)
        return -1;
    Elf64_Sym sym;
    const char *why = "";
    int found = find_symbol(s, &eh, &sym, &why);
    if (found < 0)
        return plugin_errf(err, errlen, "plugin '%s': malformed ELF file: %s", path, why);
    if (!found)
        return plugin_errf(err, errlen,
                           "plugin '%s': no descriptor: symbol '%s' not found (define it with "
                           "QMTL_PLUGIN())",
                           path, QMTL_DESCRIPTOR_SYMBOL);
    unsigned char raw[16];
    if (sym.st_size < sizeof(raw))
        return plugin_errf(err, errlen,
                           "plugin '%s': descriptor symbol '%s' is %llu bytes, too small for a "
                           "descriptor (define it with QMTL_PLUGIN())",
                           path, QMTL_DESCRIPTOR_SYMBOL, (unsigned long long)sym.st_size);
    uint64_t off = 0;
    int where = vaddr_to_off(s, &eh, sym.st_value, sizeof(raw), &off);
    if (where < 0)
        return plugin_errf(err, errlen,
                           "plugin '%s': malformed ELF file: descriptor address 0x%llx is in no "
                           "loaded segment",
                           path, (unsigned long long)sym.st_value);
    memset(raw, 0, sizeof(raw));
    if (where > 0 && get(s, off, raw, sizeof(raw)) < 0)
        return plugin_errf(err, errlen,
                           "plugin '%s': malformed ELF file: descriptor outside the file", path);
    /* same byte order as the host (checked above) */
    memcpy(&out->magic, raw, 4);
    memcpy(&out->abi_major, raw + 4, 4);
    memcpy(&out->abi_minor, raw + 8, 4);
    memcpy(&out->size, raw + 12, 4);
    return 0;
}

int elf_desc_read_mem(const void *data, size_t len, const char *path, struct elf_desc *out,
                      char *err, size_t errlen)
{
    struct src s = {.mem = data, .fd = -1, .size = len};
    return read_desc(&s, path, out, err, errlen);
}

int elf_desc_read_fd(int fd, uint64_t size, const char *path, struct elf_desc *out, char *err,
                     size_t errlen)
{
    struct src s = {.mem = NULL, .fd = fd, .size = size};
    return read_desc(&s, path, out, err, errlen);
}
