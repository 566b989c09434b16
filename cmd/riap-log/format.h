/* format.h: riap-log's output lines: the access log formats and the error
 * log's time stamps. */
#ifndef RIAP_LOG_FORMAT_H
#define RIAP_LOG_FORMAT_H
#include <stddef.h>
#include "riap_accessrec.h"

enum format { FORMAT_PERL, FORMAT_JSON, FORMAT_TSV };
enum stamp { STAMP_ISO, STAMP_TAI64N, STAMP_NONE };

/* The longest line format_access can write: every unescaped byte of a
 * record taken as 6 output bytes, plus the fixed text. */
#define FORMAT_ACCESS_MAX (6 * RIAP_ACCESSREC_MAX + 1024)
/* The longest stamp format_stamp writes, with its space. */
#define FORMAT_STAMP_MAX 40

/* format_access: writes r as one access log line in format f, ending in
 * '\n'; returns its length (at most FORMAT_ACCESS_MAX). */
size_t format_access(char *dest, enum format f, const struct riap_accessrec_parsed *r);

/* format_stamp: writes the time stamp of now in style s and a space ("" for
 * STAMP_NONE); returns its length. */
size_t format_stamp(char *dest, enum stamp s, long long sec, long nsec);

#endif
