/* riap_coproc.h: a long-lived coprocess spoken to one line at a time: a
 * line in on its stdin, a line out on its stdout. Its stderr is collected
 * line by line for the caller to log. */
#ifndef RIAP_COPROC_H
#define RIAP_COPROC_H
#include <stddef.h>
#include <sys/types.h>
#include <stralloc.h>

enum riap_coproc_outcome {
  RIAP_COPROC_OK = 0,      /* out holds one line, without its newline */
  RIAP_COPROC_TIMEOUT,     /* no complete line in time: it was stopped */
  RIAP_COPROC_TOOBIG,      /* the line grew over the cap: it was stopped */
  RIAP_COPROC_DIED,        /* it exited or closed stdout: status in code (see died_how) */
  RIAP_COPROC_GONE,        /* as DIED, but before a byte of the line reached it (it
                              ended while idle): the line may be sent to a new one */
  RIAP_COPROC_SPAWNFAIL    /* it could not be started: errno in code */
};

struct riap_coproc {
  pid_t pid;               /* 0 when not running */
  int in, out, err;        /* our ends of its stdin, stdout, stderr */
  stralloc rbuf;           /* stdout bytes read past the last line */
  char ebuf[1024];         /* a stderr line being collected */
  size_t elen;
  char lastline[256];      /* the latest complete stderr line */
  int code;                /* outcome detail: errno, or a wait status */
};

struct riap_exec_limits;

/* riap_coproc_start: starts path (no shell, own process group, dir as cwd
 * when not NULL, under limits when not NULL) unless it runs already;
 * returns 1, or 0 with c->code = errno. */
int riap_coproc_start(struct riap_coproc *c, const char *path, char *const *envp, const char *dir,
                      const struct riap_exec_limits *limits);

/* riap_coproc_call: sends the n bytes at line plus a newline, waits up to
 * timeout_ms for one line back (at most max bytes) into out; calls errline
 * for each complete stderr line meanwhile. On anything but RIAP_COPROC_OK the
 * coprocess has been stopped. Returns the outcome. */
enum riap_coproc_outcome riap_coproc_call(struct riap_coproc *c, const char *line, size_t n,
                                          unsigned long timeout_ms, size_t max, stralloc *out,
                                          void (*errline)(void *arg, const char *s, size_t n), void *arg);

/* riap_coproc_stop: kills its process group, reaps it, closes the pipes;
 * sets c->code to the wait status; a stopped coprocess is left alone. */
void riap_coproc_stop(struct riap_coproc *c);

/* riap_coproc_free: stops it and frees the buffers. */
void riap_coproc_free(struct riap_coproc *c);

#endif
