/* riap_proxy.c: the PROXY protocol header, v1 (a text line) and v2 (a
 * binary block), strictly: anything else is refused, never guessed. */
#include <arpa/inet.h>
#include <string.h>
#include "riap_proxy.h"

static const char sig2[12] = { '\r', '\n', '\r', '\n', 0, '\r', '\n', 'Q', 'U', 'I', 'T', '\n' };
static const char sig1[6] = "PROXY ";

static int bad(struct riap_proxy *h, const char *why)
{
  h->why = why;
  return -1;
}

/* a port: 1 to 5 digits, no leading zero, at most 65535 */
static int port1(const char *s, size_t n, unsigned short *port)
{
  unsigned long u = 0;
  size_t i;
  if (!n || n > 5 || (s[0] == '0' && n > 1)) return 0;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    u = u * 10 + (unsigned long)(s[i] - '0');
  }
  if (u > 65535) return 0;
  *port = (unsigned short)u;
  return 1;
}

/* an address of family fam (4 or 6), written back in canonical form */
static int addr1(const char *s, size_t n, int fam, char out[46])
{
  char tmp[46];
  unsigned char b[16];
  int af = fam == 4 ? AF_INET : AF_INET6;
  if (!n || n >= sizeof tmp) return 0;
  memcpy(tmp, s, n);
  tmp[n] = 0;
  if (inet_pton(af, tmp, b) != 1) return 0;
  return inet_ntop(af, b, out, 46) != 0;
}

/* "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n", single spaces */
static int scan1(const char *buf, size_t n, struct riap_proxy *h, size_t *len)
{
  const char *f[4];
  size_t fl[4], i, end, k = 0, p;
  const char *lf = memchr(buf, '\n', n < RIAP_PROXY_V1MAX ? n : RIAP_PROXY_V1MAX);
  if (!lf) return n < RIAP_PROXY_V1MAX ? 0 : bad(h, "v1 line longer than 107 bytes");
  end = (size_t)(lf - buf);
  if (end < 1 || buf[end - 1] != '\r') return bad(h, "v1 line not ended by CRLF");
  end--;
  h->version = 1;
  *len = end + 2;
  p = sizeof sig1;
  if (end - p >= 7 && !memcmp(buf + p, "UNKNOWN", 7)) {   /* the rest is ignored */
    if (end - p > 7 && buf[p + 7] != ' ') return bad(h, "v1 unknown protocol");
    h->local = 1;
    return 1;
  }
  if (end - p < 5 || memcmp(buf + p, "TCP", 3) || (buf[p + 3] != '4' && buf[p + 3] != '6') || buf[p + 4] != ' ')
    return bad(h, "v1 protocol is not TCP4, TCP6 or UNKNOWN");
  h->family = buf[p + 3] - '0';
  p += 5;
  for (i = p; i <= end; i++) {
    if (i < end && buf[i] != ' ') continue;
    if (k == 4) return bad(h, "v1 line has more than 4 fields after the protocol");
    f[k] = buf + p;
    fl[k] = i - p;
    k++;
    p = i + 1;
  }
  if (k != 4) return bad(h, "v1 line needs 4 fields after the protocol");
  if (!addr1(f[0], fl[0], h->family, h->srcip) || !addr1(f[1], fl[1], h->family, h->dstip))
    return bad(h, "v1 address not of the protocol's family");
  if (!port1(f[2], fl[2], &h->srcport) || !port1(f[3], fl[3], &h->dstport))
    return bad(h, "v1 port not a number from 0 to 65535");
  return 1;
}

static unsigned short be16(const unsigned char *p)
{
  return (unsigned short)(p[0] << 8 | p[1]);
}

/* v2 TCP addresses of family 4 or 6 after the 16-byte header: source,
 * destination (4 or 16 bytes each), source port, destination port */
static int addrs2(const unsigned char *b, size_t body, int family, struct riap_proxy *h)
{
  size_t alen = family == 4 ? 4 : 16;
  int af = family == 4 ? AF_INET : AF_INET6;
  if (body < 2 * alen + 4)
    return bad(h, family == 4 ? "v2 TCP4 addresses shorter than 12 bytes" : "v2 TCP6 addresses shorter than 36 bytes");
  h->family = family;
  inet_ntop(af, b + 16, h->srcip, sizeof h->srcip);
  inet_ntop(af, b + 16 + alen, h->dstip, sizeof h->dstip);
  h->srcport = be16(b + 16 + 2 * alen);
  h->dstport = be16(b + 18 + 2 * alen);
  return 1;
}

static int scan2(const unsigned char *b, size_t n, struct riap_proxy *h, size_t *len)
{
  size_t body;
  unsigned cmd, fam;
  if (n < 16) return 0;
  h->version = 2;
  if ((b[12] >> 4) != 2) return bad(h, "v2 version is not 2");
  cmd = b[12] & 15;
  fam = b[13];
  body = be16(b + 14);
  if (cmd > 1) return bad(h, "v2 command is neither LOCAL nor PROXY");
  if (16 + body > RIAP_PROXY_MAX) return bad(h, "v2 header longer than 4096 bytes");
  if (n < 16 + body) return 0;
  *len = 16 + body;
  if (cmd == 0 || fam == 0x00 || fam == 0x31) {  /* LOCAL, UNSPEC, a Unix stream: no client address */
    h->local = 1;
    if (fam == 0x31 && body < 216) return bad(h, "v2 Unix addresses shorter than 216 bytes");
    return 1;
  }
  if (fam == 0x11) return addrs2(b, body, 4, h);
  if (fam == 0x21) return addrs2(b, body, 6, h);
  return bad(h, "v2 family is not TCP over IPv4 or IPv6 (UDP, datagrams)");
}

int riap_proxy_scan(const char *buf, size_t n, struct riap_proxy *h, size_t *len)
{
  memset(h, 0, sizeof *h);
  *len = 0;
  if (!n) return 0;
  if (buf[0] == 'P') {
    if (memcmp(buf, sig1, n < sizeof sig1 ? n : sizeof sig1)) return bad(h, "not a PROXY protocol header");
    return n < sizeof sig1 ? 0 : scan1(buf, n, h, len);
  }
  if (memcmp(buf, sig2, n < sizeof sig2 ? n : sizeof sig2)) return bad(h, "not a PROXY protocol header");
  return n < sizeof sig2 ? 0 : scan2((const unsigned char *)buf, n, h, len);
}
