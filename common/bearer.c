/* bearer: constant-time token comparison, bearer header parsing, loopback test. */
#include "bearer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

int bearer_equal(const char *presented, const char *expected)
{
    if (!presented || !expected)
        return 0;
    size_t lp = strlen(presented), le = strlen(expected);
    unsigned char diff = (unsigned char)(lp != le);
    for (size_t i = 0; i < le; i++) {
        unsigned char c = i < lp ? (unsigned char)presented[i] : 0;
        diff |= (unsigned char)(c ^ (unsigned char)expected[i]);
    }
    return diff == 0 && le > 0;
}

const char *bearer_from_header(const char *h)
{
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return *h ? h : NULL;
}

int bearer_host_is_loopback(const char *host)
{
    if (!host)
        return 0;
    if (strcasecmp(host, "localhost") == 0)
        return 1;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    struct in6_addr a6;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return 0;
}
