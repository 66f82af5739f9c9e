/* Unit tests: the path of a fixture plugin built by the Makefile (tests/fixtures/NAME.c). */
#ifndef QMTL_TESTS_FIXTURE_LIB_H
#define QMTL_TESTS_FIXTURE_LIB_H

#include <stdio.h>
#include <stdlib.h>

/* "$QMTL_BUILD/fixtures/NAME.so" (build/ by default), in a static buffer. */
static inline const char *fixture(const char *name)
{
    static char path[512];
    const char *b = getenv("QMTL_BUILD");
    snprintf(path, sizeof(path), "%s/fixtures/%s.so", b && *b ? b : "build", name);
    return path;
}

#endif
