/* ready.c: is the service ready? From the outside: the scoreboard (a
 * worker of the current generation past starting) and the addresses of
 * env/PORTS and env/UNIX_SOCKETS (each answers a Riap request). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "riap_client.h"
#include "riap_envdir.h"
#include "riap_scoreboard.h"
#include "riap_sock.h"
#include "riap_url.h"
#include "ctl.h"

unsigned sb_generation(long *lpid)
{
  struct riap_sb sb;
  unsigned g;
  if (!C.sbpath[0] || !riap_sb_open(&sb, C.sbpath, 0)) return 0;
  g = __atomic_load_n(&sb.h->generation, __ATOMIC_ACQUIRE);
  if (lpid) *lpid = (long)sb.h->listener_pid;
  riap_sb_close(&sb);
  return g;
}

int sb_ready(long pid, unsigned gen)
{
  struct riap_sb sb;
  unsigned i, g;
  int ok = 0;
  if (!C.sbpath[0]) return -1;
  if (!riap_sb_open(&sb, C.sbpath, 0)) return 0;
  g = __atomic_load_n(&sb.h->generation, __ATOMIC_ACQUIRE);
  if ((pid <= 0 || sb.h->listener_pid == pid) && g >= gen) {
    for (i = 0; i < sb.h->nslots && !ok; i++) {
      struct riap_sb_slot s;
      if (riap_sb_read(&sb, i, &s) && s.pid > 0 && s.generation == g
          && riap_sb_rank(s.state) >= riap_sb_rank(RIAP_SB_IDLE))
        ok = 1;
    }
  }
  riap_sb_close(&sb);
  return ok;
}

/* one Riap request to the URL; 1 when an envelope came back */
static int answers(const char *url, char *why, size_t size)
{
  struct riap_url u;
  struct riap_conn c;
  char msg[RIAP_URL_MSGMAX];
  json_t *req, *res;
  if (!riap_url_parse(&u, url, msg)) { snprintf(why, size, "%s: %s", url, msg); return 0; }
  riap_conn_init(&c);
  if (!riap_client_open(&c, &u, 1000)) {
    snprintf(why, size, "%s", c.msg);
    riap_url_free(&u);
    return 0;
  }
  req = json_pack("{s:s,s:s}", "action", "info", "uri", "/");
  res = req ? riap_client_request(&c, req, 2000) : 0;
  if (!res) snprintf(why, size, "%s: %s", u.endpoint, c.msg);
  json_decref(req);
  json_decref(res);
  riap_client_close(&c, 0);
  riap_url_free(&u);
  return res != 0;
}

int addrs_answer(char *why, size_t size)
{
  char env[4200], v[4096], url[4300], *p, *next;
  int r;
  if (!C.dir) return 1;
  snprintf(env, sizeof env, "%s/env", C.dir);
  r = riap_envdir_get(env, "PORTS", v, sizeof v);
  for (p = r > 0 ? v : 0; p && *p; p = next) {
    struct riap_sockaddr a;
    char host[INET6_ADDRSTRLEN];
    if ((next = strchr(p, ','))) *next++ = 0;
    if (!riap_sock_scantcp(p, &a)) continue;   /* riap-listen says what is wrong with it */
    if (a.family == AF_INET) {
      if (a.u.in4.sin_addr.s_addr == htonl(INADDR_ANY)) a.u.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      inet_ntop(AF_INET, &a.u.in4.sin_addr, host, sizeof host);
      snprintf(url, sizeof url, "riap+tcp://%s:%u/", host, ntohs(a.u.in4.sin_port));
    } else {
      if (IN6_IS_ADDR_UNSPECIFIED(&a.u.in6.sin6_addr)) a.u.in6.sin6_addr = in6addr_loopback;
      inet_ntop(AF_INET6, &a.u.in6.sin6_addr, host, sizeof host);
      snprintf(url, sizeof url, "riap+tcp://[%s]:%u/", host, ntohs(a.u.in6.sin6_port));
    }
    if (!answers(url, why, size)) return 0;
  }
  r = riap_envdir_get(env, "UNIX_SOCKETS", v, sizeof v);
  for (p = r > 0 ? v : 0; p && *p; p = next) {
    if ((next = strchr(p, ','))) *next++ = 0;
    snprintf(url, sizeof url, "riap+unix:%s//", p);
    if (!answers(url, why, size)) return 0;
  }
  return 1;
}

void wait_ready(const char *step, long pid, unsigned gen, int probe, double t0)
{
  char why[600] = "";
  for (;;) {
    int sb = sb_ready(pid, gen);
    if (sb != 0) {
      if (!probe || addrs_answer(why, sizeof why)) return;
    } else {
      snprintf(why, sizeof why, "no worker of generation %u ready in the scoreboard %.400s", gen ? gen : 1, C.sbpath);
    }
    if (pid > 0 && !pid_alive(pid)) riap_err_die(111, "%s: riap-listen (pid %ld) died before it was ready", step, pid);
    if ((now_s() - t0) * 1000 >= C.timeout_ms)
      riap_err_die(111, "%s: not ready after %.1f s: %s", step, C.timeout_ms / 1000.0, why);
    msleep(50);
  }
}
