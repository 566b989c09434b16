/* test_url.c: Riap URL forms (riap_url_parse, the Perl client's regexes),
 * percent-escapes, and the client connection (riap_client_*) against
 * small programs over riap+pipe (cat as an echo server, true, sleep) and a
 * refused TCP port and a missing Unix socket. */
#include "unit.h"
#include "riap_url.h"
#include "riap_client.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char what[512];

static void tcp(const char *s, const char *host, unsigned port, const char *uri, const char *endpoint)
{
  struct riap_url u;
  char msg[RIAP_URL_MSGMAX];
  int ok = riap_url_parse(&u, s, msg);
  snprintf(what, sizeof what, "'%s' parses as tcp", s);
  CHECK(ok && u.scheme == RIAP_URL_TCP, what);
  if (!ok) { printf("#   %s\n", msg); return; }
  snprintf(what, sizeof what, "'%s': host", s);
  CHECK_STR(u.host, host, what);
  snprintf(what, sizeof what, "'%s': port %u", s, port);
  CHECK(u.port == port, what);
  snprintf(what, sizeof what, "'%s': uri", s);
  CHECK_STR(u.uri, uri, what);
  snprintf(what, sizeof what, "'%s': endpoint", s);
  CHECK_STR(u.endpoint, endpoint, what);
  CHECK(u.path == NULL && u.argv == NULL && u.argc == 0, "tcp: no path, no argv");
  riap_url_free(&u);
}

static void unx(const char *s, const char *path, const char *uri)
{
  struct riap_url u;
  char msg[RIAP_URL_MSGMAX];
  int ok = riap_url_parse(&u, s, msg);
  snprintf(what, sizeof what, "'%s' parses as unix", s);
  CHECK(ok && u.scheme == RIAP_URL_UNIX, what);
  if (!ok) { printf("#   %s\n", msg); return; }
  snprintf(what, sizeof what, "'%s': path", s);
  CHECK_STR(u.path, path, what);
  snprintf(what, sizeof what, "'%s': uri", s);
  CHECK_STR(u.uri, uri, what);
  CHECK(u.host == NULL && u.port == 0 && u.argv == NULL, "unix: no host, no argv");
  riap_url_free(&u);
}

/* args: the expected argv (program first), joined with '|' */
static void pip(const char *s, const char *args, const char *uri)
{
  struct riap_url u;
  char msg[RIAP_URL_MSGMAX], joined[512] = "";
  size_t i;
  int ok = riap_url_parse(&u, s, msg);
  snprintf(what, sizeof what, "'%s' parses as pipe", s);
  CHECK(ok && u.scheme == RIAP_URL_PIPE, what);
  if (!ok) { printf("#   %s\n", msg); return; }
  for (i = 0; i < u.argc; ++i) {
    if (i) strcat(joined, "|");
    strcat(joined, u.argv[i]);
  }
  snprintf(what, sizeof what, "'%s': argv", s);
  CHECK_STR(joined, args, what);
  CHECK(u.argv[u.argc] == NULL, "argv is NULL-terminated");
  snprintf(what, sizeof what, "'%s': program is path", s);
  CHECK_STR(u.path, u.argv[0], what);
  snprintf(what, sizeof what, "'%s': uri", s);
  CHECK_STR(u.uri, uri, what);
  riap_url_free(&u);
}

static void bad(const char *s, const char *part)
{
  struct riap_url u;
  char msg[RIAP_URL_MSGMAX];
  int ok = riap_url_parse(&u, s, msg);
  snprintf(what, sizeof what, "'%s' is refused, message has '%s'", s, part);
  CHECK(!ok && strstr(msg, part) && u.uri == NULL && u.host == NULL && u.argv == NULL, what);
  if (ok || !strstr(msg, part)) printf("#   message: %s\n", msg);
  riap_url_free(&u);
}

static void urls(void)
{
  char buf[64];
  struct riap_url u;
  char msg[RIAP_URL_MSGMAX];

  tcp("riap+tcp://localhost:5000/Foo/Bar/func", "localhost", 5000, "/Foo/Bar/func", "localhost:5000");
  tcp("riap+tcp://127.0.0.1:1/", "127.0.0.1", 1, "/", "127.0.0.1:1");
  tcp("RIAP+TCP://example.org:65535/Math/$PI", "example.org", 65535, "/Math/$PI", "example.org:65535");
  tcp("riap+tcp://[::1]:5678/Math/", "::1", 5678, "/Math/", "[::1]:5678");
  tcp("riap+tcp://127.0.0.1:80/a%20b", "127.0.0.1", 80, "/a%20b", "127.0.0.1:80");
  bad("riap+tcp://localhost:5000", "entity uri");
  bad("riap+tcp://localhost/Foo", "HOST:PORT");
  bad("riap+tcp:localhost:5000/Foo", "//HOST:PORT");
  bad("riap+tcp://:5000/Foo", "host is empty");
  bad("riap+tcp://localhost:0/", "1-65535");
  bad("riap+tcp://localhost:65536/", "1-65535");
  bad("riap+tcp://localhost:99999999999999999999/", "1-65535");
  bad("riap+tcp://localhost:50x/", "number");
  bad("riap+tcp://localhost:/", "number");
  bad("riap+tcp://[::1/", "IPv6");
  bad("riap+tcp://[::1]/", "IPv6");

  unx("riap+unix:/var/run/api.sock//Foo/Bar/func", "/var/run/api.sock", "/Foo/Bar/func");
  unx("riap+unix:/tmp/s//", "/tmp/s", "/");
  unx("riap+unix:rel/sock///x", "rel/sock", "//x");
  unx("riap+unix:/tmp/a%2F%2Fb//Math/mult", "/tmp/a//b", "/Math/mult");
  unx("riap+unix:/tmp/with%20space//x", "/tmp/with space", "/x");
  bad("riap+unix:/tmp/sock/Foo", "PATH//uri");
  bad("riap+unix:", "PATH//uri");
  bad("riap+unix://Foo", "PATH//uri");
  bad("riap+unix:/tmp/%zz//x", "percent-escape");
  bad("riap+unix:/tmp/%00//x", "percent-escape");
  bad("riap+unix:/tmp/a%2//x", "percent-escape");
  bad("riap+unix:/tmp/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx//x", "longer");

  pip("riap+pipe:/path/to/prog//arg1/arg2//Foo/Bar/func", "/path/to/prog|arg1|arg2", "/Foo/Bar/func");
  pip("riap+pipe:/bin/prog////Foo", "/bin/prog", "/Foo");
  bad("riap+pipe:/bin/prog///Foo", "PROGRAM//ARGS//uri");
  pip("riap+pipe:/bin/prog////", "/bin/prog", "/");
  pip("riap+pipe:ssh//-T/user%40host/%2Fpath%2Fto%2Fprogram/first%20arg//Foo/Bar/func",
      "ssh|-T|user@host|/path/to/program|first arg", "/Foo/Bar/func");
  pip("riap+pipe:/p//a///x", "/p|a", "//x");
  pip("riap+pipe:/p//a%2Fb//x/y", "/p|a/b", "/x/y");
  pip("riap+pipe:/usr/bin/riap-handle//--log-fd/3/examples//Math/mult",
      "/usr/bin/riap-handle|--log-fd|3|examples", "/Math/mult");
  bad("riap+pipe:/bin/prog//Foo", "PROGRAM//ARGS//uri");
  bad("riap+pipe:/bin/prog", "PROGRAM//ARGS//uri");
  bad("riap+pipe:/bin/prog//a/%G0//x", "argument 2");
  bad("riap+pipe:/bin/%//a//x", "program");

  bad("http://localhost/", "unsupported URL scheme 'http'");
  bad("riap+ssh://x/", "unsupported URL scheme");
  bad("/Math/mult", "not a Riap URL");
  bad("", "not a Riap URL");
  bad("riap+tcp", "not a Riap URL");

  CHECK(riap_url_hasscheme("riap+tcp://x:1/"), "hasscheme riap+tcp:");
  CHECK(riap_url_hasscheme("http:x"), "hasscheme http:");
  CHECK(riap_url_hasscheme("a1+-.:"), "hasscheme with + - . digits");
  CHECK(!riap_url_hasscheme("/Math/mult"), "no scheme in /Math/mult");
  CHECK(!riap_url_hasscheme("mult"), "no scheme in mult");
  CHECK(!riap_url_hasscheme("1a:"), "a scheme starts with a letter");
  CHECK(!riap_url_hasscheme("a b:"), "no space in a scheme");

  CHECK(riap_url_unescape(buf, "a%41%2f%2F", 10) == 4 && !memcmp(buf, "aA//", 4), "unescape %41 %2f %2F");
  CHECK(riap_url_unescape(buf, "%4", 2) == (size_t)-1, "unescape: truncated escape refused");
  CHECK(riap_url_unescape(buf, "%", 1) == (size_t)-1, "unescape: lone % refused");
  CHECK(riap_url_unescape(buf, "+", 1) == 1 && buf[0] == '+', "unescape: + stays +");

  riap_url_free(&u);   /* never parsed: harmless after memset */
  memset(&u, 0, sizeof u);
  riap_url_free(&u);
  CHECK(riap_url_parse(&u, "riap+tcp://h:1/", msg) == 1, "parse again");
  riap_url_free(&u);
  riap_url_free(&u);
  CHECK(u.uri == NULL, "free twice is harmless");
}

static int parse(struct riap_url *u, const char *s)
{
  char msg[RIAP_URL_MSGMAX];
  int ok = riap_url_parse(u, s, msg);
  if (!ok) printf("# %s: %s\n", s, msg);
  return ok;
}

static void client(void)
{
  struct riap_url u;
  struct riap_conn c;
  json_t *req, *env;
  int fd, r;
  struct sockaddr_in sin;
  socklen_t slen = sizeof sin;
  char url[128];
  struct timespec t0, t1;

  riap_conn_init(&c);
  CHECK(c.rfd == -1 && c.wfd == -1 && c.maxline == RIAP_CLIENT_MAXLINE, "conn_init");

  /* cat echoes the request line: a well-formed envelope comes back */
  CHECK(parse(&u, "riap+pipe:cat////"), "cat url");
  CHECK(riap_client_open(&c, &u, 1000), "open riap+pipe:cat");
  CHECK(c.pid > 0 && c.rfd >= 0 && c.wfd >= 0 && c.rfd != c.wfd, "pipe: a child and two fds");
  req = json_pack("[i,s,f,{s:f}]", 200, "OK", 1.5, "riap.v", 1.2);
  env = riap_client_request(&c, req, 2000);
  CHECK(env && json_integer_value(json_array_get(env, 0)) == 200
        && json_real_value(json_array_get(env, 2)) == 1.5, "request/response through cat");
  json_decref(env);
  /* pipelined: three queued, three lines back in order */
  for (r = 1; r <= 3; ++r) {
    json_array_set_new(req, 0, json_integer(200 + r));
    CHECK(riap_client_queuereq(&c, req), "queuereq");
  }
  CHECK(riap_client_pending(&c) > 0, "pending before flush");
  CHECK(riap_client_send(&c, NULL, 2000), "send the queue");
  CHECK(riap_client_pending(&c) == 0, "nothing pending after send");
  for (r = 1; r <= 3; ++r) {
    env = riap_client_recv(&c, 2000);
    snprintf(what, sizeof what, "pipelined answer %d in order", r);
    CHECK(env && json_integer_value(json_array_get(env, 0)) == 200 + r, what);
    json_decref(env);
  }
  json_decref(req);
  /* raw lines: a bare LF, a non-j line, JSON that is no envelope */
  CHECK(riap_client_queue(&c, "j[404,\"Not found\"]\nhello\r\nj{\"a\":1}\r\nj[1,\r\n", 42), "queue raw");
  CHECK(riap_client_send(&c, NULL, 2000), "send raw");
  env = riap_client_recv(&c, 2000);
  CHECK(env && json_integer_value(json_array_get(env, 0)) == 404, "bare LF line accepted");
  json_decref(env);
  env = riap_client_recv(&c, 2000);
  CHECK(!env && c.err == RIAP_CLIENT_EPROTO && strstr(c.msg, "invalid response line from pipe:cat: \"hello\""), "non-j line: EPROTO");
  if (env || !strstr(c.msg, "hello")) printf("# %s\n", c.msg);
  env = riap_client_recv(&c, 2000);
  CHECK(!env && c.err == RIAP_CLIENT_EPROTO && strstr(c.msg, "not an envelope"), "object: not an envelope");
  env = riap_client_recv(&c, 2000);
  CHECK(!env && c.err == RIAP_CLIENT_EPROTO && strstr(c.msg, "invalid JSON"), "broken JSON: EPROTO");
  /* nothing more comes: the timeout */
  clock_gettime(CLOCK_MONOTONIC, &t0);
  env = riap_client_recv(&c, 150);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  CHECK(!env && c.err == RIAP_CLIENT_ETIMEOUT && strstr(c.msg, "no response from pipe:cat within 0.150 s"), "recv timeout");
  CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 140, "waited the timeout");
  /* a line over the cap */
  c.maxline = 16;
  CHECK(riap_client_queue(&c, "j[200,\"0123456789abcdef\"]\r\n", 27) && riap_client_send(&c, NULL, 2000), "send long");
  env = riap_client_recv(&c, 2000);
  CHECK(!env && c.err == RIAP_CLIENT_ETOOLONG, "line over maxline: ETOOLONG");
  CHECK(riap_client_close(&c, 1000) == 1, "close: cat exits 0 on EOF");
  CHECK(c.pid == 0 && c.rfd == -1 && c.wfd == -1, "closed");
  riap_url_free(&u);

  /* a program that answers nothing and exits */
  riap_conn_init(&c);
  CHECK(parse(&u, "riap+pipe:true////"), "true url");
  CHECK(riap_client_open(&c, &u, 1000), "open true");
  env = riap_client_recv(&c, 2000);
  CHECK(!env && c.err == RIAP_CLIENT_ECLOSED && strstr(c.msg, "connection closed by pipe:true without a response"), "EOF: ECLOSED");
  /* writing to it: EPIPE, not SIGPIPE (which is not ignored here) */
  signal(SIGPIPE, SIG_DFL);
  req = json_pack("{s:s}", "action", "info");
  for (r = 0; r < 3 && riap_client_send(&c, req, 1000); ++r) usleep(20000);
  CHECK(r < 3 && c.err == RIAP_CLIENT_ECLOSED, "send to a dead child: ECLOSED, no signal");
  CHECK(riap_client_close(&c, 1000) == 1, "close: true exited 0");
  riap_url_free(&u);

  /* false: the exit status is reported */
  CHECK(parse(&u, "riap+pipe:false////"), "false url");
  CHECK(riap_client_open(&c, &u, 1000), "open false");
  CHECK(riap_client_close(&c, 1000) == 0 && strstr(c.msg, "pipe:false exited 1"), "close: exit 1 reported");
  riap_url_free(&u);

  /* a program that ignores EOF: killed after the grace period */
  CHECK(parse(&u, "riap+pipe:sleep//10//"), "sleep url");
  CHECK(riap_client_open(&c, &u, 1000), "open sleep 10");
  clock_gettime(CLOCK_MONOTONIC, &t0);
  CHECK(riap_client_close(&c, 100) == 0 && strstr(c.msg, "killed"), "close: sleep killed");
  clock_gettime(CLOCK_MONOTONIC, &t1);
  CHECK(t1.tv_sec - t0.tv_sec < 3, "killed promptly");
  riap_url_free(&u);

  /* a missing program */
  CHECK(parse(&u, "riap+pipe:/nonexistent/prog////"), "missing program url");
  CHECK(!riap_client_open(&c, &u, 1000) && c.err == RIAP_CLIENT_ECONNECT
        && strstr(c.msg, "unable to run /nonexistent/prog: No such file or directory"), "missing program: ECONNECT");
  CHECK(c.rfd == -1 && c.wfd == -1 && c.pid == 0, "nothing open after a failed open");
  riap_url_free(&u);

  /* a refused TCP port: bind, learn the port, close */
  fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, (struct sockaddr *)&sin, sizeof sin);
  getsockname(fd, (struct sockaddr *)&sin, &slen);
  close(fd);
  snprintf(url, sizeof url, "riap+tcp://127.0.0.1:%u/", ntohs(sin.sin_port));
  CHECK(parse(&u, url), "tcp url");
  CHECK(!riap_client_open(&c, &u, 1000) && c.err == RIAP_CLIENT_ECONNECT
        && strstr(c.msg, "Connection refused"), "refused: ECONNECT");
  if (!strstr(c.msg, "refused")) printf("# %s\n", c.msg);
  riap_url_free(&u);

  /* a TCP server that accepts (the kernel does) and answers */
  fd = socket(AF_INET, SOCK_STREAM, 0);
  sin.sin_port = 0;
  bind(fd, (struct sockaddr *)&sin, sizeof sin);
  slen = sizeof sin;
  getsockname(fd, (struct sockaddr *)&sin, &slen);
  listen(fd, 4);
  snprintf(url, sizeof url, "riap+tcp://127.0.0.1:%u/", ntohs(sin.sin_port));
  CHECK(parse(&u, url), "tcp url 2");
  CHECK(riap_client_open(&c, &u, 1000) && c.rfd == c.wfd && c.pid == 0, "connect to a listening port");
  {
    int s = accept(fd, NULL, NULL);
    char buf[64];
    ssize_t k;
    CHECK(riap_client_send(&c, req, 1000), "send over TCP");
    k = read(s, buf, sizeof buf);
    CHECK(k == 20 && !memcmp(buf, "j{\"action\":\"info\"}\r\n", 20), "request line on the wire");
    CHECK(write(s, "j[200,\"OK\",null,{}]\r\n", 21) == 21, "server answers");
    env = riap_client_recv(&c, 1000);
    CHECK(env && json_integer_value(json_array_get(env, 0)) == 200, "TCP response");
    json_decref(env);
    close(s);
    env = riap_client_recv(&c, 1000);
    CHECK(!env && c.err == RIAP_CLIENT_ECLOSED, "server closed: ECLOSED");
  }
  CHECK(riap_client_close(&c, 100) == 1, "close TCP");
  close(fd);
  riap_url_free(&u);

  /* a missing Unix socket */
  CHECK(parse(&u, "riap+unix:/nonexistent/sock//"), "unix url");
  CHECK(!riap_client_open(&c, &u, 1000) && c.err == RIAP_CLIENT_ECONNECT
        && strstr(c.msg, "unable to connect to unix:/nonexistent/sock: No such file or directory"), "missing socket: ECONNECT");
  riap_url_free(&u);
  json_decref(req);
}

int main(void)
{
  urls();
  client();
  return UNIT_DONE();
}
