/* lib/riap_tree: resolution strictly inside ROOT, metadata states, listing */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include "unit.h"
#include "riap_tree.h"

static char root[64];

static void put(const char *name, const char *text, int mode)
{
  char path[256];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", root, name);
  f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  chmod(path, (mode_t)mode);
}

static int resolves(struct riap_tree *t, const char *uri, int want_type, int want_status)
{
  int status = 0;
  const char *msg;
  struct riap_entity *e = riap_tree_resolve(t, uri, strlen(uri), &status, &msg, 0);
  if (want_type) return e && (int)e->type == want_type;
  return !e && status == want_status;
}

static int count(struct riap_entity *e, void *arg) { (void)e; ++*(int *)arg; return 1; }

int main(void)
{
  struct riap_tree t;
  struct riap_entity *e;
  char path[256];
  int status, n = 0;
  const char *msg;

  snprintf(root, sizeof root, "/tmp/riap-tree-XXXXXX");
  if (!mkdtemp(root)) return 111;
  snprintf(path, sizeof path, "%s/Pkg", root); mkdir(path, 0755);
  put("Pkg/f", "#!/bin/sh\n", 0755);
  put("Pkg/f.meta.json", "{\"v\":1.1,\"summary\":\"F\"}", 0644);
  put("Pkg/broken", "#!/bin/sh\n", 0755);
  put("Pkg/broken.meta.json", "{\"v\":", 0644);
  put("Pkg/plain", "not executable", 0644);
  put("Pkg/.hidden", "#!/bin/sh\n", 0755);
  put("Pkg/bad-name", "#!/bin/sh\n", 0755);
  put("Pkg/X.var.json", "42", 0644);
  put(".meta.json", "{\"v\":1.1}", 0644);
  put("Pkg/M.mount.json", "{\"url\":\"riap+tcp://127.0.0.1:1/\"}", 0644);
  put("Pkg/Bad.mount.json", "[1]", 0644);
  snprintf(path, sizeof path, "%s/Pkg/out", root); symlink("/bin/sh", path);
  snprintf(path, sizeof path, "%s/Pkg/in", root); symlink("f", path);

  CHECK(riap_tree_open(&t, root), "tree opens");
  CHECK(resolves(&t, "/", RIAP_PACKAGE, 0), "/ is the root package");
  CHECK(resolves(&t, "/Pkg/", RIAP_PACKAGE, 0), "/Pkg/ is a package");
  CHECK(resolves(&t, "/Pkg", 0, 404), "/Pkg names a function or variable Pkg in /: none, 404");
  riap_tree_resolve(&t, "/Pkg", 4, &status, &msg, 0);
  CHECK(msg == riap_tree_pkghint, "the 404 of /Pkg hints at /Pkg/");
  CHECK(resolves(&t, "/Pkg/f", RIAP_FUNCTION, 0), "/Pkg/f is a function");
  CHECK(resolves(&t, "/Pkg/$X", RIAP_VARIABLE, 0), "/Pkg/$X is a variable");
  CHECK(resolves(&t, "/Pkg/in", RIAP_FUNCTION, 0), "a symlink inside the tree is served");
  CHECK(resolves(&t, "/Pkg/out", 0, 404), "a symlink out of the tree is not");
  CHECK(resolves(&t, "/Pkg/plain", 0, 404), "a non-executable file is not a function");
  CHECK(resolves(&t, "/Pkg/.hidden", 0, 404), "dot files are not served");
  CHECK(resolves(&t, "/Pkg/bad-name", 0, 404), "names that are not identifiers are not served");
  CHECK(resolves(&t, "/Pkg/../Pkg/f", 0, 404), ".. is not served");
  CHECK(resolves(&t, "/Pkg//f", 0, 404), "empty segments are not served");
  CHECK(resolves(&t, "/Nope/", 0, 404), "a missing package is 404");
  CHECK(resolves(&t, "riap+tcp://h:1/x", 0, 400), "a URI with a scheme is 400");
  CHECK(resolves(&t, "Pkg/f", 0, 400), "a relative URI is 400");

  e = riap_tree_resolve(&t, "/Pkg/f", 6, &status, &msg, 0);
  CHECK(e && e->meta_state == RIAP_META_OK && json_is_object(e->meta), "metadata is loaded");
  CHECK(e == riap_tree_resolve(&t, "/Pkg/f", 6, &status, &msg, 0), "entities are cached");
  e = riap_tree_resolve(&t, "/Pkg/broken", 11, &status, &msg, 0);
  CHECK(e && e->meta_state == RIAP_META_BROKEN && !strstr(e->meta_err, root), "broken metadata, reason without paths");
  e = riap_tree_resolve(&t, "/Pkg/$X", 7, &status, &msg, 0);
  {
    json_t *v = e ? riap_tree_varvalue(e) : 0;
    CHECK(json_integer_value(v) == 42, "a variable's value is read");
    json_decref(v);
  }
  {
    size_t rest = 0;
    e = riap_tree_resolve(&t, "/Pkg/M/Sub/f", 12, &status, &msg, &rest);
    CHECK(e && e->type == RIAP_MOUNT && !strcmp(e->uri, "/Pkg/M/") && rest == 7, "a uri below a mount point gives the mount");
    e = riap_tree_resolve(&t, "/Pkg/M/", 7, &status, &msg, &rest);
    CHECK(e && e->type == RIAP_MOUNT && rest == 7, "the mount point itself gives the mount");
    CHECK(e && json_is_string(json_object_get(e->mount, "url")), "the mount file is parsed");
    e = riap_tree_resolve(&t, "/Pkg/M", 6, &status, &msg, &rest);
    CHECK(!e && status == 404 && msg == riap_tree_pkghint, "the mount point without its slash is 404, with the hint");
    e = riap_tree_resolve(&t, "/Pkg/Bad/x", 10, &status, &msg, &rest);
    CHECK(!e && status == 531, "a broken mount file is 531");
    CHECK(resolves(&t, "/Pkg/Nope/x", 0, 404), "a missing package below is 404");
  }
  e = riap_tree_resolve(&t, "/Pkg/", 5, &status, &msg, 0);
  CHECK(e && e->meta_state == RIAP_META_NONE, "a package without .meta.json has none");
  CHECK(e && riap_tree_children(&t, e, count, &n) && n == 5, "children: f, broken, in, $X, M/ (a broken mount is left out)");
  riap_tree_close(&t);
  snprintf(path, sizeof path, "rm -rf %s", root);
  if (system(path)) return 111;
  return UNIT_DONE();
}
