/*
 * elf_desc: read a plugin's descriptor header from the file, without mapping it.
 *
 * Before any byte of a plugin is mapped (and before its ELF constructors can run), the
 * loader checks the file as data: a 64-bit ELF shared object of this host's machine and
 * byte order, whose dynamic symbol table (.dynsym, found through the section headers; a
 * file stripped of them is refused) exports 'qmtl_plugin_descriptor'; the symbol's
 * address is mapped to a file offset through the PT_LOAD segments and the descriptor's
 * leading integer fields (magic, abi_major, abi_minor, size) are read from there. Only those four fields are read:
 * the pointers that follow are relocated at load time and mean nothing in the file.
 *
 * The file is hostile: every offset, size and count is checked against the file size
 * (no arithmetic overflow), and the work is bounded by the file size.
 */
#ifndef QMTL_HOST_ELF_DESC_H
#define QMTL_HOST_ELF_DESC_H

#include <stddef.h>
#include <stdint.h>

struct elf_desc {
    uint32_t magic, abi_major, abi_minor, size;
};

/*
 * Read the descriptor header from the 'len' bytes at 'data' ('path' only names the file
 * in messages). Returns 0 and fills *out, or -1 with one line in err:
 *   "plugin 'PATH': not an ELF file", "... truncated file (N bytes, headers need M)",
 *   "... built for another machine (...)", "... not a shared object (...)",
 *   "... no descriptor: symbol 'qmtl_plugin_descriptor' not found (...)", or a
 *   "... malformed ELF file: ..." line for a structure that points outside the file.
 */
int elf_desc_read_mem(const void *data, size_t len, const char *path, struct elf_desc *out,
                      char *err, size_t errlen);

/* The same, reading the open regular file 'fd' of 'size' bytes with pread(2). */
int elf_desc_read_fd(int fd, uint64_t size, const char *path, struct elf_desc *out, char *err,
                     size_t errlen);

/* Format one refusal line into err (when err and errlen are set); returns -1. Shared by
 * the plugin file readers (elf_desc, loader). */
int plugin_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The ELF e_machine of this host (e.g. EM_X86_64, EM_AARCH64). */
int elf_host_machine(void);

#endif
