/* access.c: who may connect and how many: --allow-uid/--allow-gid on Unix
 * sockets (SO_PEERCRED, SO_PEERGROUPS), --allow/--deny CIDR rules on TCP
 * (lib/riap_acl.c), --max-conns and --max-per-ip, and the table of remote
 * addresses that --max-per-ip and --max-workers-per-ip count by (struct
 * addr: conns.c and pool.c keep its worker counts). The privileges the
 * workers run with are privs.c's. See riap-listen(8), ACCESS CONTROL. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <errmsg.h>
#include "riap_time.h"
#include "listen.h"

#define FORBIDDEN "j[403,\"Forbidden\",null,{\"riap.v\":1.1}]\r\n"
#define TOO_MANY "j[503,\"Too many connections\",null,{\"riap.v\":1.1}]\r\n"
#define REFUSAL_LINES 10          /* refusal lines logged per second at most */
#define IP_BUCKETS 4096

static struct addr *buckets[IP_BUCKETS];

void access_option(int kind, const char *list)
{
  struct conf *c = &G.c;
  char *copy, *item, *save = 0;
  if (kind == 'a' || kind == 'd') {
    const char *bad;
    if (!riap_acl_add(&c->acl, list, kind == 'd', &bad)) {
      if (!bad) die(111, "fatal: out of memory");
      die(100, "fatal: bad CIDR block for ", kind == 'd' ? "--deny" : "--allow", ": ", bad,
          " (a.b.c.d[/N] or v6[/N], host bits zero)");
    }
    return;
  }
  if (!*list) die(100, "fatal: empty list for ", kind == 'u' ? "--allow-uid" : "--allow-gid");
  if (!(copy = strdup(list))) die(111, "fatal: out of memory");
  for (item = strtok_r(copy, ",", &save); item; item = strtok_r(0, ",", &save)) {
    if (kind == 'u') {
      uid_t *a = realloc(c->allow_uid, (c->nallow_uid + 1) * sizeof *a);
      if (!a) die(111, "fatal: out of memory");
      c->allow_uid = a;
      a[c->nallow_uid++] = privs_user_id("--allow-uid", item, 0);
    } else {
      gid_t *a = realloc(c->allow_gid, (c->nallow_gid + 1) * sizeof *a);
      if (!a) die(111, "fatal: out of memory");
      c->allow_gid = a;
      a[c->nallow_gid++] = privs_group_id("--allow-gid", item);
    }
  }
  free(copy);
}

static unsigned hash(const unsigned char key[17])
{
  unsigned h = 2166136261u, i;
  for (i = 0; i < 17; i++) h = (h ^ key[i]) * 16777619u;
  return h % IP_BUCKETS;
}

static struct addr **find(const unsigned char key[17])
{
  struct addr **p = &buckets[hash(key)];
  while (*p && memcmp((*p)->key, key, 17)) p = &(*p)->next;
  return p;
}

/* the address a connection counts under: an IPv4 address; an IPv6 address
 * by its /64 (one host, or one site's LAN, usually holds a whole /64); a
 * Unix peer by its uid. 0 when there is none (no credentials). */
static int addr_key(int tcp, const struct riap_peer *p, unsigned char key[17])
{
  static const unsigned char mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };
  memset(key, 0, 17);
  if (!tcp) {
    uint32_t uid;
    if (p->uid < 0) return 0;
    uid = (uint32_t)p->uid;
    key[0] = 'u';
    memcpy(key + 1, &uid, sizeof uid);
    return 1;
  }
  if (!riap_acl_scanip(p->remoteip, key + 1)) return 0;
  if (!memcmp(key + 1, mapped, 12)) key[0] = '4';
  else { key[0] = '6'; memset(key + 9, 0, 8); }
  return 1;
}

void access_each(void (*f)(struct addr *))
{
  unsigned i;
  for (i = 0; i < IP_BUCKETS; i++) {
    struct addr *a = buckets[i];
    while (a) { struct addr *next = a->next; f(a); a = next; }
  }
}

/* one line per refusal, at most REFUSAL_LINES a second; the rest counted */
static void refusal_log(const struct riap_peer *p, const char *why)
{
  static long long second;
  static unsigned lines;
  static unsigned long hidden;
  long long t = riap_time_monoms();
  char label[RIAP_PEER_FMT], more[64] = "";
  if (t - second >= 1000) { second = t; lines = 0; }
  if (lines >= REFUSAL_LINES) { hidden++; return; }
  lines++;
  if (hidden) { snprintf(more, sizeof more, " (and %lu more refusals not shown)", hidden); hidden = 0; }
  riap_peer_fmt(label, p);
  carp("warning: refused ", label, ": ", why, more);
}

/* the answer, our side closed, what the client sent already read away (so
 * that closing does not reset the connection before the answer is read) */
void access_answer_close(int fd, const char *line, size_t n)
{
  char junk[4096];
  int k;
  if (send(fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) { /* gone already */ }
  shutdown(fd, SHUT_WR);
  for (k = 0; k < 16 && recv(fd, junk, sizeof junk, MSG_DONTWAIT) > 0; k++) ;
  close(fd);
}

static void refuse(int fd, const char *line, size_t n)
{
  access_answer_close(fd, line, n);
  G.refused++;
  conns_publish();
}

void access_refuse(int fd, const struct riap_peer *p, const char *why, const char *line, size_t n)
{
  refusal_log(p, why);
  if (n) refuse(fd, line, n);
  else {
    close(fd);
    G.refused++;
    conns_publish();
  }
}

static int uid_allowed(const struct riap_peer *p, int fd)
{
  const struct conf *c = &G.c;
  size_t i;
  if (!c->nallow_uid && !c->nallow_gid) return 1;
  if (p->uid < 0) return 0;                     /* no credentials: not allowed */
  for (i = 0; i < c->nallow_uid; i++) if ((long)c->allow_uid[i] == p->uid) return 1;
  for (i = 0; i < c->nallow_gid; i++) if ((long)c->allow_gid[i] == p->gid) return 1;
#ifdef SO_PEERGROUPS
  if (c->nallow_gid) {                          /* the peer's supplementary groups */
    gid_t g[256];
    socklen_t len = sizeof g;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0) {
      size_t n = len / sizeof *g, j;
      for (j = 0; j < n; j++)
        for (i = 0; i < c->nallow_gid; i++) if (c->allow_gid[i] == g[j]) return 1;
    }
  }
#else
  (void)fd;
#endif
  return 0;
}

int access_proxy_from(int fd, unsigned li, const struct riap_peer *p)
{
  unsigned char ip[16];
  if (G.ls[li].addr.family == AF_UNIX) return uid_allowed(p, fd);
  return riap_acl_scanip(p->remoteip, ip) && G.c.proxy_from.nallow && riap_acl_allows(&G.c.proxy_from, ip);
}

/* the peer's kind decides, not the socket's: a PROXY header gives a Unix
 * socket's connection a TCP peer (proxy.c) */
int access_admit(int fd, unsigned li, const struct riap_peer *p, struct addr **a)
{
  const struct conf *c = &G.c;
  unsigned char ip[16], key[17];
  int tcp = p->proto == RIAP_PROTO_TCP;
  (void)li;
  int have_ip = tcp && riap_acl_scanip(p->remoteip, ip);
  *a = 0;
  if (!tcp && !uid_allowed(p, fd)) {
    refusal_log(p, "uid and gid not in --allow-uid/--allow-gid");
    refuse(fd, FORBIDDEN, sizeof FORBIDDEN - 1);
    return 0;
  }
  if (tcp && (c->acl.nallow || c->acl.ndeny) && (!have_ip || !riap_acl_allows(&c->acl, ip))) {
    refusal_log(p, "address not allowed by --allow/--deny");
    refuse(fd, FORBIDDEN, sizeof FORBIDDEN - 1);
    return 0;
  }
  if (c->max_conns && G.nconns >= c->max_conns) {
    refusal_log(p, "--max-conns reached");
    refuse(fd, TOO_MANY, sizeof TOO_MANY - 1);
    return 0;
  }
  if ((c->max_per_ip || c->max_workers_per_ip) && addr_key(tcp, p, key)) {
    struct addr **e = find(key);
    if (*e && c->max_per_ip && (*e)->conns >= c->max_per_ip) {
      refusal_log(p, "--max-per-ip reached");
      refuse(fd, TOO_MANY, sizeof TOO_MANY - 1);
      return 0;
    }
    if (!*e) {
      struct addr *n = calloc(1, sizeof *n);
      if (!n) { refuse(fd, TOO_MANY, sizeof TOO_MANY - 1); return 0; }
      memcpy(n->key, key, 17);
      n->held.head = n->held.tail = -1;
      *e = n;
    }
    (*e)->conns++;
    *a = *e;
  }
  G.nconns++;
  return 1;
}

void access_end(struct addr *a)
{
  if (G.nconns) G.nconns--;
  if (a && !--a->conns) {   /* its workers and held connections were its connections: none left */
    struct addr **e = find(a->key);
    *e = a->next;
    free(a);
  }
}
