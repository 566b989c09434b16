/* mkrecord: writes access records made with riap_accessrec_fmt, for tests.
 * usage: mkrecord [-n COUNT] [-S START] [-q] [-d USEC] [-D] [-u URI]
 *          [-A ACTION] [-a ARGS | -l LEN] [-r RES] [-p PEER] [-c STATUS] [-t SEC]
 *   -n COUNT  records to write (default 1)
 *   -q        append "/N" to the uri, N counting from START (-S, default 1)
 *   -d USEC   pause between records
 *   -D        write a diagnostic line "diag N" after each record
 *   -l LEN    args of LEN bytes of 'x' (instead of -a)
 * Each record (and each diagnostic) is one write(2) to fd 1. */
#include "riap_accessrec.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void writeall(const char *s, size_t n)
{
  while (n) {
    ssize_t w = write(1, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) { perror("mkrecord: write"); exit(111); }
    s += w; n -= (size_t)w;
  }
}

int main(int argc, char **argv)
{
  struct riap_accessrec r;
  static char line[RIAP_ACCESSREC_MAX], uri[4096], *big;
  const char *baseuri = "/Math/mult";
  long n = 1, start = 1, i, usec = 0, len = -1;
  int seq = 0, diag = 0, c;

  memset(&r, 0, sizeof r);
  r.time_sec = 1764105825; r.time_usec = 123456;
  r.pid = (long)getpid(); r.peer = "127.0.0.1:51000"; r.v = "1.1";
  r.action = "call"; r.status = 200;
  r.args = "{\"a\":2,\"b\":3}"; r.res = "6";
  r.treq = 0.000012; r.tres = 0.00024;
  while ((c = getopt(argc, argv, "n:S:qd:Du:A:a:l:r:p:c:t:")) != -1) {
    switch (c) {
    case 'n': n = atol(optarg); break;
    case 'S': start = atol(optarg); break;
    case 'q': seq = 1; break;
    case 'd': usec = atol(optarg); break;
    case 'D': diag = 1; break;
    case 'u': baseuri = optarg; break;
    case 'A': r.action = optarg; break;
    case 'a': r.args = optarg; break;
    case 'l': len = atol(optarg); break;
    case 'r': r.res = optarg; break;
    case 'p': r.peer = optarg; break;
    case 'c': r.status = atoi(optarg); break;
    case 't': r.time_sec = atoll(optarg); break;
    default: fprintf(stderr, "mkrecord: usage error\n"); return 100;
    }
  }
  if (len >= 0) {
    if (!(big = malloc((size_t)len + 1))) return 111;
    memset(big, 'x', (size_t)len);
    r.args = big;
    r.args_len = (size_t)len;
  } else r.args_len = strlen(r.args);
  r.action_len = strlen(r.action);
  r.res_len = strlen(r.res);
  for (i = 0; i < n; ++i) {
    size_t k;
    if (seq) snprintf(uri, sizeof uri, "%s/%ld", baseuri, start + i);
    else snprintf(uri, sizeof uri, "%s", baseuri);
    r.uri = uri; r.uri_len = strlen(uri);
    k = riap_accessrec_fmt(line, &r);
    writeall(line, k);
    if (diag) {
      k = (size_t)snprintf(line, sizeof line, "diag %ld\n", start + i);
      writeall(line, k);
    }
    if (usec) {
      struct timespec ts = { usec / 1000000, (usec % 1000000) * 1000 };
      nanosleep(&ts, 0);
    }
  }
  free(big);
  return 0;
}
