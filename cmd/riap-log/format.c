/* format.c: the access log formats (see doc/riap-log.8, FORMATS).
 *
 * perl: the line of Perl's Perinci::Access::Simple::Server::Socket:
 *   PEER - [DD/Mon/YYYY:HH:MM:SS +0000] "ACTION URI" [args LEN ARGS] REQT [res LEN RES] REST
 *   times as %.3fms, LEN followed by p when the value was cut, bytes outside
 *   0x20..0x7e as \xhh (the Perl server escapes action and uri so), and
 *   also the bytes a client could use to forge fields: the backslash, [ and ]
 *   everywhere, " in the quoted ACTION URI, a space in ACTION.
 * json: one object, every field of the record.
 * tsv: the fields in record order, tab separated, escaped like perl plus
 *   the backslash, so a value never holds a tab and unescaping is exact. */
#include <fmt.h>
#include "format.h"
#include "riap_time.h"
#include <string.h>

static const char hex[] = "0123456789abcdef";



/* not libowfat's fmt_ulong0: in 0.32 it writes no digits (checked: 123456 padded to 6 gives 6 bytes of nothing) */
static size_t putdigits(char *d, unsigned long v, int width)
{
  int i;
  for (i = width - 1; i >= 0; --i) { d[i] = (char)('0' + v % 10); v /= 10; }
  return (size_t)width;
}

/* Seconds as S.UUUUUU, the record's own precision. */
static size_t putsecs(char *d, double t)
{
  unsigned long long us = t > 0 ? (unsigned long long)(t * 1e6 + 0.5) : 0;
  size_t n = fmt_ulonglong(d, us / 1000000);
  d[n++] = '.';
  return n + putdigits(d + n, (unsigned long)(us % 1000000), 6);
}

/* Seconds as milliseconds with 3 decimals and "ms", as Perl's "%.3fms". */
static size_t putms(char *d, double t)
{
  unsigned long long us = t > 0 ? (unsigned long long)(t * 1e6 + 0.5) : 0;
  size_t n = fmt_ulonglong(d, us / 1000);
  d[n++] = '.';
  n += putdigits(d + n, (unsigned long)(us % 1000), 3);
  d[n++] = 'm'; d[n++] = 's';
  return n;
}

/* which bytes esc writes as \xhh, beyond those outside 0x20..0x7e */
#define ESC_BS    1            /* the backslash */
#define ESC_BRACK 2            /* [ and ]: they delimit the date, args and res fields */
#define ESC_QUOTE 4            /* ": it delimits "ACTION URI" */
#define ESC_SPACE 8            /* space: it splits ACTION from URI */
#define ESC_FIELD (ESC_BS | ESC_BRACK)

static int plain(unsigned char c, int how)
{
  if (c < 0x20 || c > 0x7e) return 0;
  if (c == '\\') return !(how & ESC_BS);
  if (c == '[' || c == ']') return !(how & ESC_BRACK);
  if (c == '"') return !(how & ESC_QUOTE);
  if (c == ' ') return !(how & ESC_SPACE);
  return 1;
}

/* Bytes outside 0x20..0x7e, and those how names, as \xhh. */
static size_t esc(char *d, const char *s, size_t n, int how)
{
  size_t o = 0, i = 0;
  while (i < n) {
    size_t j = i;
    unsigned char c;
    while (j < n && plain((unsigned char)s[j], how)) ++j;
    memcpy(d + o, s + i, j - i);
    o += j - i;
    if (j == n) break;
    c = (unsigned char)s[j];
    d[o++] = '\\'; d[o++] = 'x'; d[o++] = hex[c >> 4]; d[o++] = hex[c & 15];
    i = j + 1;
  }
  return o;
}

/* The common log format date, computed once per second seen. */
static size_t clf(char *d, long long sec)
{
  static long long last = -1;
  static char buf[RIAP_TIME_CLF];
  static size_t len;
  if (sec != last) { len = riap_time_fmtclf(buf, sec); last = sec; }
  memcpy(d, buf, len);
  return len;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8len(const unsigned char *s, size_t n)
{
  unsigned long cp;
  size_t k, i;
  if (s[0] < 0x80) return 1;
  if (s[0] >= 0xc2 && s[0] <= 0xdf) { k = 2; cp = s[0] & 0x1f; }
  else if (s[0] >= 0xe0 && s[0] <= 0xef) { k = 3; cp = s[0] & 0x0f; }
  else if (s[0] >= 0xf0 && s[0] <= 0xf4) { k = 4; cp = s[0] & 0x07; }
  else return 0;
  if (n < k) return 0;
  for (i = 1; i < k; ++i) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3f);
  }
  if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  return k;
}

/* A JSON string: valid UTF-8 kept, each byte of invalid UTF-8 as the code
 * point of the same value (\u00hh), like a Latin-1 reading. */
static size_t jstr(char *d, const char *s, size_t n)
{
  size_t o = 0, i = 0;
  d[o++] = '"';
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    size_t k;
    if (c == '"' || c == '\\') { d[o++] = '\\'; d[o++] = (char)c; ++i; continue; }
    if (c == '\n') { d[o++] = '\\'; d[o++] = 'n'; ++i; continue; }
    if (c == '\t') { d[o++] = '\\'; d[o++] = 't'; ++i; continue; }
    if (c == '\r') { d[o++] = '\\'; d[o++] = 'r'; ++i; continue; }
    if (c >= 0x20 && c != 0x7f && (k = utf8len((const unsigned char *)s + i, n - i)) > 0) {
      while (k--) d[o++] = s[i++];
      continue;
    }
    o += fmt_str(d + o, "\\u00");
    d[o++] = hex[c >> 4]; d[o++] = hex[c & 15];
    ++i;
  }
  d[o++] = '"';
  return o;
}

static size_t perl(char *d, const struct riap_accessrec_parsed *r)
{
  size_t o = 0;
  if (r->peer_n) o += esc(d + o, r->peer, r->peer_n, ESC_BS | ESC_QUOTE | ESC_SPACE);  /* [::1]:N keeps its brackets */
  else d[o++] = '?';
  o += fmt_str(d + o, " - [");
  o += clf(d + o, r->time_sec);
  o += fmt_str(d + o, "] \"");
  if (r->action_n) o += esc(d + o, r->action, r->action_n, ESC_FIELD | ESC_QUOTE | ESC_SPACE);
  else d[o++] = '-';
  d[o++] = ' ';
  if (r->uri_n) o += esc(d + o, r->uri, r->uri_n, ESC_FIELD | ESC_QUOTE);
  else d[o++] = '-';
  o += fmt_str(d + o, "\" [args ");
  o += fmt_ulonglong(d + o, r->args_len);
  if (r->args_n < r->args_len) d[o++] = 'p';
  d[o++] = ' ';
  o += esc(d + o, r->args, r->args_n, ESC_FIELD);
  o += fmt_str(d + o, "] ");
  o += putms(d + o, r->treq);
  o += fmt_str(d + o, " [res ");
  o += fmt_ulonglong(d + o, r->res_len);
  if (r->res_n < r->res_len) d[o++] = 'p';
  d[o++] = ' ';
  o += esc(d + o, r->res, r->res_n, ESC_FIELD);
  o += fmt_str(d + o, "] ");
  o += putms(d + o, r->tres);
  d[o++] = '\n';
  return o;
}

static size_t json(char *d, const struct riap_accessrec_parsed *r)
{
  size_t o = 0;
  o += fmt_str(d + o, "{\"time\":");
  o += fmt_ulonglong(d + o, (unsigned long long)r->time_sec);
  d[o++] = '.';
  o += putdigits(d + o, (unsigned long)r->time_usec, 6);
  o += fmt_str(d + o, ",\"date\":\"");
  o += riap_time_fmtiso(d + o, r->time_sec, r->time_usec);
  o += fmt_str(d + o, "\",\"pid\":");
  o += fmt_ulonglong(d + o, (unsigned long long)r->pid);
  o += fmt_str(d + o, ",\"peer\":");
  o += jstr(d + o, r->peer, r->peer_n);
  o += fmt_str(d + o, ",\"v\":");
  o += jstr(d + o, r->v, r->v_n);
  o += fmt_str(d + o, ",\"action\":");
  o += jstr(d + o, r->action, r->action_n);
  o += fmt_str(d + o, ",\"uri\":");
  o += jstr(d + o, r->uri, r->uri_n);
  o += fmt_str(d + o, ",\"status\":");
  o += fmt_ulonglong(d + o, (unsigned long long)r->status);
  o += fmt_str(d + o, ",\"treq\":");
  o += putsecs(d + o, r->treq);
  o += fmt_str(d + o, ",\"tres\":");
  o += putsecs(d + o, r->tres);
  o += fmt_str(d + o, ",\"args_len\":");
  o += fmt_ulonglong(d + o, r->args_len);
  o += fmt_str(d + o, r->args_n < r->args_len ? ",\"args_cut\":true" : ",\"args_cut\":false");
  o += fmt_str(d + o, ",\"args\":");
  o += jstr(d + o, r->args, r->args_n);
  o += fmt_str(d + o, ",\"res_len\":");
  o += fmt_ulonglong(d + o, r->res_len);
  o += fmt_str(d + o, r->res_n < r->res_len ? ",\"res_cut\":true" : ",\"res_cut\":false");
  o += fmt_str(d + o, ",\"res\":");
  o += jstr(d + o, r->res, r->res_n);
  o += fmt_str(d + o, "}\n");
  return o;
}

static size_t tsv(char *d, const struct riap_accessrec_parsed *r)
{
  size_t o = 0;
  o += riap_time_fmtiso(d + o, r->time_sec, r->time_usec);
  d[o++] = '\t';
  o += fmt_ulonglong(d + o, (unsigned long long)r->pid);        d[o++] = '\t';
  o += esc(d + o, r->peer, r->peer_n, ESC_BS);                d[o++] = '\t';
  o += esc(d + o, r->v, r->v_n, ESC_BS);                      d[o++] = '\t';
  o += esc(d + o, r->action, r->action_n, ESC_BS);            d[o++] = '\t';
  o += esc(d + o, r->uri, r->uri_n, ESC_BS);                  d[o++] = '\t';
  o += fmt_ulonglong(d + o, (unsigned long long)r->status);     d[o++] = '\t';
  o += putsecs(d + o, r->treq);                          d[o++] = '\t';
  o += putsecs(d + o, r->tres);                          d[o++] = '\t';
  o += fmt_ulonglong(d + o, r->args_len);                       d[o++] = '\t';
  d[o++] = r->args_n < r->args_len ? '1' : '0';          d[o++] = '\t';
  o += esc(d + o, r->args, r->args_n, ESC_BS);                d[o++] = '\t';
  o += fmt_ulonglong(d + o, r->res_len);                        d[o++] = '\t';
  d[o++] = r->res_n < r->res_len ? '1' : '0';            d[o++] = '\t';
  o += esc(d + o, r->res, r->res_n, ESC_BS);
  d[o++] = '\n';
  return o;
}

size_t format_access(char *dest, enum format f, const struct riap_accessrec_parsed *r)
{
  switch (f) {
  case FORMAT_JSON: return json(dest, r);
  case FORMAT_TSV: return tsv(dest, r);
  default: return perl(dest, r);
  }
}

size_t format_stamp(char *dest, enum stamp s, long long sec, long nsec)
{
  size_t n;
  switch (s) {
  case STAMP_ISO: n = riap_time_fmtiso(dest, sec, nsec / 1000); break;
  case STAMP_TAI64N: n = riap_time_fmttai64n(dest, sec, nsec); break;
  default: return 0;
  }
  dest[n++] = ' ';
  return n;
}
