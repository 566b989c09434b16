/* riap_accessrec_scan.c: reads an access record (doc/riap-access-record.5).
 * Strict: fields in their fixed order, numbers whole, escapes well formed;
 * anything else is "not a record" and its reader keeps the line as it is. */
#include "riap_accessrec.h"
#include <string.h>

struct cur {
  const char *p, *end;     /* the line, without its '\n' */
  char *o, *oend;          /* unescaped output */
};

static int hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Expects "NAME=" at the cursor. */
static int key(struct cur *c, const char *name)
{
  size_t n = strlen(name);
  if ((size_t)(c->end - c->p) < n + 1 || memcmp(c->p, name, n) || c->p[n] != '=') return 0;
  c->p += n + 1;
  return 1;
}

/* After a value: a space (then another field) or the end of the line. */
static int sep(struct cur *c)
{
  if (c->p == c->end) return 1;
  if (*c->p != ' ') return 0;
  ++c->p;
  return 1;
}

/* Bytes that stand for themselves in a value. */
static int plain(unsigned char c) { return c >= 0x21 && c <= 0x7e && c != '\\'; }

/* Unescapes up to the next space or the end; stores it NUL-terminated. */
static int str(struct cur *c, const char **s, size_t *n)
{
  char *start = c->o;
  for (;;) {
    const char *q = c->p;
    size_t k;
    while (q < c->end && plain((unsigned char)*q)) ++q;
    k = (size_t)(q - c->p);
    if ((size_t)(c->oend - c->o) <= k) return 0;
    memcpy(c->o, c->p, k);
    c->o += k;
    c->p = q;
    if (q == c->end || *q == ' ') break;
    if (*q == '\\') {
      int h, l;
      if (c->end - q < 4 || q[1] != 'x' || (h = hexval(q[2])) < 0 || (l = hexval(q[3])) < 0) return 0;
      if (c->oend - c->o <= 1) return 0;
      *c->o++ = (char)(h << 4 | l);
      c->p += 4;
    } else return 0;
  }
  *c->o++ = 0;
  *s = start;
  *n = (size_t)(c->o - 1 - start);
  return 1;
}

static int ull(struct cur *c, unsigned long long *u, unsigned long long max)
{
  const char *s = c->p;
  unsigned long long v = 0;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    unsigned d = (unsigned)(*c->p - '0');
    if (v > (max - d) / 10) return 0;
    v = v * 10 + d;
    ++c->p;
  }
  if (c->p == s) return 0;
  *u = v;
  return 1;
}

/* S or S.F (F: 1 to 9 digits); gives seconds and microseconds. */
static int secs(struct cur *c, unsigned long long *sec, long *usec)
{
  long f = 0;
  int nd = 0;
  if (!ull(c, sec, 0x7fffffffffffffffULL)) return 0;
  if (c->p < c->end && *c->p == '.') {
    ++c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
      if (nd < 6) f = f * 10 + (*c->p - '0');
      ++nd; ++c->p;
    }
    if (nd < 1 || nd > 9) return 0;
  }
  for (; nd < 6; ++nd) f *= 10;
  *usec = f;
  return 1;
}

static int body(struct cur *c, const char **s, size_t *n, unsigned long long *len)
{
  if (!ull(c, len, 0xffffffffffffffffULL) || c->p == c->end || *c->p != ':') return 0;
  ++c->p;
  if (!str(c, s, n)) return 0;
  return *n <= *len;
}

size_t riap_accessrec_scan(const char *line, size_t len, struct riap_accessrec_parsed *out)
{
  static const char tag[] = RIAP_ACCESSREC_TAG;
  const char *nl = memchr(line, '\n', len);
  size_t used = nl ? (size_t)(nl - line) + 1 : len;
  struct cur c;
  unsigned long long u;
  long us;

  if (len < sizeof tag - 1 || memcmp(line, tag, sizeof tag - 1)) return 0;
  c.p = line + sizeof tag - 1;
  c.end = nl ? nl : line + len;
  c.o = out->buf;
  c.oend = out->buf + sizeof out->buf;

  if (!key(&c, "time") || !secs(&c, &u, &us) || !sep(&c)) return 0;
  out->time_sec = (long long)u;  out->time_usec = us;
  if (!key(&c, "pid") || !ull(&c, &u, 0x7fffffffUL) || !sep(&c)) return 0;
  out->pid = (long)u;
  if (!key(&c, "peer") || !str(&c, &out->peer, &out->peer_n) || !sep(&c)) return 0;
  if (!key(&c, "v") || !str(&c, &out->v, &out->v_n) || !sep(&c)) return 0;
  if (!key(&c, "action") || !str(&c, &out->action, &out->action_n) || !sep(&c)) return 0;
  if (!key(&c, "uri") || !str(&c, &out->uri, &out->uri_n) || !sep(&c)) return 0;
  if (!key(&c, "status") || !ull(&c, &u, 999999) || !sep(&c)) return 0;
  out->status = (int)u;
  if (!key(&c, "treq") || !secs(&c, &u, &us) || !sep(&c)) return 0;
  out->treq = (double)u + us / 1e6;
  if (!key(&c, "tres") || !secs(&c, &u, &us) || !sep(&c)) return 0;
  out->tres = (double)u + us / 1e6;
  if (!key(&c, "args") || !body(&c, &out->args, &out->args_n, &out->args_len) || !sep(&c)) return 0;
  if (!key(&c, "res") || !body(&c, &out->res, &out->res_n, &out->res_len)) return 0;
  if (c.p != c.end && *c.p != ' ') return 0;   /* later fields: ignored */
  return used;
}
