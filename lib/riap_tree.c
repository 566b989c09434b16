#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "riap_tree.h"

int riap_is_ident(const char *s, size_t n)
{
  size_t i;
  if (!n) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) continue;
    if (i && c >= '0' && c <= '9') continue;
    return 0;
  }
  return 1;
}

static size_t hash(const char *s)
{
  size_t h = 2166136261u;
  while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
  return h;
}

int riap_tree_open(struct riap_tree *t, const char *root)
{
  struct stat st;
  memset(t, 0, sizeof *t);
  t->root = realpath(root, 0);
  if (!t->root) return 0;
  if (stat(t->root, &st) || !S_ISDIR(st.st_mode)) {
    free(t->root);
    t->root = 0;
    errno = ENOTDIR;
    return 0;
  }
  t->rootlen = strlen(t->root);
  t->nbuckets = 64;
  t->tab = calloc(t->nbuckets, sizeof *t->tab);
  return t->tab != 0;
}

static struct riap_entity *lookup(const struct riap_tree *t, const char *uri)
{
  struct riap_entity *e = t->tab[hash(uri) & (t->nbuckets - 1)];
  while (e && strcmp(e->uri, uri)) e = e->next;
  return e;
}

static void insert(struct riap_tree *t, struct riap_entity *e)
{
  size_t i;
  if (t->count >= t->nbuckets) {
    size_t n = t->nbuckets * 2;
    struct riap_entity **tab = calloc(n, sizeof *tab);
    if (tab) {
      for (i = 0; i < t->nbuckets; i++) {
        struct riap_entity *x = t->tab[i], *next;
        for (; x; x = next) {
          size_t b = hash(x->uri) & (n - 1);
          next = x->next;
          x->next = tab[b];
          tab[b] = x;
        }
      }
      free(t->tab);
      t->tab = tab;
      t->nbuckets = n;
    }
  }
  i = hash(e->uri) & (t->nbuckets - 1);
  e->next = t->tab[i];
  t->tab[i] = e;
  t->count++;
}

/* inside: 1 when path resolves to ROOT or below it */
static int inside(const struct riap_tree *t, const char *path)
{
  char real[PATH_MAX];
  if (!realpath(path, real)) return 0;
  if (strncmp(real, t->root, t->rootlen)) return 0;
  return real[t->rootlen] == 0 || real[t->rootlen] == '/' || t->rootlen == 1;
}

static void load_meta(const struct riap_tree *t, struct riap_entity *e, const char *file)
{
  json_error_t jerr;
  struct stat st;
  if (lstat(file, &st)) return;                       /* no metadata */
  if (!inside(t, file) || stat(file, &st) || !S_ISREG(st.st_mode)) {
    e->meta_state = RIAP_META_BROKEN;
    strcpy(e->meta_err, "metadata is not a regular file inside the tree");
    return;
  }
  e->meta = json_load_file(file, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
  if (!e->meta) {
    e->meta_state = RIAP_META_BROKEN;
    snprintf(e->meta_err, sizeof e->meta_err, "invalid JSON at line %d: %s", jerr.line, jerr.text);
    return;
  }
  if (!json_is_object(e->meta)) {
    json_decref(e->meta);
    e->meta = 0;
    e->meta_state = RIAP_META_BROKEN;
    strcpy(e->meta_err, "metadata is not a JSON object");
    return;
  }
  e->meta_state = RIAP_META_OK;
}

static char *join(const char *a, const char *b, const char *c)
{
  size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
  char *s = malloc(la + lb + lc + 1);
  if (!s) return 0;
  memcpy(s, a, la);
  memcpy(s + la, b, lb);
  memcpy(s + la + lb, c, lc + 1);
  return s;
}

static struct riap_entity *make(struct riap_tree *t, enum riap_etype type, const char *uri,
                                const char *path, const char *dir)
{
  struct riap_entity *e = calloc(1, sizeof *e);
  char *metafile;
  if (!e) return 0;
  e->type = type;
  e->uri = strdup(uri);
  e->path = strdup(path);
  e->dir = strdup(dir);
  if (!e->uri || !e->path || !e->dir) goto fail;
  if (type != RIAP_VARIABLE) {
    metafile = type == RIAP_PACKAGE ? join(path, "/.meta.json", "") : join(path, ".meta.json", "");
    if (!metafile) goto fail;
    load_meta(t, e, metafile);
    free(metafile);
  }
  insert(t, e);
  return e;
fail:
  free(e->uri); free(e->path); free(e->dir); free(e);
  return 0;
}

static int has_scheme(const char *u, size_t n)
{
  size_t i;
  if (!n || !((u[0] >= 'A' && u[0] <= 'Z') || (u[0] >= 'a' && u[0] <= 'z'))) return 0;
  for (i = 1; i < n; i++) {
    char c = u[i];
    if (c == ':') return 1;
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          c == '+' || c == '-' || c == '.')) return 0;
  }
  return 0;
}

/* checks that every segment between slashes is an identifier; returns the
 * offset of the leaf (after the last slash) or -1 */
static long check_segments(const char *u, size_t n)
{
  size_t i = 1, start = 1;
  for (; i <= n; i++) {
    if (i < n && u[i] != '/') continue;
    if (i == n) break;
    if (!riap_is_ident(u + start, i - start)) return -1;
    start = i + 1;
  }
  return (long)start;
}

static struct riap_entity *found(struct riap_tree *t, enum riap_etype type, const char *uri,
                                 const char *path, const char *dir)
{
  struct riap_entity *e = lookup(t, uri);
  return e ? e : make(t, type, uri, path, dir);
}

/* a mount point at dir/NAME.mount.json, or NULL (status set when it is there but broken) */
static struct riap_entity *mount_at(struct riap_tree *t, const char *uri, const char *dir, const char *name,
                                    size_t namelen, int *status, const char **msg)
{
  char path[PATH_MAX];
  struct riap_entity *e;
  struct stat st;
  json_t *j;
  if (snprintf(path, sizeof path, "%s/%.*s.mount.json", dir, (int)namelen, name) >= (int)sizeof path) return 0;
  if (lstat(path, &st)) return 0;
  j = inside(t, path) && !stat(path, &st) && S_ISREG(st.st_mode) ? json_load_file(path, JSON_REJECT_DUPLICATES, 0) : 0;
  if (!json_is_object(j) || !json_is_string(json_object_get(j, "url"))) {
    json_decref(j);
    *status = 531;
    *msg = "Invalid mount: not a JSON object with a url";
    return 0;
  }
  e = make(t, RIAP_MOUNT, uri, path, dir);
  if (!e) { json_decref(j); return 0; }
  e->mount = j;
  return e;
}

/* walks the package prefixes of u ("/a/", "/a/b/", ...) up to off: each is
 * a directory or a mount point (then returned, with *rest); NULL when all are
 * directories (*status 0) or one is neither (*status set) */
static struct riap_entity *find_mount(struct riap_tree *t, const char *u, size_t off, int *status,
                                      const char **msg, size_t *rest)
{
  char prefix[RIAP_URI_MAX + 2], dir[PATH_MAX];
  size_t i, start = 1;
  struct stat st;
  *status = 0;
  for (i = 1; i < off; i++) {
    struct riap_entity *e;
    if (u[i] != '/') continue;
    memcpy(prefix, u, i + 1);
    prefix[i + 1] = 0;
    e = lookup(t, prefix);
    if (e && e->type == RIAP_MOUNT) { if (rest) *rest = i + 1; return e; }
    if (!e) {
      if (snprintf(dir, sizeof dir, "%s%.*s", t->root, (int)start - 1, u) >= (int)sizeof dir) break;
      e = mount_at(t, prefix, dir, u + start, i - start, status, msg);
      if (e) { if (rest) *rest = i + 1; return e; }
      if (*status) return 0;
      if (snprintf(dir, sizeof dir, "%s%.*s", t->root, (int)i, u) >= (int)sizeof dir) break;
      if (!inside(t, dir) || stat(dir, &st) || !S_ISDIR(st.st_mode)) break;
      if (!make(t, RIAP_PACKAGE, prefix, dir, dir)) break;   /* known from now on: no syscall next time */
    }
    start = i + 1;
  }
  if (i < off) { *status = 404; *msg = "Not found"; }
  return 0;
}

const char riap_tree_pkghint[] = "Not found (a package's uri ends in /)";

/* resolve: riap_tree_resolve; lenient: a package (or mount point) may be
 * named without its slash, as riap_tree_children does from a file name */
static struct riap_entity *resolve(struct riap_tree *t, const char *uri, size_t n,
                                   int *status, const char **msg, size_t *rest, int lenient)
{
  char u[RIAP_URI_MAX + 2], path[PATH_MAX], dir[PATH_MAX], canon[RIAP_URI_MAX + 3];
  const char *leaf;
  struct riap_entity *e;
  struct stat st;
  long off;
  size_t leaflen;

  *status = 404;
  *msg = "Not found";
  if (has_scheme(uri, n)) {
    *status = 400;
    *msg = "URIs with a scheme are not served, use a path like /Package/function";
    return 0;
  }
  if (!n || uri[0] != '/') {
    *status = 400;
    *msg = "Invalid uri, must start with /";
    return 0;
  }
  if (n > RIAP_URI_MAX || memchr(uri, 0, n)) return 0;
  memcpy(u, uri, n);
  u[n] = 0;
  if ((e = lookup(t, u)) && e->type != RIAP_MOUNT) return e;

  off = check_segments(u, n);
  if (off < 0) return 0;
  if ((e = find_mount(t, u, (size_t)off, status, msg, rest))) return e;
  if (*status) return 0;
  *status = 404;
  leaf = u + off;
  leaflen = n - (size_t)off;
  /* dir: ROOT plus every package segment before the leaf (each checked above) */
  if (snprintf(dir, sizeof dir, "%s%.*s", t->root, (int)(off - 1), u) >= (int)sizeof dir) return 0;

  if (!leaflen)                                               /* /Pkg/ */
    return found(t, RIAP_PACKAGE, u, dir, dir);
  if (leaf[0] == '$') {                                       /* /Pkg/$var */
    if (!riap_is_ident(leaf + 1, leaflen - 1)) return 0;
    if (snprintf(path, sizeof path, "%s/%s.var.json", dir, leaf + 1) >= (int)sizeof path) return 0;
    if (!inside(t, path) || stat(path, &st) || !S_ISREG(st.st_mode)) return 0;
    return found(t, RIAP_VARIABLE, u, path, dir);
  }
  if (!riap_is_ident(leaf, leaflen)) return 0;
  /* /Pkg/name names a function or variable: a package (or a mount point)
   * there is /Pkg/name/, and /Pkg/name is 404 with a hint */
  if (snprintf(canon, sizeof canon, "%s/", u) < (int)sizeof canon &&
      (e = lookup(t, canon)) && e->type == RIAP_MOUNT) {
    if (lenient) { if (rest) *rest = n; return e; }
    *msg = riap_tree_pkghint;
    return 0;
  }
  if (snprintf(path, sizeof path, "%s/%s", dir, leaf) >= (int)sizeof path) return 0;
  if (!inside(t, path) || stat(path, &st)) {
    e = mount_at(t, canon, dir, leaf, leaflen, status, msg);
    if (e && !lenient) { *status = 404; *msg = riap_tree_pkghint; return 0; }
    if (e && rest) *rest = n;
    return e;
  }
  if (S_ISDIR(st.st_mode)) {
    if (lenient) return found(t, RIAP_PACKAGE, canon, path, path);
    *msg = riap_tree_pkghint;
    return 0;
  }
  if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111) || access(path, X_OK)) return 0;
  return found(t, RIAP_FUNCTION, u, path, dir);
}

struct riap_entity *riap_tree_resolve(struct riap_tree *t, const char *uri, size_t n,
                                      int *status, const char **msg, size_t *rest)
{
  return resolve(t, uri, n, status, msg, rest, 0);
}

static int cmp(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void child_uri(char *dest, size_t size, const struct riap_entity *pkg, const char *name)
{
  size_t n = strlen(name);
  if (n > 11 && !strcmp(name + n - 11, ".mount.json"))
    snprintf(dest, size, "%s%.*s/", pkg->uri, (int)(n - 11), name);
  else if (n > 9 && !strcmp(name + n - 9, ".var.json"))
    snprintf(dest, size, "%s$%.*s", pkg->uri, (int)(n - 9), name);
  else
    snprintf(dest, size, "%s%s", pkg->uri, name);
}

static int listable(const char *name)
{
  size_t n = strlen(name);
  if (n > 9 && !strcmp(name + n - 9, ".var.json")) return riap_is_ident(name, n - 9);
  if (n > 11 && !strcmp(name + n - 11, ".mount.json")) return riap_is_ident(name, n - 11);
  return riap_is_ident(name, n);
}

int riap_tree_children(struct riap_tree *t, const struct riap_entity *pkg,
                       int (*cb)(struct riap_entity *, void *), void *arg)
{
  DIR *d = opendir(pkg->path);
  struct dirent *de;
  char **names = 0, **grown, uri[RIAP_URI_MAX + 2];
  size_t n = 0, cap = 0, i;
  int ok = 1;
  if (!d) return 0;
  while ((de = readdir(d))) {
    if (!listable(de->d_name)) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 32;
      grown = realloc(names, cap * sizeof *names);
      if (!grown) { ok = 0; break; }
      names = grown;
    }
    if (!(names[n] = strdup(de->d_name))) { ok = 0; break; }
    n++;
  }
  closedir(d);
  if (ok) qsort(names, n, sizeof *names, cmp);
  for (i = 0; i < n; i++) {
    if (ok) {
      struct riap_entity *e;
      int status;
      const char *msg;
      child_uri(uri, sizeof uri, pkg, names[i]);
      e = resolve(t, uri, strlen(uri), &status, &msg, 0, 1);
      if (e && !cb(e, arg)) ok = 2;
    }
    free(names[i]);
  }
  free(names);
  return ok != 0;
}

json_t *riap_tree_varvalue(const struct riap_entity *e)
{
  return json_load_file(e->path, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, 0);
}

void riap_tree_close(struct riap_tree *t)
{
  size_t i;
  for (i = 0; i < t->nbuckets; i++) {
    struct riap_entity *e = t->tab[i], *next;
    for (; e; e = next) {
      next = e->next;
      if (e->priv && t->priv_free) t->priv_free(e);
      json_decref(e->meta);
      json_decref(e->mount);
      free(e->uri); free(e->path); free(e->dir); free(e);
    }
  }
  free(t->tab);
  free(t->root);
  memset(t, 0, sizeof *t);
}
