/* riap_accessrec.h: the access record, one line per request, written by
 * riap-handle on its log channel and read by riap-log.
 * The format is specified in doc/riap-access-record.5. */
#ifndef RIAP_ACCESSREC_H
#define RIAP_ACCESSREC_H
#include <stddef.h>

#define RIAP_ACCESSREC_TAG "%riap-access 1 "
#define RIAP_ACCESSREC_CAP 1000       /* bytes of args/result kept */
#define RIAP_ACCESSREC_MAX 4096       /* longest record line: PIPE_BUF, so one write() of it is atomic on a shared pipe */

struct riap_accessrec {
  long long time_sec;  long time_usec;  /* when the request's first byte arrived */
  long pid;                             /* the process that served it */
  const char *peer;                     /* riap_peer_fmt() label */
  const char *v;                        /* "1.1", "1.2", "-" */
  const char *action;  size_t action_len;
  const char *uri;     size_t uri_len;
  int status;
  const char *args;    size_t args_len; /* the args as JSON (full length) */
  const char *res;     size_t res_len;  /* the result as JSON (full length) */
  double treq;                          /* seconds: first byte to end of line */
  double tres;                          /* seconds: end of line to response written */
};

/* riap_accessrec_fmt: formats r as one line ending in '\n' into dest
 * (RIAP_ACCESSREC_MAX bytes), args and res cut at RIAP_ACCESSREC_CAP bytes;
 * returns the length written. */
size_t riap_accessrec_fmt(char *dest, const struct riap_accessrec *r);

/* The reader's view of a record: values unescaped, each NUL-terminated, all
 * pointing into buf (so a parsed record must not be copied by assignment).
 * args/res hold the bytes kept (args_n <= args_len); cut when shorter. */
struct riap_accessrec_parsed {
  long long time_sec;  long time_usec;
  long pid;
  int status;
  double treq, tres;
  const char *peer;    size_t peer_n;
  const char *v;       size_t v_n;
  const char *action;  size_t action_n;
  const char *uri;     size_t uri_n;
  const char *args;    size_t args_n;  unsigned long long args_len;
  const char *res;     size_t res_n;   unsigned long long res_len;
  char buf[RIAP_ACCESSREC_MAX];
};

/* riap_accessrec_scan: parses the record at the start of line (len bytes,
 * which may hold more lines after it) into out, unescaping \xhh; fields
 * after res are ignored. Returns the bytes consumed (through the '\n', or
 * len when the line has none), 0 when the line is not a well-formed record. */
size_t riap_accessrec_scan(const char *line, size_t len, struct riap_accessrec_parsed *out);

/* riap_accessrec_escape: writes s (n bytes) to dest as the record escapes
 * it, at most max bytes of output and never half an escape; *used gets how
 * many bytes of s that covers. Returns the length written (dest may be NULL
 * to count). */
size_t riap_accessrec_escape(char *dest, const char *s, size_t n, size_t max, size_t *used);

#endif
