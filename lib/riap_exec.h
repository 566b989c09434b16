/* riap_exec.h: run one program with vfork and execve (no shell), fds 0-2 only: bytes in on its
 * stdin, its stdout collected up to a cap, the tail of its stderr kept, a
 * deadline after which its whole process group is killed. */
#ifndef RIAP_EXEC_H
#define RIAP_EXEC_H
#include <stddef.h>
#include <sys/types.h>
#include <stralloc.h>

enum riap_exec_outcome {
  RIAP_EXEC_EXITED = 0,   /* code = exit status */
  RIAP_EXEC_SIGNALED,     /* code = signal number */
  RIAP_EXEC_TIMEOUT,      /* deadline passed; group killed */
  RIAP_EXEC_TOOBIG,       /* stdout over max_output; group killed */
  RIAP_EXEC_SPAWNFAIL     /* code = errno of posix_spawn or pipe */
};

/* resource limits for a function (soft and hard), 0: left as inherited */
struct riap_exec_limits {
  unsigned long cpu_s;          /* RLIMIT_CPU, seconds */
  unsigned long long as_bytes;  /* RLIMIT_AS */
  unsigned long nofile;         /* RLIMIT_NOFILE */
  unsigned long nproc;          /* RLIMIT_NPROC (per user; not enforced for root) */
};

struct riap_exec {
  const char *path;            /* program to run (argv[0] too) */
  char *const *envp;           /* its whole environment */
  const char *dir;             /* working directory, or NULL */
  const char *input;           /* written to its stdin, then EOF */
  size_t input_len;
  unsigned long timeout_ms;
  size_t max_output;
  const struct riap_exec_limits *limits;   /* NULL: none */
};

#define RIAP_EXEC_ERRTAIL 2048

struct riap_exec_result {
  enum riap_exec_outcome outcome;
  int code;
  stralloc out;                /* stdout; caller frees out.s */
  char errtail[RIAP_EXEC_ERRTAIL];  /* last bytes of stderr */
  size_t errtail_len;
  size_t err_total;            /* all stderr bytes seen */
};

/* riap_exec_run: runs x, filling r (r->out is reset, not freed: reuse it);
 * the caller must ignore SIGPIPE (a program may close its stdin early);
 * returns 1 when the program ran (whatever its outcome), 0 on spawn failure
 * (r->outcome RIAP_EXEC_SPAWNFAIL, r->code errno). */
int riap_exec_run(const struct riap_exec *x, struct riap_exec_result *r);

/* riap_exec_spawn: starts path (argv[0] = path, no shell) in a process group
 * of its own, with in/out/err as its fds 0/1/2, default signal dispositions
 * and an empty mask, in dir when not NULL, under limits when not NULL (set
 * with prlimit right after the exec: a few microseconds run without them);
 * returns 0, or the errno. */
int riap_exec_spawn(const char *path, char *const *envp, const char *dir, int in, int out, int err,
                    const struct riap_exec_limits *limits, pid_t *pid);

/* riap_exec_closefrom: closes every fd from fd up (close_range, or one by
 * one up to the fd limit where the kernel lacks it); async-signal-safe, for
 * a child between fork and exec. Returns nothing: it cannot fail. */
void riap_exec_closefrom(unsigned fd);

/* riap_exec_describe: how a child ended, from its wait status, for a
 * diagnostic: "exited N" or "killed by signal N" (size 32 is enough). */
void riap_exec_describe(char *buf, size_t size, int status);

/* riap_exec_lastline: copies the last non-empty stderr line of r into dest
 * (size bytes, NUL-terminated, control bytes replaced by '?');
 * returns its length, 0 when stderr was empty. */
size_t riap_exec_lastline(char *dest, size_t size, const struct riap_exec_result *r);

#endif
