/* riap_acl.c: CIDR allow/deny lists, see riap_acl.h. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "riap_acl.h"

static const unsigned char v4prefix[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };

/* digits only, no sign, no leading zeros but "0" itself */
static int scan_prefix(const char *s, size_t n, unsigned max, unsigned *out)
{
  unsigned v = 0;
  size_t i;
  if (!n || n > 3 || (n > 1 && s[0] == '0')) return 0;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  if (v > max) return 0;
  *out = v;
  return 1;
}

/* n bytes of s as an address; *v4 tells which form it was */
static int scan_addr(const char *s, size_t n, unsigned char ip[16], int *v4)
{
  char buf[64];
  if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
    if (n - 2 >= sizeof buf || !memchr(s, ':', n)) return 0;
    memcpy(buf, s + 1, n - 2);
    buf[n - 2] = 0;
    *v4 = 0;
    return inet_pton(AF_INET6, buf, ip) == 1;
  }
  if (!n || n >= sizeof buf) return 0;
  memcpy(buf, s, n);
  buf[n] = 0;
  if (strchr(buf, ':')) { *v4 = 0; return inet_pton(AF_INET6, buf, ip) == 1; }
  *v4 = 1;
  memcpy(ip, v4prefix, 12);
  return inet_pton(AF_INET, buf, ip + 12) == 1;
}

size_t riap_acl_scanip(const char *s, unsigned char ip[16])
{
  int v4;
  size_t n = strlen(s);
  return scan_addr(s, n, ip, &v4) ? n : 0;
}

int riap_acl_match(const struct riap_cidr *c, const unsigned char ip[16])
{
  unsigned full = c->bits / 8, rest = c->bits % 8;
  if (c->bits > 128) return 0;
  if (memcmp(c->addr, ip, full)) return 0;
  if (rest) {
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    if ((c->addr[full] & mask) != (ip[full] & mask)) return 0;
  }
  return 1;
}

size_t riap_acl_scancidr(const char *s, struct riap_cidr *c)
{
  size_t n = strlen(s), an;
  const char *slash = strchr(s, '/');
  unsigned char ip[16];
  unsigned bits;
  int v4;
  an = slash ? (size_t)(slash - s) : n;
  if (!scan_addr(s, an, ip, &v4)) return 0;
  if (slash) {
    if (!scan_prefix(slash + 1, n - an - 1, v4 ? 32 : 128, &bits)) return 0;
    if (v4) bits += 96;
  } else {
    bits = 128;
  }
  memcpy(c->addr, ip, 16);
  c->bits = bits;
  /* host bits must be zero: 10.0.0.1/8 is more likely a typo than meant */
  {
    unsigned i;
    for (i = bits; i < 128; i++)
      if (ip[i / 8] & (0x80 >> (i % 8))) return 0;
  }
  return n;
}

int riap_acl_add(struct riap_acl *a, const char *list, int deny, const char **bad)
{
  const char *p = list;
  size_t count = 0, have = deny ? a->ndeny : a->nallow;
  struct riap_cidr *arr;
  *bad = list;
  /* validate first: a list is added whole or not at all */
  for (;;) {
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    char buf[80];
    struct riap_cidr c;
    if (!n || n >= sizeof buf) { *bad = p; return 0; }
    memcpy(buf, p, n);
    buf[n] = 0;
    if (!riap_acl_scancidr(buf, &c)) { *bad = p; return 0; }
    count++;
    if (!e) break;
    p = e + 1;
  }
  arr = realloc(deny ? a->deny : a->allow, (have + count) * sizeof *arr);
  if (!arr) { *bad = 0; return 0; }
  if (deny) a->deny = arr; else a->allow = arr;
  for (p = list;;) {
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    char buf[80];
    memcpy(buf, p, n);
    buf[n] = 0;
    riap_acl_scancidr(buf, &arr[have++]);
    if (!e) break;
    p = e + 1;
  }
  if (deny) a->ndeny = have; else a->nallow = have;
  return 1;
}

int riap_acl_allows(const struct riap_acl *a, const unsigned char ip[16])
{
  size_t i;
  for (i = 0; i < a->ndeny; i++) if (riap_acl_match(&a->deny[i], ip)) return 0;
  if (!a->nallow) return 1;
  for (i = 0; i < a->nallow; i++) if (riap_acl_match(&a->allow[i], ip)) return 1;
  return 0;
}
