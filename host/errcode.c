/* errcode: names and meanings of the plugin status codes (see errcode.h). */
#include "host/errcode.h"

#include <stdio.h>

#include <qmtl/qmtl.h>

static const struct {
    int code;
    const char *name, *meaning;
} codes[] = {
    {QMTL_OK, "QMTL_OK", "success"},
    {QMTL_ERR, "QMTL_ERR", "generic failure"},
    {QMTL_EAGAIN, "QMTL_EAGAIN", "not now, try again later"},
    {QMTL_EINVAL, "QMTL_EINVAL", "invalid argument"},
    {QMTL_ENOMEM, "QMTL_ENOMEM", "out of memory"},
    {QMTL_EABI, "QMTL_EABI", "ABI mismatch"},
    {QMTL_ENOENT, "QMTL_ENOENT", "no such thing"},
    {QMTL_ESTATE, "QMTL_ESTATE", "not allowed in this state"},
};

const char *errcode_name(int code)
{
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (codes[i].code == code)
            return codes[i].name;
    return NULL;
}

const char *errcode_meaning(int code)
{
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (codes[i].code == code)
            return codes[i].meaning;
    return NULL;
}

const char *errcode_text(int code, char *buf, size_t len)
{
    const char *name = errcode_name(code);
    if (name)
        snprintf(buf, len, "%s (%s)", name, errcode_meaning(code));
    else
        snprintf(buf, len, "%d (not a qmtl status code)", code);
    return buf;
}
