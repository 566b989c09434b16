/* riap_accessrec.c: writes the access record (doc/riap-access-record.5).
 *
 * A record must fit in RIAP_ACCESSREC_MAX bytes whatever the client sent,
 * so every variable field has a budget of escaped output bytes. args and res
 * keep their first RIAP_ACCESSREC_CAP bytes, or fewer when those would need
 * more than ESC_BODY bytes once escaped (only a value made mostly of bytes
 * that need escaping); a reader sees the cut as usual (kept < LEN). action
 * and uri are cut silently at their budget: the request line limit is far
 * above what a log line can hold. */
#include <fmt.h>
#include "riap_accessrec.h"

#define ESC_PEER   128
#define ESC_V       16
#define ESC_ACTION 128
#define ESC_URI    512
#define ESC_BODY  1536   /* each of args and res */
/* Fixed parts plus the budgets above: 994 + 2 * ESC_BODY <= RIAP_ACCESSREC_MAX. */

static const char hex[] = "0123456789abcdef";

size_t riap_accessrec_escape(char *dest, const char *s, size_t n, size_t max, size_t *used)
{
  size_t o = 0, i;
  for (i = 0; i < n; ++i) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x21 || c > 0x7e || c == '\\') {
      if (o + 4 > max) break;
      if (dest) { dest[o] = '\\'; dest[o+1] = 'x'; dest[o+2] = hex[c >> 4]; dest[o+3] = hex[c & 15]; }
      o += 4;
    } else {
      if (o + 1 > max) break;
      if (dest) dest[o] = (char)c;
      ++o;
    }
  }
  if (used) *used = i;
  return o;
}



/* not libowfat's fmt_ulong0: in 0.32 it writes no digits */
static size_t putfrac6(char *d, unsigned long f)
{
  int i;
  for (i = 5; i >= 0; --i) { d[i] = (char)('0' + f % 10); f /= 10; }
  return 6;
}

/* Seconds as S.UUUUUU; negative, NaN and absurd values are clamped. */
static size_t putsecs(char *d, double t)
{
  unsigned long long us;
  if (!(t > 0)) t = 0;
  if (t > 999999999.0) t = 999999999.0;
  us = (unsigned long long)(t * 1e6 + 0.5);
  {
    size_t n = fmt_ulonglong(d, us / 1000000);
    d[n++] = '.';
    return n + putfrac6(d + n, (unsigned long)(us % 1000000));
  }
}

static size_t putfield(char *d, const char *s, size_t n, size_t max)
{
  return s ? riap_accessrec_escape(d, s, n, max, 0) : 0;
}

static size_t strl(const char *s) { size_t n = 0; if (s) while (s[n]) ++n; return n; }

static size_t putbody(char *d, const char *s, size_t n)
{
  size_t o = 0, keep = n < RIAP_ACCESSREC_CAP ? n : RIAP_ACCESSREC_CAP;
  if (!s) n = keep = 0;
  o += fmt_ulonglong(d + o, n);
  d[o++] = ':';
  o += riap_accessrec_escape(d + o, s, keep, ESC_BODY, 0);
  return o;
}

size_t riap_accessrec_fmt(char *dest, const struct riap_accessrec *r)
{
  size_t o = 0;
  long usec = r->time_usec;
  if (usec < 0) usec = 0;
  if (usec > 999999) usec = 999999;

  o += fmt_str(dest + o, RIAP_ACCESSREC_TAG "time=");
  o += fmt_ulonglong(dest + o, r->time_sec > 0 ? (unsigned long long)r->time_sec : 0);
  dest[o++] = '.';
  o += putfrac6(dest + o, (unsigned long)usec);
  o += fmt_str(dest + o, " pid=");
  o += fmt_ulonglong(dest + o, r->pid > 0 ? (unsigned long long)r->pid : 0);
  o += fmt_str(dest + o, " peer=");
  o += putfield(dest + o, r->peer, strl(r->peer), ESC_PEER);
  o += fmt_str(dest + o, " v=");
  if (r->v && *r->v) o += putfield(dest + o, r->v, strl(r->v), ESC_V);
  else dest[o++] = '-';
  o += fmt_str(dest + o, " action=");
  o += putfield(dest + o, r->action, r->action_len, ESC_ACTION);
  o += fmt_str(dest + o, " uri=");
  o += putfield(dest + o, r->uri, r->uri_len, ESC_URI);
  o += fmt_str(dest + o, " status=");
  o += fmt_ulonglong(dest + o, r->status > 0 ? (unsigned long long)r->status : 0);
  o += fmt_str(dest + o, " treq=");
  o += putsecs(dest + o, r->treq);
  o += fmt_str(dest + o, " tres=");
  o += putsecs(dest + o, r->tres);
  o += fmt_str(dest + o, " args=");
  o += putbody(dest + o, r->args, r->args_len);
  o += fmt_str(dest + o, " res=");
  o += putbody(dest + o, r->res, r->res_len);
  dest[o++] = '\n';
  return o;
}
