/* riap_url.h: Riap::Simple endpoint URLs, in the forms of Perl's
 * Perinci::Access::Simple::Client:
 *   riap+tcp://HOST:PORT/uri            (HOST: a name, a.b.c.d or [v6])
 *   riap+unix:/path/to/sock//uri        (the first "//" ends the path)
 *   riap+pipe:/path/to/prog//arg1/arg2//uri
 *                                       (program, "//", the arguments split
 *                                        on "/", "/", then the uri with its
 *                                        leading "/"; no arguments:
 *                                        riap+pipe:/path/to/prog////uri)
 * The scheme is case-insensitive. Percent-escapes (%2F, %20, ...) are
 * decoded in the socket path, the program and each argument, and in HOST;
 * the Riap uri is kept as written (as the Perl client does), and always
 * starts with "/". A program without a "/" is looked up in PATH.
 * See doc/riap.1, URLS. */
#ifndef RIAP_URL_H
#define RIAP_URL_H
#include <stddef.h>

enum riap_url_scheme { RIAP_URL_NONE = 0, RIAP_URL_TCP, RIAP_URL_UNIX, RIAP_URL_PIPE };

struct riap_url {
  enum riap_url_scheme scheme;
  char *host;          /* tcp: the host, brackets of [v6] removed; else NULL */
  unsigned short port; /* tcp: 1-65535; else 0 */
  char *path;          /* unix: the socket path; pipe: the program; else NULL */
  char **argv;         /* pipe: argv[0] is the program, then the arguments,
                          NULL-terminated; else NULL */
  size_t argc;         /* pipe: entries in argv (program included); else 0 */
  char *uri;           /* the Riap uri ("/Math/mult"), never NULL after a
                          successful parse */
  char *endpoint;      /* the connection, for messages and as a cache key:
                          "127.0.0.1:5678", "[::1]:5678", "unix:/run/s.sock",
                          "pipe:/bin/prog arg1 arg2" */
};

#define RIAP_URL_MSGMAX 256

/* riap_url_parse: parses the NUL-terminated URL s into u (all fields newly
 * allocated; u's previous contents are not freed). Returns 1, or 0 with a
 * one-line message in msg (RIAP_URL_MSGMAX bytes) and u left empty (nothing
 * to free, but riap_url_free is harmless). */
int riap_url_parse(struct riap_url *u, const char *s, char *msg);

/* riap_url_free: releases what riap_url_parse allocated and empties u;
 * safe on an empty or already freed u. */
void riap_url_free(struct riap_url *u);

/* riap_url_hasscheme: returns 1 when s starts with a URL scheme
 * ("riap+tcp:", "http:", any ALPHA *(ALPHA / DIGIT / "+" / "-" / ".") ":"),
 * 0 for a schemeless uri ("/Math/mult", "mult"). */
int riap_url_hasscheme(const char *s);

/* riap_url_unescape: decodes the percent-escapes of the n bytes at s into
 * dest (at least n bytes; may be s itself). Returns the decoded length, or
 * (size_t)-1 when a "%" is not followed by two hex digits or decodes to NUL. */
size_t riap_url_unescape(char *dest, const char *s, size_t n);

#endif
