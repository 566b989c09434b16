/* riap_proxy.h: the PROXY protocol header (HAProxy's proxy-protocol.txt,
 * versions 1 and 2) a balancer writes before the client's bytes: who the
 * client is, on a connection that comes from the balancer. */
#ifndef RIAP_PROXY_H
#define RIAP_PROXY_H
#include <stddef.h>

#define RIAP_PROXY_V1MAX 107      /* longest v1 line, CRLF included */
#define RIAP_PROXY_MAX 4096       /* longest header taken (v2 with its TLVs) */

struct riap_proxy {
  int version;                    /* 1 or 2 */
  int local;                      /* 1: no client address (v2 LOCAL, UNSPEC, UNIX; v1 UNKNOWN):
                                   * the balancer's own connection (health check) */
  int family;                     /* 4 or 6 when not local */
  char srcip[46], dstip[46];      /* textual, no brackets */
  unsigned short srcport, dstport;
  const char *why;                /* malformed: a short reason */
};

/* riap_proxy_scan: reads the header at the start of buf[0..n). Returns 1
 * and sets *len to its length (the client's bytes follow it); 0 when the
 * bytes so far are a valid beginning but not the whole header (read more);
 * -1 when they are not a PROXY header, h->why says why. */
int riap_proxy_scan(const char *buf, size_t n, struct riap_proxy *h, size_t *len);

#endif
