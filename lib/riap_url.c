/* riap_url.c: parsing riap+tcp, riap+unix and riap+pipe URLs, following the
 * regular expressions of Perinci::Access::Simple::Client:
 *   tcp:  ^//([^:/]+):(\d+)(/.*)    (plus [v6] hosts here)
 *   unix: (.+?)/(/.*)
 *   pipe: (.+?)//(.*?)/(/.*)        (arguments split on "/", trailing empty
 *                                    ones dropped, as Perl's split does) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include "riap_url.h"

#define EXAMPLE_TCP  "riap+tcp://localhost:5000/Foo/Bar/func"
#define EXAMPLE_UNIX "riap+unix:/path/to/unix/socket//Foo/Bar/func"
#define EXAMPLE_PIPE "riap+pipe:/path/to/prog//arg1/arg2//Foo/Bar/func"

static int hexval(int c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

size_t riap_url_unescape(char *dest, const char *s, size_t n)
{
  size_t i, j = 0;
  for (i = 0; i < n; ++i) {
    if (s[i] != '%') { dest[j++] = s[i]; continue; }
    if (i + 2 >= n) return (size_t)-1;
    int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
    if (h < 0 || l < 0 || (h == 0 && l == 0)) return (size_t)-1;
    dest[j++] = (char)(h * 16 + l);
    i += 2;
  }
  return j;
}

int riap_url_hasscheme(const char *s)
{
  size_t i = 0;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return 0;
  for (i = 1; s[i]; ++i) {
    char c = s[i];
    if (c == ':') return 1;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '+' || c == '-' || c == '.')) return 0;
  }
  return 0;
}

void riap_url_free(struct riap_url *u)
{
  size_t i;
  free(u->host);
  free(u->path);
  if (u->argv) {
    for (i = 0; i < u->argc; ++i) free(u->argv[i]);
    free(u->argv);
  }
  free(u->uri);
  free(u->endpoint);
  memset(u, 0, sizeof *u);
}

/* a new string: the n bytes at s, percent-decoded; NULL with *bad set when
 * an escape is invalid (or out of memory, *bad clear) */
static char *undup(const char *s, size_t n, int *bad)
{
  char *d = malloc(n + 1);
  size_t len;
  *bad = 0;
  if (!d) return NULL;
  len = riap_url_unescape(d, s, n);
  if (len == (size_t)-1) { free(d); *bad = 1; return NULL; }
  d[len] = 0;
  return d;
}

/* the first "//" at or after s[from], as an index; -1 when none */
static long dslash(const char *s, size_t from)
{
  const char *p = strstr(s + from, "//");
  return p ? (long)(p - s) : -1;
}

#define FAIL(...) do { snprintf(msg, RIAP_URL_MSGMAX, __VA_ARGS__); goto fail; } while (0)
#define NOMEM() FAIL("out of memory")

static int parse_tcp(struct riap_url *u, const char *o, char *msg)
{
  const char *h, *he, *p, *pe;
  unsigned long port = 0;
  int bad;
  size_t elen;

  if (strncmp(o, "//", 2)) FAIL("invalid URL, please supply //HOST:PORT/uri, e.g. " EXAMPLE_TCP);
  h = o + 2;
  if (*h == '[') {
    he = strchr(h, ']');
    if (!he || he[1] != ':') FAIL("invalid URL, an IPv6 host is written [ADDRESS]:PORT, e.g. riap+tcp://[::1]:5000/");
    ++h;
    p = he + 2;
  } else {
    he = h + strcspn(h, ":/");
    if (*he != ':') FAIL("invalid URL, please supply HOST:PORT after //, e.g. " EXAMPLE_TCP);
    p = he + 1;
  }
  if (he == h) FAIL("invalid URL, the host is empty, e.g. " EXAMPLE_TCP);
  for (pe = p; *pe >= '0' && *pe <= '9'; ++pe)
    if (port <= 65535) port = port * 10 + (unsigned long)(*pe - '0');
  if (pe == p || (*pe && *pe != '/')) FAIL("invalid URL, the port must be a number, e.g. " EXAMPLE_TCP);
  if (port < 1 || port > 65535) FAIL("invalid URL, the port must be 1-65535");
  if (*pe != '/') FAIL("invalid URL, please supply the entity uri after HOST:PORT, e.g. " EXAMPLE_TCP);
  u->host = undup(h, (size_t)(he - h), &bad);
  if (!u->host) { if (bad) FAIL("invalid URL, bad percent-escape in the host"); NOMEM(); }
  if (!*u->host) FAIL("invalid URL, the host is empty, e.g. " EXAMPLE_TCP);
  u->port = (unsigned short)port;
  u->uri = strdup(pe);
  elen = strlen(u->host) + 16;
  u->endpoint = malloc(elen);
  if (!u->uri || !u->endpoint) NOMEM();
  if (strchr(u->host, ':')) snprintf(u->endpoint, elen, "[%s]:%u", u->host, u->port);
  else snprintf(u->endpoint, elen, "%s:%u", u->host, u->port);
  return 1;
fail:
  return 0;
}

static int parse_unix(struct riap_url *u, const char *o, char *msg)
{
  long i = o[0] ? dslash(o, 1) : -1;
  int bad;
  size_t elen;
  if (i < 0) FAIL("invalid URL, please supply PATH//uri, e.g. " EXAMPLE_UNIX);
  u->path = undup(o, (size_t)i, &bad);
  if (!u->path) { if (bad) FAIL("invalid URL, bad percent-escape in the socket path"); NOMEM(); }
  if (strlen(u->path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
    FAIL("invalid URL, the socket path is longer than %zu bytes",
         sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
  u->uri = strdup(o + i + 1);
  elen = strlen(u->path) + 6;
  u->endpoint = malloc(elen);
  if (!u->uri || !u->endpoint) NOMEM();
  snprintf(u->endpoint, elen, "unix:%s", u->path);
  return 1;
fail:
  return 0;
}

static int parse_pipe(struct riap_url *u, const char *o, char *msg)
{
  long i = o[0] ? dslash(o, 1) : -1, j;
  const char *a, *ae, *p;
  size_t n, k, elen;
  int bad;
  if (i < 0) FAIL("invalid URL, please supply PROGRAM//ARGS//uri, e.g. " EXAMPLE_PIPE);
  a = o + i + 2;
  j = dslash(a, 0);
  if (j < 0) FAIL("invalid URL, please supply PROGRAM//ARGS//uri (no arguments: PROGRAM////uri), e.g. " EXAMPLE_PIPE);
  ae = a + j;
  /* the arguments a..ae split on "/", trailing empty fields dropped */
  while (ae > a && ae[-1] == '/') --ae;
  n = 1;
  if (ae > a) for (p = a, ++n; p < ae; ++p) if (*p == '/') ++n;
  u->argv = calloc(n + 1, sizeof *u->argv);
  if (!u->argv) NOMEM();
  u->argv[0] = undup(o, (size_t)i, &bad);
  if (!u->argv[0]) { if (bad) FAIL("invalid URL, bad percent-escape in the program"); NOMEM(); }
  u->argc = 1;
  for (p = a, k = 1; k < n; ++k) {
    const char *e = p;
    while (e < ae && *e != '/') ++e;
    u->argv[k] = undup(p, (size_t)(e - p), &bad);
    if (!u->argv[k]) { if (bad) FAIL("invalid URL, bad percent-escape in argument %zu", k); NOMEM(); }
    u->argc = k + 1;
    p = e + 1;
  }
  u->path = strdup(u->argv[0]);
  u->uri = strdup(a + j + 1);
  if (!u->path || !u->uri) NOMEM();
  for (elen = 6, k = 0; k < u->argc; ++k) elen += strlen(u->argv[k]) + 1;
  u->endpoint = malloc(elen);
  if (!u->endpoint) NOMEM();
  strcpy(u->endpoint, "pipe:");
  for (k = 0; k < u->argc; ++k) {
    if (k) strcat(u->endpoint, " ");
    strcat(u->endpoint, u->argv[k]);
  }
  return 1;
fail:
  return 0;
}

int riap_url_parse(struct riap_url *u, const char *s, char *msg)
{
  const char *colon;
  size_t slen;
  int ok = 0;
  memset(u, 0, sizeof *u);
  msg[0] = 0;
  if (!riap_url_hasscheme(s)) {
    snprintf(msg, RIAP_URL_MSGMAX, "not a Riap URL (riap+tcp://HOST:PORT/uri, riap+unix:PATH//uri, riap+pipe:PROGRAM//ARGS//uri)");
    return 0;
  }
  colon = strchr(s, ':');
  slen = (size_t)(colon - s);
  if (slen == 8 && !strncasecmp(s, "riap+tcp", 8)) { u->scheme = RIAP_URL_TCP; ok = parse_tcp(u, colon + 1, msg); }
  else if (slen == 9 && !strncasecmp(s, "riap+unix", 9)) { u->scheme = RIAP_URL_UNIX; ok = parse_unix(u, colon + 1, msg); }
  else if (slen == 9 && !strncasecmp(s, "riap+pipe", 9)) { u->scheme = RIAP_URL_PIPE; ok = parse_pipe(u, colon + 1, msg); }
  else {
    snprintf(msg, RIAP_URL_MSGMAX, "unsupported URL scheme '%.*s', please supply a riap+tcp, riap+unix or riap+pipe URL",
             slen > 40 ? 40 : (int)slen, s);
    return 0;
  }
  if (ok && u->uri[0] != '/') {  /* cannot happen with the forms above; kept as a guard */
    snprintf(msg, RIAP_URL_MSGMAX, "invalid URL, the entity uri must start with /");
    ok = 0;
  }
  if (!ok) riap_url_free(u);
  return ok;
}
