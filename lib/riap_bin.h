/* riap_bin.h: binary values. Inside the server (and across the exec
 * boundary) bytes travel as JSON strings whose code points 0-255 are the
 * bytes; on the wire, Riap 1.2 carries them base64-encoded. */
#ifndef RIAP_BIN_H
#define RIAP_BIN_H
#include <stralloc.h>
#include <jansson.h>

/* riap_bin_tojson: a new JSON string holding the n bytes at b as code points
 * 0-255; NULL when out of memory. */
json_t *riap_bin_tojson(const char *b, size_t n);

/* riap_bin_fromjson: replaces out's contents with the bytes of string s;
 * returns 1, or 0 when s holds a code point above 255 (or out of memory). */
int riap_bin_fromjson(stralloc *out, const json_t *s);

/* riap_bin_unbase64: replaces out's contents with the decoded n bytes of
 * base64 at b; returns 1, or 0 when b is not entirely valid base64. */
int riap_bin_unbase64(stralloc *out, const char *b, size_t n);

/* riap_bin_base64: a new JSON string with the base64 of the n bytes at b;
 * NULL when out of memory. */
json_t *riap_bin_base64(const char *b, size_t n);

#endif
