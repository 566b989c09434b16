/* fdlist: a function for t/riap-fd-hygiene.bats that tells which fds it
 * was given: [200,"OK",{"fds":[0,1,2],"what":{"N":"kind"},"pid":P}].
 * As an exec'd function it reads its arguments to EOF and answers once;
 * as a persistent one (RIAP_EXEC=persistent) it answers each line.
 * "fdlist --record FILE PROG ARG..." writes the same object to FILE, then
 * becomes PROG: a riap+pipe mount backend that reports what it got.
 * Linked statically, so that it runs in a chroot too; there, without
 * /proc, it tries every fd up to 65535. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define SCAN_MAX 65536

static const char *kind(int fd)
{
  struct stat st;
  int t;
  socklen_t n = sizeof t;
  if (fstat(fd, &st) < 0) return "?";
  if (S_ISSOCK(st.st_mode)) {
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &n) < 0) return "socket";
    return t == SOCK_SEQPACKET ? "seqpacket socket" : t == SOCK_STREAM ? "stream socket"
         : t == SOCK_DGRAM ? "dgram socket" : "socket";
  }
  if (S_ISFIFO(st.st_mode)) return "pipe";
  if (S_ISREG(st.st_mode)) return "file";
  if (S_ISDIR(st.st_mode)) return "directory";
  if (S_ISCHR(st.st_mode)) return "character device";
  return "other";
}

/* open fds in ascending order into fds (at most max); returns how many */
static int list(int *fds, int max)
{
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  int n = 0, fd, i, j;
  if (!d) {
    for (fd = 0; fd < SCAN_MAX && n < max; fd++)
      if (fcntl(fd, F_GETFD) >= 0) fds[n++] = fd;
    return n;
  }
  while ((e = readdir(d)) && n < max) {
    if (e->d_name[0] == '.') continue;
    fd = atoi(e->d_name);
    if (fd != dirfd(d)) fds[n++] = fd;
  }
  closedir(d);
  for (i = 1; i < n; i++)                   /* insertion sort: a handful */
    for (j = i; j > 0 && fds[j - 1] > fds[j]; j--) { int t = fds[j]; fds[j] = fds[j - 1]; fds[j - 1] = t; }
  return n;
}

static void report(FILE *f)
{
  int fds[1024], n = list(fds, 1024), i, more = 0;
  fprintf(f, "{\"fds\":[");
  for (i = 0; i < n; i++) fprintf(f, "%s%d", i ? "," : "", fds[i]);
  fprintf(f, "],\"what\":{");
  for (i = 0; i < n; i++) {
    if (fds[i] < 3) continue;
    fprintf(f, "%s\"%d\":\"%s\"", more++ ? "," : "", fds[i], kind(fds[i]));
  }
  fprintf(f, "},\"pid\":%ld}", (long)getpid());
}

int main(int argc, char **argv)
{
  char line[65536];
  const char *mode = getenv("RIAP_EXEC");
  if (argc > 3 && !strcmp(argv[1], "--record")) {
    char *text;
    size_t len;
    FILE *m = open_memstream(&text, &len), *f;   /* listed before the file is opened */
    if (!m) { perror("open_memstream"); return 111; }
    report(m);
    fclose(m);
    if (!(f = fopen(argv[2], "we")) || fprintf(f, "%s\n", text) < 0 || fclose(f)) { perror(argv[2]); return 111; }
    execv(argv[3], argv + 3);
    perror(argv[3]);
    return 111;
  }
  if (mode && !strcmp(mode, "persistent")) {
    while (fgets(line, sizeof line, stdin)) {
      fputs("[200,\"OK\",", stdout);
      report(stdout);
      fputs("]\n", stdout);
      fflush(stdout);
    }
    return 0;
  }
  while (fread(line, 1, sizeof line, stdin) > 0) ;
  fputs("[200,\"OK\",", stdout);
  report(stdout);
  fputs("]\n", stdout);
  return 0;
}
