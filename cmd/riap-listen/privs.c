/* privs.c: the privileges the workers (and, with --drop-listener, the
 * listener) run with: --user, --group, --allow-root (or RIAP_ALLOW_ROOT=1
 * in our environment), --chroot; and user and group names for them and for
 * --allow-uid/--allow-gid. See riap-listen(8), PRIVILEGES. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errmsg.h>
#include "riap_workerenv.h"
#include "listen.h"

static unsigned long number_id(const char *opt, const char *s)
{
  char *end;
  unsigned long u;
  errno = 0;
  u = strtoul(s, &end, 10);
  if (!*s || *end || errno || u >= 0xffffffffUL || *s == '-') die(100, "fatal: ", opt, ": unknown user or group: ", s);
  return u;
}

uid_t privs_user_id(const char *opt, const char *s, gid_t *gid)
{
  struct passwd *pw = getpwnam(s);
  if (pw) { if (gid) *gid = pw->pw_gid; return pw->pw_uid; }
  pw = getpwuid((uid_t)number_id(opt, s));
  if (gid) *gid = pw ? pw->pw_gid : (gid_t)-1;
  return (uid_t)number_id(opt, s);
}

gid_t privs_group_id(const char *opt, const char *s)
{
  struct group *gr = getgrnam(s);
  if (gr) return gr->gr_gid;
  return (gid_t)number_id(opt, s);
}

/* RIAP_ALLOW_ROOT=1: whoever starts us sets our environment as well as our
 * options, so it counts as --allow-root for workers run as we are (not for --user root) */
static int env_allows_root(void)
{
  const char *env = getenv("RIAP_ALLOW_ROOT");
  return env && !strcmp(env, "1");
}

void privs_resolve(void)
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
  c->uid = c->user ? privs_user_id("--user", c->user, &pgid) : geteuid();
  c->gid = c->group ? privs_group_id("--group", c->group) : pgid != (gid_t)-1 ? pgid : getegid();
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

int privs_drop(void)
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

void privs_worker_env(struct riap_workerenv *e)
{
  struct conf *c = &G.c;
  /* RIAP_ALLOW_ROOT: with --chroot --allow-root, or as we got it */
  e->chroot = c->chroot;
  e->allow_root = (c->chroot && c->allow_root) || env_allows_root();
  unsetenv("UID"); unsetenv("GID"); unsetenv("GIDLIST");
  if (!c->chroot) return;
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

int privs_confined(pid_t pid)
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

void privs_chown(const char *path)
{
  if (!G.c.user && !G.c.group) return;
  if (chown(path, G.c.uid, G.c.gid) < 0) diesys(111, "fatal: unable to chown ", path);
}

