/* Fuzz the plugin file reader: any bytes as a .so file; refused or read, never out of
 * bounds, and a read descriptor reads the same through the file descriptor path. */
#include "host/plugin/elf_desc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct elf_desc a, b;
    char err[512];
    int rc = elf_desc_read_mem(data, size, "fuzz.so", &a, err, sizeof(err));
    if (rc != 0 && rc != -1)
        abort();
    if (rc < 0 && (!err[0] || strchr(err, '\n')))
        abort();
    int fd = memfd_create("fuzz-elf", 0);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        int rc2 = elf_desc_read_fd(fd, size, "fuzz.so", &b, err, sizeof(err));
        if (rc2 != rc || (rc == 0 && memcmp(&a, &b, sizeof(a)) != 0))
            abort();
    }
    close(fd);
    return 0;
}
