/* riap_tree.h: the code tree. ROOT is the namespace: a package is a
 * directory, a function an executable file named as an identifier with
 * NAME.meta.json beside it, a variable NAME.var.json (URI /Pkg/$NAME).
 * Entities are resolved strictly inside ROOT and cached with their metadata. */
#ifndef RIAP_TREE_H
#define RIAP_TREE_H
#include <stddef.h>
#include <jansson.h>

enum riap_etype { RIAP_PACKAGE = 1, RIAP_FUNCTION, RIAP_VARIABLE,
                  RIAP_MOUNT /* NAME.mount.json: /NAME/ is another server's subtree */ };
enum riap_metastate { RIAP_META_NONE = 0, RIAP_META_OK, RIAP_META_BROKEN };

#define RIAP_URI_MAX 1024

struct riap_entity {
  enum riap_etype type;
  char *uri;                    /* canonical: "/", "/Math/", "/Math/mult", "/Math/$PI" */
  char *path;                   /* the directory, executable or .var.json file */
  char *dir;                    /* the directory it lives in */
  enum riap_metastate meta_state;
  json_t *meta;                 /* as written, when RIAP_META_OK */
  char meta_err[256];           /* why, when RIAP_META_BROKEN (no file paths) */
  json_t *mount;                /* RIAP_MOUNT: the parsed NAME.mount.json (an object) */
  void *priv;                   /* the server's compiled form, freed by tree->priv_free */
  struct riap_entity *next;
};

struct riap_tree {
  char *root;                   /* realpath of ROOT */
  size_t rootlen;
  struct riap_entity **tab;
  size_t nbuckets, count;
  void (*priv_free)(struct riap_entity *);
};

/* riap_tree_open: prepares t for ROOT; returns 1, or 0 with errno set
 * (ROOT missing or not a directory: ENOTDIR). */
int riap_tree_open(struct riap_tree *t, const char *root);

/* riap_tree_resolve: the entity named by uri (len bytes), or NULL with *status
 * set (400 for a malformed uri or one with a scheme, 404 when nothing is
 * served there, 531 for a mount file that is not valid) and *msg pointing
 * to a message. A package's uri ends in /: /Pkg/name names a function or
 * a variable only (404, *msg riap_tree_pkghint, when it is a package). A uri at or below a mount point gives the RIAP_MOUNT entity
 * with *rest set to the offset in uri of what follows the mount point's
 * slash; rest may be NULL when the caller does not care. */
struct riap_entity *riap_tree_resolve(struct riap_tree *t, const char *uri, size_t len,
                                      int *status, const char **msg, size_t *rest);

/* riap_tree_pkghint: the *msg of riap_tree_resolve for a 404 on /Pkg/name
 * where /Pkg/name/ is a package or a mount point (compare the pointer). */
extern const char riap_tree_pkghint[];

/* riap_tree_children: calls cb for each entity directly in package pkg, in
 * name order, until cb returns 0; returns 1, or 0 when the directory cannot
 * be read. */
int riap_tree_children(struct riap_tree *t, const struct riap_entity *pkg,
                       int (*cb)(struct riap_entity *, void *), void *arg);

/* riap_tree_varvalue: a new reference to the value of variable e, read from
 * disk; NULL when it is not valid JSON. */
json_t *riap_tree_varvalue(const struct riap_entity *e);

/* riap_is_ident: 1 when the n bytes at s match ^[A-Za-z_][A-Za-z0-9_]*$. */
int riap_is_ident(const char *s, size_t n);

/* riap_tree_close: frees every cached entity. */
void riap_tree_close(struct riap_tree *t);

#endif
