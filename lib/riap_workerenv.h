/* riap_workerenv.h: the settings riap-listen gives each worker in its
 * environment (RIAP_CONTROL_FD, RIAP_SLOT, RIAP_TIMEOUT, ...), one table
 * for both ends: riap-listen fills a struct riap_workerenv and writes it
 * (riap_workerenv_write), riap-handle reads it back and unsets every name
 * (riap_workerenv_read, riap_workerenv_unset). A new setting is a field
 * here and one row in riap_workerenv.c. The table is the contract of
 * doc/HACKING.md (the listener→worker contract) and riap-listen(8),
 * ENVIRONMENT. */
#ifndef RIAP_WORKERENV_H
#define RIAP_WORKERENV_H

struct riap_workerenv {
  unsigned long control_fd;       /* RIAP_CONTROL_FD: the channel's fd */
  unsigned long slot;             /* RIAP_SLOT: its scoreboard slot */
  unsigned long generation;       /* RIAP_GENERATION: 1, one more per HUP */
  unsigned long max_requests;     /* RIAP_MAX_REQUESTS: 0 no limit */
  /* durations in ms, written in seconds (%.3f); -1: absent */
  long long timeout_ms;           /* RIAP_TIMEOUT: rest of a request (120 s) */
  long long idle_timeout_ms;      /* RIAP_IDLE_TIMEOUT: 0 never; -1: the timeout */
  long long read_timeout_ms;      /* RIAP_READ_TIMEOUT (10 s) */
  long long write_timeout_ms;     /* RIAP_WRITE_TIMEOUT (10 s) */
  long long park_delay_ms;        /* RIAP_PARK_DELAY: -1 never park */
  const char *scoreboard;         /* RIAP_SCOREBOARD: NULL none */
  const char *name;               /* RIAP_NAME: NULL none */
  int chroot;                     /* RIAP_CHROOT=1: confine itself */
  int allow_root;                 /* RIAP_ALLOW_ROOT=1: may stay root there */
};

/* riap_workerenv_defaults: every field at its value when absent (the
 * timeouts' defaults, which riap-listen and riap-handle take as theirs). */
void riap_workerenv_defaults(struct riap_workerenv *e);

/* riap_workerenv_write: puts e into the environment (a worker's, before
 * exec); fields absent (-1, NULL, 0 flags) are unset. Returns 1, 0 with
 * errno (ENOMEM). */
int riap_workerenv_write(const struct riap_workerenv *e);

/* riap_workerenv_read: e from the environment, defaults for the names
 * absent or empty; returns 1, or 0 with *bad set to the name whose value
 * is malformed or out of range. Strings point into the environment. */
int riap_workerenv_read(struct riap_workerenv *e, const char **bad);

/* riap_workerenv_unset: removes every name of the table from the
 * environment (what the worker's children never need). */
void riap_workerenv_unset(void);

#endif
