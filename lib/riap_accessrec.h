/* riap_accessrec.h: the access record, one line per request, written by
 * riap-handle on its log channel and read by riap-log.
 * The format is specified in doc/riap-access-record.5. */
#ifndef RIAP_ACCESSREC_H
#define RIAP_ACCESSREC_H
#include <stddef.h>

#define RIAP_ACCESSREC_TAG "%riap-access 1 "
#define RIAP_ACCESSREC_CAP 1000       /* bytes of args/result kept */
#define RIAP_ACCESSREC_MAX 8192       /* longest possible record line */

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

#endif
