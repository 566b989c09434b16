/* confine.c: --chroot. riap-handle shuts itself in ROOT and gives up root
 * before it reads a byte from a client. It must be done here, by the server
 * itself once its libraries are loaded, not by whoever execs it: the
 * dynamic loader and the libraries live outside ROOT. The user to become
 * comes the skarnet way, from UID, GID and GIDLIST in the environment
 * (s6-envuidgid sets them; riap-listen --chroot --user does too). */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errmsg.h>
#include "handle.h"

#define MAX_GROUPS 256

/* env_id: the id in environment variable name; 0 when unset, dies when bad */
static int env_id(const char *name, unsigned long *id)
{
  const char *v = getenv(name);
  char *end;
  if (!v) return 0;
  errno = 0;
  *id = strtoul(v, &end, 10);
  if (!*v || *end || errno || *id > 0xfffffffeUL)
    die(111, "fatal: bad ", name, " in the environment: ", v);
  return 1;
}

/* env_gidlist: GIDLIST (comma-separated, maybe empty) into g; -1 when unset */
static int env_gidlist(gid_t *g)
{
  const char *v = getenv("GIDLIST"), *p;
  int n = 0;
  if (!v) return -1;
  for (p = v; *p; ) {
    char *end;
    unsigned long id;
    errno = 0;
    id = strtoul(p, &end, 10);
    if (end == p || errno || id > 0xfffffffeUL || (*end && *end != ',') || n == MAX_GROUPS)
      die(111, "fatal: bad GIDLIST in the environment: ", v);
    g[n++] = (gid_t)id;
    p = *end ? end + 1 : end;
  }
  return n;
}

static void become(int allow_root)
{
  unsigned long uid, gid;
  gid_t groups[MAX_GROUPS];
  int have_uid = env_id("UID", &uid), have_gid = env_id("GID", &gid);
  int ngroups = env_gidlist(groups);

  /* a uid without its gid would keep root's group and groups */
  if (have_uid && !have_gid) die(111, "fatal: UID without GID in the environment");
  if (have_gid) {
    if (ngroups < 0) { groups[0] = (gid_t)gid; ngroups = 1; }
    if (setgroups((size_t)ngroups, groups) < 0) diesys(111, "fatal: unable to set the groups of GIDLIST");
    if (setgid((gid_t)gid) < 0) diesys(111, "fatal: unable to switch to GID");
  }
  if (have_uid) {
    if (setuid((uid_t)uid) < 0) diesys(111, "fatal: unable to switch to UID");
    if (uid != 0 && setuid(0) == 0) die(111, "fatal: root is not gone for good after setuid");
  }
  if (geteuid() == 0 && !allow_root)
    die(100, "fatal: refusing to serve as root in a chroot (root can leave it): "
        "set UID and GID (s6-envuidgid USER, or riap-listen --user), or give --allow-root");
  unsetenv("UID"); unsetenv("GID"); unsetenv("GIDLIST");
}

void confine(struct server *s, int allow_root)
{
  const char *root = s->tree.root;
  if (s->tree.count) die(111, "fatal: internal: confine after the tree was read");
  if (chroot(root) < 0)
    diesys(111, "fatal: unable to chroot to ", root, errno == EPERM ? " (it needs root)" : "");
  if (chdir("/") < 0) diesys(111, "fatal: unable to chdir to / in the chroot");
  free(s->tree.root);
  s->tree.root = strdup("/");                 /* entity paths are now "//Pkg/fn": same file */
  if (!s->tree.root) die(111, "fatal: out of memory");
  s->tree.rootlen = 1;
  become(allow_root);
  /* better now than a 404 for every request */
  if (access("/", R_OK | X_OK) < 0) diesys(111, "fatal: ROOT cannot be read by the user it runs as, in the chroot");
}
