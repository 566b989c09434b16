/* ctl.h: riap-ctl's parts: main.c (usage, options, the commands), s6.c,
 * runit.c, pidfile.c (one backend each), ready.c (readiness from the
 * scoreboard and the sockets), status.c (the status report). */
#ifndef CTL_H
#define CTL_H
#include <stddef.h>
#include "riap_err.h"    /* riap_err_die, riap_err_info */

#define EXIT_DOWN 1      /* status: not running */

enum sv_kind { SV_NONE, SV_S6, SV_RUNIT, SV_PIDFILE };

struct conf {
  const char *dir;         /* the service directory (s6, runit), or NULL */
  const char *pidfile;     /* pid-file mode, or NULL */
  char sbpath[4096];       /* the scoreboard, "" when there is none */
  int timeout_ms;          /* -t: every wait */
  double interval;         /* -i: status samples the scoreboard twice */
  int json;                /* status --json */
  char **cmd;              /* pid-file start/restart: the command after -- */
  enum sv_kind kind;
};
extern struct conf C;

/* What the supervisor (or the pid file) says. */
struct svstate {
  int known;               /* 0: could not be read, why says why */
  int up;                  /* the process runs */
  long pid;                /* its pid, 0 when none */
  double since;            /* seconds up (or down), -1 unknown */
  int ready;               /* 1, 0, -1 unknown */
  double ready_since;      /* seconds ready, -1 unknown */
  int want_up;             /* 1, 0, -1 unknown */
  int normally_up;         /* 1, 0, -1 unknown */
  int exitcode, signum;    /* down: how the last one ended, -1 unknown */
  char why[4400];
};

struct backend {
  const char *name;
  void (*state)(struct svstate *st);   /* fills st, never fails */
  void (*start)(void);                 /* each returns on success, dies otherwise */
  void (*stop)(void);
  void (*restart)(void);
  void (*reload)(void);
};
extern const struct backend backend_s6, backend_runit, backend_pidfile;

/* main.c */
/* run_prog: runs argv (stdout captured into out when not NULL); dies with
 * step when it cannot be started; returns its exit code (-1: killed). */
int run_prog(const char *step, char *const argv[], char *out, size_t size);
/* now_s: the real time in seconds. */
double now_s(void);
/* msleep: sleeps ms milliseconds. */
void msleep(int ms);
/* pid_alive: 1 when pid runs (a zombie does not), 0 otherwise. */
int pid_alive(long pid);

/* ready.c */
/* sb_generation: the scoreboard's generation, its listener in *lpid;
 * returns 0 when there is no readable scoreboard. */
unsigned sb_generation(long *lpid);
/* sb_ready: 1 when the scoreboard of listener pid (0: any) has generation
 * >= gen and a worker of the current generation past starting; 0 if not,
 * -1 when there is no scoreboard configured. */
int sb_ready(long pid, unsigned gen);
/* addrs_answer: 1 when every address in the service's env/PORTS and
 * env/UNIX_SOCKETS answers a Riap request (1 when there is none), 0 with
 * the first that did not in why. */
int addrs_answer(char *why, size_t size);
/* wait_ready: waits up to C.timeout_ms for pid's scoreboard (gen or more)
 * and, with probe, the addresses; dies with step on timeout or when pid
 * (when > 0) dies. */
void wait_ready(const char *step, long pid, unsigned gen, int probe, double t0);

/* status.c */
/* status: prints the report; returns the exit code (0 up, 1 down). */
int status(const struct backend *b);

#endif
