/* riap_json.h: compact JSON output of jansson values, byte-exact strings and
 * the shortest decimal form of reals (1.1 prints as 1.1, not
 * 1.1000000000000001 as jansson's own dumper does). */
#ifndef RIAP_JSON_H
#define RIAP_JSON_H
#include <stralloc.h>
#include <jansson.h>

/* riap_json_cat: appends v (NULL prints null) as compact JSON to sa;
 * returns 1, or 0 when out of memory. */
int riap_json_cat(stralloc *sa, const json_t *v);

/* riap_json_cat_ascii: riap_json_cat with every character over 0x7f
 * written as \uXXXX: what every JSON decoder reads alike, Perl's in
 * Latin-1 mode (Perinci::Access::Simple::Client's) included; returns 1, or
 * 0 when out of memory. */
int riap_json_cat_ascii(stralloc *sa, const json_t *v);

/* riap_json_catstr: appends the n bytes at s as a JSON string (the bytes are
 * assumed to be UTF-8, as jansson keeps them); returns 1, or 0 when out of memory. */
int riap_json_catstr(stralloc *sa, const char *s, size_t n);

/* fmt_riap_real: writes the shortest decimal form of d that reads back as d,
 * with ".0" added when it would look like an integer; returns its length.
 * dest must hold 32 bytes. */
size_t fmt_riap_real(char *dest, double d);

#endif
