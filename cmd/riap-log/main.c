/* riap-log: reads the merged output of riap-listen and its workers on
 * stdin; access records go to the access log in the chosen format, every
 * other line, time stamped, to the error log. Nothing read is dropped.
 * See doc/riap-log.8. */
#include "dest.h"
#include "riap_time.h"
#include "format.h"
#include "riap_accessrec.h"
#include "riap_opt.h"
#include <errmsg.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "riap_version.h"

#define IN_MAX 65536              /* longest input line; longer ones are split */
#define STOP_WAIT_MS 2000         /* after SIGTERM: wait for the rest of a line begun */
#define SIZE_MAX_OPT (1ULL << 60)    /* largest -s, -b: no limit really */
#define USAGE "riap-log [-a DEST] [-e DEST] [-f perl|json|tsv] [-t iso|tai64n|none] [-s BYTES] [-n COUNT] [-b BYTES] [-r SECONDS] [-y]"

static const char usage_text[] =
  "usage: " USAGE "\n"
  "  -a, --access DEST      access log (default -: stdout)\n"
  "  -e, --error DEST       error log (default -: stdout)\n"
  "      DEST: - for stdout, DIR/ or an existing directory for a rotated\n"
  "      directory (current, @TAI64N.s), anything else a file in append mode\n"
  "  -f, --format FMT       access log format: perl (default), json, tsv\n"
  "  -t, --timestamp TS     error line stamps: iso (default), tai64n, none\n"
  "  -s, --max-size BYTES   rotate a directory's current before this size (1000000)\n"
  "  -n, --max-files COUNT  rotated files kept in a directory, 0: all (10)\n"
  "  -b, --buffer-size BYTES  memory per log before reading pauses (1048576)\n"
  "  -r, --retry SECONDS    pause before retrying a failed write (5)\n"
  "  -y, --fsync            fsync after every write and before exiting\n"
  "  -h, --help             this text\n"
  "  -V, --version          the version\n";

static void usage(const char *why, const char *what)
{
  carp("fatal: ", why, what);
  die(100, "usage: ", USAGE);
}


static char in[IN_MAX];
static size_t inpos, inlen;       /* unprocessed input: in[inpos..inlen) */
static int eof;                   /* no more input: a last partial line is a line */
static struct dest dacc, derr, *acc = &dacc, *err = &derr;
static enum format format = FORMAT_PERL;
static enum stamp stamp = STAMP_ISO;
static struct riap_accessrec_parsed rec;

static void emit(const char *p, size_t n, int complete)
{
  char *o;
  if (complete && riap_accessrec_scan(p, n, &rec) == n) {
    o = dest_line(acc);
    dest_commit(acc, format_access(o, format, &rec));
    return;
  } else {
    struct timespec ts;
    size_t k;
    if (complete) --n;
    clock_gettime(CLOCK_REALTIME, &ts);
    o = dest_line(err);
    k = format_stamp(o, stamp, ts.tv_sec, ts.tv_nsec);
    memcpy(o + k, p, n);
    o[k + n] = '\n';
    dest_commit(err, k + n + 1);
  }
}

/* Turns the complete lines of the input into log lines while both logs
 * have room; returns 1 when it stopped for lack of room. */
static int process(void)
{
  while (inpos < inlen) {
    const char *p = in + inpos, *nl = memchr(p, '\n', inlen - inpos);
    size_t n;
    if (nl) n = (size_t)(nl - p) + 1;
    else if (inlen - inpos == IN_MAX || eof) n = inlen - inpos;
    else break;
    if (!dest_room(acc) || !dest_room(err)) return 1;
    emit(p, n, nl != 0);
    inpos += n;
  }
  if (inpos == inlen) inpos = inlen = 0;
  else if (inpos > 0) {        /* keep the line begun at the start of the buffer */
    memmove(in, in + inpos, inlen - inpos);
    inlen -= inpos;
    inpos = 0;
  }
  return 0;
}

static int flush(long long now)
{
  int done = dest_flush(acc, now);
  if (err != acc) done &= dest_flush(err, now);
  return done;
}

static void setdest(struct dest *d, const char *spec, size_t bound, size_t extra)
{
  if (dest_init(d, spec, bound, extra) < 0) die(111, "fatal: out of memory");
}

/* A log that cannot be opened at start is a mistake to report at once,
 * unless time may cure it: a lock held by another writer, a full disk, no
 * fd or memory to spare. Then riap-log waits and retries, as for a write. */
static void opendest(struct dest *d)
{
  if (dest_open(d) == 0) return;
  if (errno != EWOULDBLOCK && errno != ENOSPC && errno != EDQUOT && errno != EMFILE
      && errno != ENFILE && errno != ENOMEM)
    diesys(111, "fatal: unable to open ", d->path);
  dest_fail(d, riap_time_monoms(), "open");
}

struct opts {
  const char *aspec, *espec;        /* -a, -e */
  unsigned long long maxsize;       /* -s */
  unsigned maxfiles, retry;         /* -n, -r */
  size_t bound;                     /* -b */
  int dofsync;                      /* -y */
};

static void options(int argc, char **argv, struct opts *o)
{
  static const struct option longopts[] = {
    { "access", 1, 0, 'a' }, { "error", 1, 0, 'e' }, { "format", 1, 0, 'f' },
    { "timestamp", 1, 0, 't' }, { "max-size", 1, 0, 's' }, { "max-files", 1, 0, 'n' },
    { "buffer-size", 1, 0, 'b' }, { "retry", 1, 0, 'r' }, { "fsync", 0, 0, 'y' },
    { "help", 0, 0, 'h' }, { "version", 0, 0, 'V' }, { 0, 0, 0, 0 },
  };
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":a:e:f:t:s:n:b:r:yhV", longopts, 0)) != -1) {
    switch (c) {
    case 'a': o->aspec = optarg; break;
    case 'e': o->espec = optarg; break;
    case 'f':
      if (!strcmp(optarg, "perl")) format = FORMAT_PERL;
      else if (!strcmp(optarg, "json")) format = FORMAT_JSON;
      else if (!strcmp(optarg, "tsv")) format = FORMAT_TSV;
      else usage("unknown format: ", optarg);
      break;
    case 't':
      if (!strcmp(optarg, "iso")) stamp = STAMP_ISO;
      else if (!strcmp(optarg, "tai64n")) stamp = STAMP_TAI64N;
      else if (!strcmp(optarg, "none")) stamp = STAMP_NONE;
      else usage("unknown timestamp style: ", optarg);
      break;
    case 's': o->maxsize = riap_opt_size(USAGE, "--max-size", optarg, 1, SIZE_MAX_OPT); break;
    case 'n': o->maxfiles = (unsigned)riap_opt_number(USAGE, "--max-files", optarg, 0, 100000); break;
    case 'b': o->bound = (size_t)riap_opt_size(USAGE, "--buffer-size", optarg, 4096, SIZE_MAX_OPT); break;
    case 'r': o->retry = (unsigned)riap_opt_number(USAGE, "--retry", optarg, 1, 3600); break;
    case 'y': o->dofsync = 1; break;
    case 'h': fputs(usage_text, stdout); exit(0);
    case 'V': puts("riap-log " RIAP_VERSION); exit(0);
    case ':': usage("missing argument for ", argv[optind - 1]); break;
    default: usage("unknown option: ", argv[optind - 1]);
    }
  }
  if (optind < argc) usage("unexpected argument: ", argv[optind]);
}

/* Opens the logs: one dest when both go to the same place. */
static void setup(const struct opts *o)
{
  if (!strcmp(o->aspec, o->espec)) {
    err = acc;
    setdest(acc, o->aspec, o->bound, FORMAT_ACCESS_MAX > IN_MAX + FORMAT_STAMP_MAX + 1 ? FORMAT_ACCESS_MAX : IN_MAX + FORMAT_STAMP_MAX + 1);
  } else {
    setdest(acc, o->aspec, o->bound, FORMAT_ACCESS_MAX);
    setdest(err, o->espec, o->bound, IN_MAX + FORMAT_STAMP_MAX + 1);
  }
  acc->maxsize = err->maxsize = o->maxsize;
  acc->maxfiles = err->maxfiles = o->maxfiles;
  acc->fsync_each = err->fsync_each = o->dofsync;
  acc->retry = err->retry = o->retry;
  opendest(acc);
  if (err != acc) opendest(err);
}

/* SIGTERM, SIGINT, SIGHUP come through the fd it returns. */
static int signals_fd(void)
{
  sigset_t set;
  int sfd;
  signal(SIGPIPE, SIG_IGN);
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  if (sigprocmask(SIG_BLOCK, &set, 0) < 0 || (sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
    diesys(111, "fatal: unable to set up signals");
  return sfd;
}

/* Reads, formats and writes until stdin ends (or a signal stops it) and
 * every line is written. */
static void run(int sfd)
{
  int reading = 1, stopping = 0;
  long long deadline = 0;

  for (;;) {
    struct pollfd p[2];
    int np = 1, blocked, tail_open;
    long long now = riap_time_monoms(), wait = -1, w;

    do {
      blocked = process();
      flush(now);
    } while (blocked && dest_room(acc) && dest_room(err));
    if (!reading && inpos == inlen && !acc->len && !err->len) break;

    /* After SIGTERM: read what remains of a line begun, byte by byte, so
     * that no later line is taken from the pipe; then stop reading. */
    tail_open = inlen > inpos && in[inlen - 1] != '\n';
    if (reading && stopping && (!tail_open || now >= deadline)) reading = 0, eof = 1;
    if (!reading) eof = 1;

    p[0].fd = sfd; p[0].events = POLLIN;
    if (reading && !blocked && inlen < IN_MAX) { p[1].fd = 0; p[1].events = POLLIN; np = 2; }
    if ((w = dest_wait(acc, now)) >= 0) wait = w;
    if (err != acc && (w = dest_wait(err, now)) >= 0 && (wait < 0 || w < wait)) wait = w;
    if (reading && stopping && (wait < 0 || deadline - now < wait)) wait = deadline - now;
    if (!reading && eof && inpos < inlen && !blocked) continue;   /* the last partial line */
    if (np == 1 && wait < 0 && !reading && !acc->len && !err->len) continue;

    if (poll(p, (nfds_t)np, wait > 0x7fffffff ? 0x7fffffff : (int)wait) < 0) {
      if (errno == EINTR) continue;
      diesys(111, "fatal: unable to poll");
    }
    if (p[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGHUP) {
          flush(riap_time_monoms());
          dest_reopen(acc, riap_time_monoms());
          if (err != acc) dest_reopen(err, riap_time_monoms());
        } else if (!stopping) {
          stopping = 1;
          deadline = riap_time_monoms() + STOP_WAIT_MS;
        }
      }
    }
    if (np == 2 && p[1].revents) {
      ssize_t r;
      r = read(0, in + inlen, stopping ? 1 : IN_MAX - inlen);
      if (r > 0) inlen += (size_t)r;
      else if (r == 0) reading = 0, eof = 1;
      else if (errno != EINTR && errno != EAGAIN) {
        carpsys("warning: unable to read stdin");
        reading = 0, eof = 1;
      }
    }
  }
}

int main(int argc, char **argv)
{
  struct opts o = { .aspec = "-", .espec = "-", .maxsize = 1000000, .maxfiles = 10,
                    .retry = 5, .bound = 1 << 20, .dofsync = 0 };

  errmsg_iam("riap-log");
  options(argc, argv, &o);
  setup(&o);
  run(signals_fd());
  if (o.dofsync && (dest_sync(acc) < 0 || (err != acc && dest_sync(err) < 0))) diesys(111, "fatal: unable to fsync logs");
  return 0;
}
