/* test_proxy: the PROXY protocol header, v1 and v2 (lib/riap_proxy.c). */
#include <string.h>
#include "riap_proxy.h"
#include "unit.h"

static struct riap_proxy h;
static size_t len;

static int scan(const char *s, size_t n)
{
  return riap_proxy_scan(s, n, &h, &len);
}

static int scans(const char *s) { return scan(s, strlen(s)); }

/* a v2 header: signature, ver_cmd, family, then body */
static size_t v2(unsigned char *b, int cmd, int fam, const unsigned char *body, size_t n)
{
  static const unsigned char sig[12] = { '\r', '\n', '\r', '\n', 0, '\r', '\n', 'Q', 'U', 'I', 'T', '\n' };
  memcpy(b, sig, 12);
  b[12] = (unsigned char)(0x20 | cmd);
  b[13] = (unsigned char)fam;
  b[14] = (unsigned char)(n >> 8);
  b[15] = (unsigned char)n;
  memcpy(b + 16, body, n);
  return 16 + n;
}

int main(void)
{
  unsigned char b[8192], body[512];
  const char *l1 = "PROXY TCP4 127.0.0.5 127.0.0.1 40000 8000\r\nj{}";
  size_t n, i;
  int partial_ok;

  CHECK(scans(l1) == 1 && len == 43, "v1 TCP4: whole line, its length");
  CHECK_STR(h.srcip, "127.0.0.5", "v1 source address");
  CHECK_STR(h.dstip, "127.0.0.1", "v1 destination address");
  CHECK(h.srcport == 40000 && h.dstport == 8000 && h.family == 4 && !h.local && h.version == 1, "v1 ports, family");
  CHECK(scans("PROXY TCP6 ::1 2001:db8::1 1 65535\r\n") == 1 && h.family == 6, "v1 TCP6");
  CHECK_STR(h.dstip, "2001:db8::1", "v1 TCP6 destination");
  CHECK(scans("PROXY UNKNOWN\r\n") == 1 && h.local && len == 15, "v1 UNKNOWN: the balancer's own (health check)");
  CHECK(scans("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n") == 1 && h.local, "v1 UNKNOWN with addresses: ignored");
  partial_ok = 1;
  for (i = 0; i < 43; i++) if (scan(l1, i) != 0) partial_ok = 0;
  CHECK(partial_ok, "v1: every prefix of the line asks for more");
  CHECK(scans("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n") == -1, "v1 bare LF: refused");
  CHECK(scans("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n") == -1, "v1 double space: refused");
  CHECK(scans("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n") == -1, "v1 extra field: refused");
  CHECK(scans("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n") == -1, "v1 missing field: refused");
  CHECK(scans("PROXY TCP4 ::1 5.6.7.8 1 2\r\n") == -1, "v1 TCP4 with an IPv6 address: refused");
  CHECK(scans("PROXY TCP6 1.2.3.4 ::1 1 2\r\n") == -1, "v1 TCP6 with an IPv4 address: refused");
  CHECK(scans("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n") == -1, "v1 port over 65535: refused");
  CHECK(scans("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n") == -1, "v1 port with a leading zero: refused");
  CHECK(scans("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n") == -1, "v1 UDP4: refused");
  CHECK(scans("PROXY UNKNOWNX\r\n") == -1, "v1 UNKNOWNX: refused");
  CHECK(scans("j{\"action\":\"info\"}\r\n") == -1 && h.why, "a Riap request instead of a header: refused, with a reason");
  CHECK(scans("PROXX") == -1, "a wrong byte in the v1 signature: refused at once");
  memset(b, 'a', 200);
  memcpy(b, "PROXY TCP4 ", 11);
  CHECK(scan((char *)b, 107) == -1, "v1: 107 bytes without LF: refused");
  CHECK(scan((char *)b, 106) == 0, "v1: 106 bytes without LF: more needed");

  memcpy(body, "\x7f\x00\x00\x07" "\x7f\x00\x00\x01" "\x9c\x40" "\x1f\x40", 12);
  n = v2(b, 1, 0x11, body, 12);
  memcpy(b + n, "j{}", 3);
  CHECK(scan((char *)b, n + 3) == 1 && len == 28, "v2 TCP4: 28 bytes");
  CHECK_STR(h.srcip, "127.0.0.7", "v2 source address");
  CHECK(h.srcport == 40000 && h.dstport == 8000 && h.version == 2 && !h.local, "v2 ports");
  partial_ok = 1;
  for (i = 0; i < n; i++) if (scan((char *)b, i) != 0) partial_ok = 0;
  CHECK(partial_ok, "v2: every prefix asks for more");
  n = v2(b, 1, 0x11, body, 12 + 20);           /* with TLVs (garbage here): skipped */
  CHECK(scan((char *)b, n) == 1 && len == 48, "v2 TLVs after the addresses: skipped, counted");
  n = v2(b, 0, 0x00, body, 0);
  CHECK(scan((char *)b, n) == 1 && h.local, "v2 LOCAL (health check): local");
  n = v2(b, 0, 0x11, body, 12);
  CHECK(scan((char *)b, n) == 1 && h.local && len == 28, "v2 LOCAL with addresses: local, all skipped");
  memset(body, 0, sizeof body);
  body[15] = 1;
  memcpy(body + 16, "\x20\x01\x0d\xb8", 4);
  body[32] = 0x30; body[33] = 0x39; body[34] = 0x1f; body[35] = 0x40;
  n = v2(b, 1, 0x21, body, 36);
  CHECK(scan((char *)b, n) == 1 && h.family == 6 && h.srcport == 12345, "v2 TCP6");
  CHECK_STR(h.srcip, "::1", "v2 TCP6 source");
  CHECK_STR(h.dstip, "2001:db8::", "v2 TCP6 destination");
  n = v2(b, 1, 0x11, body, 11);
  CHECK(scan((char *)b, n) == -1, "v2 TCP4 body too short: refused");
  n = v2(b, 1, 0x21, body, 35);
  CHECK(scan((char *)b, n) == -1, "v2 TCP6 body too short: refused");
  n = v2(b, 1, 0x12, body, 12);
  CHECK(scan((char *)b, n) == -1, "v2 UDP4: refused");
  n = v2(b, 2, 0x11, body, 12);
  CHECK(scan((char *)b, n) == -1, "v2 command 2: refused");
  n = v2(b, 1, 0x11, body, 12);
  b[12] = 0x11;
  CHECK(scan((char *)b, n) == -1, "v2 version 1 in the binary header: refused");
  n = v2(b, 1, 0x11, body, 12);
  b[14] = 0x10;  b[15] = 0;                    /* 4096 + 16 */
  CHECK(scan((char *)b, 16) == -1, "v2 longer than 4096: refused before it is read");
  b[0] = '\r'; b[1] = '\n'; b[2] = 'X';
  CHECK(scan((char *)b, 3) == -1, "a wrong byte in the v2 signature: refused at once");
  CHECK(scan("", 0) == 0, "nothing yet: more needed");
  return UNIT_DONE();
}
