/* access.c: who may connect and how many: --allow-uid/--allow-gid on Unix
 * sockets (SO_PEERCRED, SO_PEERGROUPS), --allow/--deny CIDR rules on TCP
 * (lib/riap_acl.c), --max-conns and --max-per-ip, and the table of remote
 * addresses that --max-per-ip and --max-workers-per-ip count by (struct
 * addr: conns.c and pool.c keep its worker counts); and the privileges the
 * workers (and, with --drop-listener, the listener) run with: --user,
 * --group, --allow-root, --chroot. See riap-listen(8), ACCESS CONTROL and
 * PRIVILEGES. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
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

static unsigned long number_id(const char *opt, const char *s)
{
  char *end;
  unsigned long u;
  errno = 0;
  u = strtoul(s, &end, 10);
  if (!*s || *end || errno || u >= 0xffffffffUL || *s == '-') die(100, "fatal: ", opt, ": unknown user or group: ", s);
  return u;
}

static uid_t user_id(const char *opt, const char *s, gid_t *gid)
{
  struct passwd *pw = getpwnam(s);
  if (pw) { if (gid) *gid = pw->pw_gid; return pw->pw_uid; }
  pw = getpwuid((uid_t)number_id(opt, s));
  if (gid) *gid = pw ? pw->pw_gid : (gid_t)-1;
  return (uid_t)number_id(opt, s);
}

static gid_t group_id(const char *opt, const char *s)
{
  struct group *gr = getgrnam(s);
  if (gr) return gr->gr_gid;
  return (gid_t)number_id(opt, s);
}

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
      a[c->nallow_uid++] = user_id("--allow-uid", item, 0);
    } else {
      gid_t *a = realloc(c->allow_gid, (c->nallow_gid + 1) * sizeof *a);
      if (!a) die(111, "fatal: out of memory");
      c->allow_gid = a;
      a[c->nallow_gid++] = group_id("--allow-gid", item);
    }
  }
  free(copy);
}

/* RIAP_ALLOW_ROOT=1: whoever starts us sets our environment as well as our
 * options, so it counts as --allow-root for workers run as we are (not for --user root) */
static int env_allows_root(void)
{
  const char *env = getenv("RIAP_ALLOW_ROOT");
  return env && !strcmp(env, "1");
}

void access_resolve(void)
{
  struct conf *c = &G.c;
  gid_t pgid = (gid_t)-1;
  if (c->chroot && geteuid() != 0) die(100, "fatal: --chroot needs root (the workers chroot, then become --user)");
  if (c->chroot && c->drop_listener)
    die(100, "fatal: --chroot and --drop-listener exclude each other: the listener keeps root to start workers that chroot");
  if (!c->user && !c->group) {
    if (c->drop_listener) die(100, "fatal: --drop-listener needs --user or --group");
    if (geteuid() == 0 && !c->allow_root && !env_allows_root())
      die(100, "fatal: refusing to run workers (and the functions they call) as root: "
          "give --user USER, or --allow-root if that is meant");
    return;
  }
  c->uid = c->user ? user_id("--user", c->user, &pgid) : geteuid();
  c->gid = c->group ? group_id("--group", c->group) : pgid != (gid_t)-1 ? pgid : getegid();
  if (c->uid == 0 && !c->allow_root)
    die(100, "fatal: refusing to run workers as root (--user ", c->user ? c->user : "0",
        "): give --allow-root if that is meant");
  if (geteuid() != 0 && (c->uid != geteuid() || c->gid != getegid()))
    die(100, "fatal: --user/--group need root to switch to them");
  /* supplementary groups: those of the user's name, else none but the gid */
  c->ngroups = 1;
  c->groups = malloc(sizeof *c->groups);
  if (!c->groups) die(111, "fatal: out of memory");
  c->groups[0] = c->gid;
  if (c->user) {
    struct passwd *pw = getpwuid(c->uid);
    if (pw) {
      int n = 64;
      gid_t *g = malloc((size_t)n * sizeof *g);
      if (g && getgrouplist(pw->pw_name, c->gid, g, &n) < 0) {
        gid_t *g2 = realloc(g, (size_t)n * sizeof *g);
        if (!g2) { free(g); g = 0; }
        else { g = g2; if (getgrouplist(pw->pw_name, c->gid, g, &n) < 0) { free(g); g = 0; } }
      }
      if (g) { free(c->groups); c->groups = g; c->ngroups = n; }
    }
  }
}

int access_drop(void)
{
  struct conf *c = &G.c;
  if ((!c->user && !c->group) || G.dropped) return 1;
  if (geteuid() == 0 && setgroups((size_t)c->ngroups, c->groups) < 0) return 0;
  if (setgid(c->gid) < 0 || setuid(c->uid) < 0) return 0;
  if (c->uid != 0 && setuid(0) == 0) { errno = EPERM; return 0; }   /* must be gone for good */
  return 1;
}

static void setenv_ulong(const char *name, unsigned long u)
{
  char t[24];
  snprintf(t, sizeof t, "%lu", u);
  setenv(name, t, 1);
}

void access_worker_env(void)
{
  struct conf *c = &G.c;
  unsetenv("UID"); unsetenv("GID"); unsetenv("GIDLIST");
  if (!c->chroot) { unsetenv("RIAP_CHROOT"); return; }
  setenv("RIAP_CHROOT", "1", 1);
  if (c->allow_root) setenv("RIAP_ALLOW_ROOT", "1", 1);
  if (c->user || c->group) {
    char list[256 * 11 + 1];            /* riap-handle takes up to 256 groups */
    size_t n = 0;
    int i;
    setenv_ulong("UID", (unsigned long)c->uid);
    setenv_ulong("GID", (unsigned long)c->gid);
    list[0] = 0;
    for (i = 0; i < c->ngroups && n + 12 < sizeof list; i++)
      n += (size_t)snprintf(list + n, sizeof list - n, "%s%lu", i ? "," : "", (unsigned long)c->groups[i]);
    setenv("GIDLIST", list, 1);
  }
}

/* ids: the four ids of a "Uid:" or "Gid:" line of /proc/PID/status */
static int ids(const char *status, const char *key, unsigned long v[4])
{
  const char *p = strstr(status, key);
  return p && sscanf(p + strlen(key), "%lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3]) == 4;
}

int access_confined(pid_t pid)
{
  struct conf *c = &G.c;
  char path[64], root[4096], status[4096], num[24];
  unsigned long u[4], g[4];
  const char *why = 0;
  ssize_t n;
  FILE *f;
  int i;
  snprintf(num, sizeof num, "%ld", (long)pid);
  snprintf(path, sizeof path, "/proc/%ld/root", (long)pid);
  n = readlink(path, root, sizeof root - 1);
  if (n < 0) why = "its root directory cannot be read";
  else if (n == 1 && root[0] == '/') why = "it did not chroot";
  snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
  if (!why) {
    f = fopen(path, "re");
    n = f ? (ssize_t)fread(status, 1, sizeof status - 1, f) : -1;
    if (f) fclose(f);
    if (n < 0) why = "its status cannot be read";
    else {
      status[n] = 0;
      if (!ids(status, "\nUid:", u) || !ids(status, "\nGid:", g)) why = "its status cannot be read";
    }
  }
  for (i = 0; !why && i < 4; i++) {
    if ((c->user || c->group) && (u[i] != (unsigned long)c->uid || g[i] != (unsigned long)c->gid))
      why = "it did not become --user/--group";
    else if (u[i] == 0 && !c->allow_root && !env_allows_root()) why = "it is still root";
  }
  if (!why) return 1;
  {
    char line[256];
    snprintf(line, sizeof line, "worker %s refused: --chroot asks it to confine itself but %s", num, why);
    warn_limited(line, " (does its command honour RIAP_CHROOT? riap-handle does)", "");
  }
  return 0;
}

void access_chown(const char *path)
{
  if (!G.c.user && !G.c.group) return;
  if (chown(path, G.c.uid, G.c.gid) < 0) diesys(111, "fatal: unable to chown ", path);
}

/* ------------------------------------------------------------------ */

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
static void refuse(int fd, const char *line, size_t n)
{
  char junk[4096];
  int k;
  if (send(fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) { /* gone already */ }
  shutdown(fd, SHUT_WR);
  for (k = 0; k < 16 && recv(fd, junk, sizeof junk, MSG_DONTWAIT) > 0; k++) ;
  close(fd);
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
