/* riap_acl.h: access rules on remote addresses: CIDR blocks (IPv4 and
 * IPv6) in allow and deny lists. Every address is held as 16 bytes: an
 * IPv4 one as its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so a rule
 * 127.0.0.0/8 matches a peer seen as 127.0.0.1 or as ::ffff:127.0.0.1.
 * Order: deny wins; then an empty allow list allows all, else the address
 * must match an allow rule. See doc/riap-listen.8, ACCESS CONTROL. */
#ifndef RIAP_ACL_H
#define RIAP_ACL_H
#include <stddef.h>

struct riap_cidr {
  unsigned char addr[16];     /* network address, host bits zero */
  unsigned bits;              /* prefix length 0-128 (an IPv4 /n is 96+n) */
};

struct riap_acl {
  struct riap_cidr *allow, *deny;
  size_t nallow, ndeny;
};

/* riap_acl_scanip: parses a numeric IPv4 (a.b.c.d) or IPv6 address (also
 * in brackets, also ::ffff:a.b.c.d) into ip; returns the bytes consumed
 * (all of s), 0 when s is not such an address. */
size_t riap_acl_scanip(const char *s, unsigned char ip[16]);

/* riap_acl_scancidr: parses ADDR or ADDR/N (N 0-32 for IPv4, 0-128 for
 * IPv6; no /N: the one address) into c; host bits set in ADDR are a
 * failure (a typo, most likely). Returns the bytes consumed (all of s),
 * 0 for failure. */
size_t riap_acl_scancidr(const char *s, struct riap_cidr *c);

/* riap_acl_match: 1 when ip is inside c, else 0. */
int riap_acl_match(const struct riap_cidr *c, const unsigned char ip[16]);

/* riap_acl_add: adds a comma-separated list of CIDR blocks to the allow
 * (deny=0) or deny list. Returns 1; 0 when an item does not parse (then
 * *bad points at it, nothing of the list is added) or memory runs out
 * (*bad NULL). */
int riap_acl_add(struct riap_acl *a, const char *list, int deny, const char **bad);

/* riap_acl_allows: 1 when ip is allowed by a (deny wins; no allow rule:
 * all allowed), 0 when refused. */
int riap_acl_allows(const struct riap_acl *a, const unsigned char ip[16]);

#endif
