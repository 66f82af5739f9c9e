/*
 * errcode: the names and meanings of the status codes a plugin returns (enum
 * qmtl_status in <qmtl/qmtl.h>), so that every message the host prints about a
 * plugin's code reads "QMTL_EINVAL (invalid argument)", not "-3".
 *
 * One table (errcode.c) holds every QMTL_* code; tests/unit/check_errcode.c fails when
 * qmtl.h gains a code the table lacks.
 */
#ifndef QMTL_HOST_ERRCODE_H
#define QMTL_HOST_ERRCODE_H

#include <stddef.h>

/* "QMTL_EINVAL"; NULL for a code that is not a qmtl_status. Static. */
const char *errcode_name(int code);

/* "invalid argument"; NULL for a code that is not a qmtl_status. Static. */
const char *errcode_meaning(int code);

/* "QMTL_EINVAL (invalid argument)", or "-42 (not a qmtl status code)", written into buf
 * (truncated to len). Returns buf. */
const char *errcode_text(int code, char *buf, size_t len);

#endif
