/* test_acl: CIDR parsing and matching, allow/deny order (lib/riap_acl.c). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "riap_acl.h"
#include "unit.h"

static int allows(const struct riap_acl *a, const char *ip)
{
  unsigned char b[16];
  if (!riap_acl_scanip(ip, b)) return -1;
  return riap_acl_allows(a, b);
}

/* the listener never prints a block nor frees its lists: these two are
 * the test's own */
static const unsigned char v4prefix[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };

static size_t fmtcidr(char *dest, const struct riap_cidr *c)
{
  char a[INET6_ADDRSTRLEN];
  size_t n;
  int v4 = !memcmp(c->addr, v4prefix, 12) && c->bits >= 96;
  if (v4) inet_ntop(AF_INET, c->addr + 12, a, sizeof a);
  else inet_ntop(AF_INET6, c->addr, a, sizeof a);
  n = strlen(a);
  memcpy(dest, a, n);
  dest[n++] = '/';
  {
    unsigned b = v4 ? c->bits - 96 : c->bits;
    if (b >= 100) dest[n++] = (char)('0' + b / 100);
    if (b >= 10) dest[n++] = (char)('0' + b / 10 % 10);
    dest[n++] = (char)('0' + b % 10);
  }
  dest[n] = 0;
  return n;
}

static void acl_free(struct riap_acl *a)
{
  free(a->allow);
  free(a->deny);
  memset(a, 0, sizeof *a);
}

static const char *fmt(const char *s)
{
  static char buf[64];
  struct riap_cidr c;
  if (!riap_acl_scancidr(s, &c)) return "(fail)";
  fmtcidr(buf, &c);
  return buf;
}

int main(void)
{
  struct riap_acl a = { 0, 0, 0, 0 };
  struct riap_cidr c;
  unsigned char ip[16];
  const char *bad;

  CHECK_STR(fmt("127.0.0.1"), "127.0.0.1/32", "an IPv4 address alone is a /32");
  CHECK_STR(fmt("10.0.0.0/8"), "10.0.0.0/8", "IPv4 CIDR");
  CHECK_STR(fmt("0.0.0.0/0"), "0.0.0.0/0", "IPv4 /0");
  CHECK_STR(fmt("::1"), "::1/128", "an IPv6 address alone is a /128");
  CHECK_STR(fmt("fe80::/10"), "fe80::/10", "IPv6 CIDR");
  CHECK_STR(fmt("[2001:db8::]/32"), "2001:db8::/32", "IPv6 in brackets");
  CHECK_STR(fmt("::/0"), "::/0", "IPv6 /0");
  CHECK_STR(fmt("::ffff:10.1.0.0/112"), "10.1.0.0/16", "a v4-mapped block is shown as IPv4");
  CHECK(!riap_acl_scancidr("10.0.0.1/8", &c), "host bits set: refused");
  CHECK(!riap_acl_scancidr("10.0.0.0/33", &c), "IPv4 prefix over 32: refused");
  CHECK(!riap_acl_scancidr("::/129", &c), "IPv6 prefix over 128: refused");
  CHECK(!riap_acl_scancidr("10.0.0.0/", &c), "empty prefix: refused");
  CHECK(!riap_acl_scancidr("10.0.0.0/08", &c), "leading zero in prefix: refused");
  CHECK(!riap_acl_scancidr("10.0.0.0/-1", &c), "negative prefix: refused");
  CHECK(!riap_acl_scancidr("10.0.0/8", &c), "three-part IPv4: refused");
  CHECK(!riap_acl_scancidr("localhost", &c), "a name: refused");
  CHECK(!riap_acl_scancidr("", &c), "empty: refused");
  CHECK(!riap_acl_scancidr("1.2.3.4 ", &c), "trailing space: refused");
  CHECK(!riap_acl_scanip("1.2.3.4/32", ip), "scanip takes no prefix");
  CHECK(riap_acl_scanip("[::1]", ip) == 5, "scanip takes brackets");

  CHECK(allows(&a, "1.2.3.4") == 1, "no rules: all allowed");
  CHECK(riap_acl_add(&a, "127.0.0.0/8,::1", 0, &bad), "allow list added");
  CHECK(allows(&a, "127.0.0.1") == 1, "127.0.0.1 inside 127.0.0.0/8");
  CHECK(allows(&a, "127.255.255.255") == 1, "last address of the block");
  CHECK(allows(&a, "128.0.0.1") == 0, "outside every allow rule: refused");
  CHECK(allows(&a, "::ffff:127.0.0.2") == 1, "a v4-mapped peer matches the IPv4 rule");
  CHECK(allows(&a, "::1") == 1, "::1 allowed");
  CHECK(allows(&a, "::2") == 0, "::2 refused");
  CHECK(riap_acl_add(&a, "127.0.0.2", 1, &bad), "deny rule added");
  CHECK(allows(&a, "127.0.0.2") == 0, "deny wins over allow");
  CHECK(allows(&a, "::ffff:127.0.0.2") == 0, "deny matches the v4-mapped form too");
  CHECK(allows(&a, "127.0.0.3") == 1, "the rest of the allow block still allowed");
  CHECK(!riap_acl_add(&a, "10.0.0.0/8,bogus", 1, &bad) && !strcmp(bad, "bogus"), "a bad item is named");
  CHECK(a.ndeny == 1, "a list with a bad item adds nothing");
  CHECK(!riap_acl_add(&a, "10.0.0.0/8,", 1, &bad), "an empty item is refused");
  acl_free(&a);

  CHECK(riap_acl_add(&a, "0.0.0.0/0", 1, &bad), "deny all IPv4");
  CHECK(allows(&a, "8.8.8.8") == 0, "IPv4 denied");
  CHECK(allows(&a, "2001:db8::1") == 1, "IPv6 not touched by an IPv4 rule");
  acl_free(&a);
  CHECK(riap_acl_add(&a, "fe80::/10", 0, &bad), "allow fe80::/10");
  CHECK(allows(&a, "febf::1") == 1, "febf:: inside fe80::/10");
  CHECK(allows(&a, "fec0::1") == 0, "fec0:: outside fe80::/10");
  CHECK(allows(&a, "127.0.0.1") == 0, "IPv4 outside an IPv6-only allow list");
  acl_free(&a);
  return UNIT_DONE();
}
