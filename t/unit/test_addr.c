/* test_addr.c: listener address forms (riap_sock_scantcp/scanunix), and a
 * stale Unix socket replaced while a live one is not. */
#include "unit.h"
#include "riap_sock.h"
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void good(const char *s, int family, const char *text)
{
  struct riap_sockaddr a;
  char what[160];
  snprintf(what, sizeof what, "'%s' is %s", s, text);
  CHECK(riap_sock_scantcp(s, &a) == strlen(s) && a.family == family, what);
  CHECK_STR(a.text, text, what);
}

static void bad(const char *s)
{
  struct riap_sockaddr a;
  char what[160];
  snprintf(what, sizeof what, "'%s' is refused", s);
  CHECK(riap_sock_scantcp(s, &a) == 0, what);
}

int main(void)
{
  struct riap_sockaddr a;
  char dir[] = "/tmp/test_addrXXXXXX", path[100];
  int fd, fd2;
  struct stat st;

  good("5678", AF_INET, "0.0.0.0:5678");
  good(":5678", AF_INET, "0.0.0.0:5678");
  good("*:5678", AF_INET, "0.0.0.0:5678");
  good("0.0.0.0:1", AF_INET, "0.0.0.0:1");
  good("127.0.0.1:65535", AF_INET, "127.0.0.1:65535");
  good("[::1]:80", AF_INET6, "[::1]:80");
  good("[::]:80", AF_INET6, "[::]:80");
  bad(""); bad(":"); bad("0"); bad("65536"); bad("123456"); bad("12a");
  bad("localhost:80"); bad("1.2.3:80"); bad("1.2.3.4.5:80"); bad("::1:80");
  bad("[::1]"); bad("[::1]80"); bad("[zz]:80"); bad("1.2.3.4:"); bad("1.2.3.4:-1");
  bad("/tmp/sock");

  CHECK(riap_sock_scanunix("/tmp/x.sock", &a) == 11 && a.family == AF_UNIX, "absolute path");
  CHECK_STR(a.text, "unix:/tmp/x.sock", "unix text");
  CHECK(riap_sock_scanunix("x.sock", &a) == 0, "relative path refused");
  {
    char longp[200];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = 0;
    CHECK(riap_sock_scanunix(longp, &a) == 0, "path too long for sun_path refused");
  }
  CHECK(riap_sock_scanaddr("unix:/tmp/x.sock", &a) && a.family == AF_UNIX, "scanaddr: unix:/path");
  CHECK(riap_sock_scanaddr("127.0.0.1:80", &a) && a.family == AF_INET, "scanaddr: host:port");
  CHECK(!riap_sock_scanaddr("unix:x.sock", &a) && !riap_sock_scanaddr("/tmp/x.sock", &a),
        "scanaddr: a relative unix: path, a bare path refused");

  if (!mkdtemp(dir)) { perror("mkdtemp"); return 111; }
  snprintf(path, sizeof path, "%s/s", dir);
  riap_sock_scanunix(path, &a);
  fd = riap_sock_bind(&a, 5);
  CHECK(fd >= 0, "unix socket bound");
  errno = 0;
  fd2 = riap_sock_bind(&a, 5);
  CHECK(fd2 < 0 && errno == EADDRINUSE, "a live socket is not replaced");
  close(fd);                                    /* the file stays: stale now */
  CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode), "stale socket file left");
  fd = riap_sock_bind(&a, 5);
  CHECK(fd >= 0, "a stale socket is replaced");
  {
    struct riap_peer p;
    int c = riap_sock_connect(&a), s;
    CHECK(c >= 0, "connected");
    s = riap_sock_accept(fd, AF_UNIX, &p);
    CHECK(s >= 0 && p.proto == RIAP_PROTO_IPC && p.pid == getpid() && p.uid == (long)geteuid(),
          "accept gives SO_PEERCRED pid and uid");
    close(c); if (s >= 0) close(s);
  }
  close(fd);
  unlink(path);
  fd = open(path, O_CREAT | O_WRONLY, 0600);
  close(fd);
  errno = 0;
  CHECK(riap_sock_bind(&a, 5) < 0 && errno == EADDRINUSE, "a regular file is never replaced");
  CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode), "the regular file is still there");
  unlink(path);

  riap_sock_scantcp("127.0.0.1:0", &a);         /* refused: port 0 */
  {
    struct riap_peer p;
    struct sockaddr_in sin;
    socklen_t sl = sizeof sin;
    int l, c, s;
    memset(&a, 0, sizeof a);
    a.family = AF_INET;
    a.u.in4.sin_family = AF_INET;
    a.u.in4.sin_addr.s_addr = htonl(0x7f000001);
    a.len = sizeof a.u.in4;
    l = riap_sock_bind(&a, 5);
    CHECK(l >= 0, "tcp bound on an ephemeral port");
    getsockname(l, (struct sockaddr *)&sin, &sl);
    a.u.in4.sin_port = sin.sin_port;
    c = riap_sock_connect(&a);
    s = riap_sock_accept(l, AF_INET, &p);
    CHECK(s >= 0 && p.proto == RIAP_PROTO_TCP && !strcmp(p.remoteip, "127.0.0.1")
          && !strcmp(p.localip, "127.0.0.1") && p.localport == ntohs(sin.sin_port) && p.remoteport > 0,
          "accept gives tcp addresses and ports");
    close(c); close(s); close(l);
  }
  rmdir(dir);
  return UNIT_DONE();
}
