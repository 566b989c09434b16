/* actions.c: resolves the uri and runs the action on the entity. */
#include <ctype.h>
#include <string.h>
#include "riap_json.h"
#include "handle.h"
#include "funcmeta.h"

static const char *type_name(enum riap_etype t)
{
  return t == RIAP_FUNCTION ? "function" : t == RIAP_VARIABLE ? "variable" : "package";
}

void entity_priv_free(struct riap_entity *e)
{
  if (e->type == RIAP_FUNCTION) funcmeta_free(e->priv);
  else if (e->type == RIAP_MOUNT) mount_free(e->priv);
}

static json_t *real_v(int v12) { return json_real(v12 ? 1.2 : 1.1); }

static void do_info(const struct riap_entity *e, const struct riap_req *q, struct reply *r)
{
  reply_ok(r, json_pack("{s:o,s:s,s:s}", "v", real_v(q->v12), "type", type_name(e->type), "uri", e->uri));
}

static void do_actions(const struct riap_entity *e, const struct riap_req *q, struct reply *r)
{
  json_t *list = json_array();
  int i;
  for (i = 0; i < RIAP_A_COUNT; i++) {
    const struct riap_actioninfo *a = &riap_actions[i];
    if (!(a->types & (1u << e->type))) continue;
    if (q->detail) json_array_append_new(list, json_pack("{s:s,s:s}", "name", a->name, "summary", a->summary));
    else json_array_append_new(list, json_string(a->name));
  }
  reply_ok(r, list);
}

int meta_check(const struct riap_entity *e, struct reply *r)
{
  if (e->meta_state == RIAP_META_OK) return 0;
  if (e->meta_state == RIAP_META_BROKEN)
    return reply_set(r, 531, "Invalid metadata for %s: %s", e->uri, e->meta_err), 1;
  return reply_set(r, 534, "No metadata for %s", e->uri), 1;
}

/* entity_v / entity_date from the package's metadata, unless the function
 * has its own: what Perl's servers take from $VERSION and $DATE */
static json_t *with_entity(json_t *meta, const struct riap_entity *pkg)
{
  static const char *const keys[] = { "entity_v", "entity_date" };
  json_t *out = json_incref(meta), *v;
  int i;
  if (!pkg || pkg->meta_state != RIAP_META_OK) return out;
  for (i = 0; i < 2; i++) {
    v = json_object_get(pkg->meta, keys[i]);
    if (!v || json_is_null(v)) continue;
    v = json_object_get(out, keys[i]);
    if (v && !json_is_null(v)) continue;
    if (out == meta) { json_decref(out); out = json_copy(meta); }
    json_object_set(out, keys[i], json_object_get(pkg->meta, keys[i]));
  }
  return out;
}

/* the metadata a client sees: a function's normalized (NULL with r set
 * when it cannot be), anything else's as written. A function's is final
 * once joined to its package's: from then on it is also kept as text,
 * which each meta answer copies (a Perl CmdLine client asks meta before
 * every call; 525 bytes of /Math/mult written value by value took a third
 * of the request) */
static json_t *meta_out(struct riap_entity *e, const struct riap_entity *pkg, struct reply *r)
{
  struct funcmeta *m;
  if (e->type != RIAP_FUNCTION) return json_incref(e->meta);
  if (!(m = funcmeta_get(e))) return reply_set(r, 500, "Out of memory"), (json_t *)0;
  if (!m->norm) return reply_set(r, 531, "Invalid metadata for %s: %s", e->uri, m->err), (json_t *)0;
  if (!m->norm_entity) {         /* once: the tree, and so the package, is rebuilt on reload */
    json_t *n = with_entity(m->norm, pkg);
    json_decref(m->norm);
    m->norm = n;
    m->norm_entity = 1;
    m->norm_text.len = 0;
    if (!riap_json_cat_ascii(&m->norm_text, m->norm)) m->norm_text.len = 0;
  }
  return json_incref(m->norm);
}

/* the package e lives in */
static const struct riap_entity *package_of(struct server *s, const struct riap_entity *e)
{
  const char *slash = strrchr(e->uri, '/');
  int status;
  const char *msg;
  if (!slash) return 0;
  return riap_tree_resolve(&s->tree, e->uri, (size_t)(slash - e->uri) + 1, &status, &msg, 0);
}

static void do_meta(struct server *s, struct riap_entity *e, struct reply *r)
{
  const struct riap_entity *pkg;
  struct funcmeta *fm;
  json_t *m;
  /* a package needs no metadata to exist: without .meta.json it has the
   * least there is, as the Perl server answers (a function still needs its own) */
  if (e->type == RIAP_PACKAGE && e->meta_state == RIAP_META_NONE) {
    reply_ok(r, json_pack("{s:f}", "v", 1.1));
    return;
  }
  if (meta_check(e, r)) return;
  fm = e->type == RIAP_FUNCTION ? funcmeta_get(e) : 0;
  pkg = fm && fm->norm && !fm->norm_entity ? package_of(s, e) : 0;   /* needed once */
  if (!(m = meta_out(e, pkg, r))) return;
  reply_ok(r, m);
  if (fm && fm->norm_text.len) {
    r->result_text = fm->norm_text.s;
    r->result_text_len = fm->norm_text.len;
  }
}

static void do_get(const struct riap_entity *e, struct reply *r)
{
  json_t *v = riap_tree_varvalue(e);
  if (!v) { reply_set(r, 500, "Variable %s holds invalid JSON", e->uri); return; }
  reply_ok(r, v);
}

/* Riap answers list and child_metas with uris relative to the package
 * listed (["Math/","mult"]), as its examples and the Perl server do */
static const char *relative(const struct riap_entity *e, size_t baselen)
{
  return strlen(e->uri) >= baselen ? e->uri + baselen : e->uri;
}

struct lister {
  struct server *srv;
  const struct riap_req *q;
  size_t baselen;               /* of the listed package's uri */
  json_t *out;
  int type;                     /* 0: any */
  int depth;
};

static int contains_ci(const char *hay, const char *needle)
{
  size_t n = strlen(needle), i;
  if (!n) return 1;
  for (; *hay; hay++) {
    for (i = 0; i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]); i++) ;
    if (i == n) return 1;
  }
  return 0;
}

static const char *summary_of(const struct riap_entity *e)
{
  json_t *s = e->meta_state == RIAP_META_OK ? json_object_get(e->meta, "summary") : 0;
  return json_is_string(s) ? json_string_value(s) : 0;
}

static int list_one(struct riap_entity *e, void *arg)
{
  struct lister *l = arg;
  const char *summary = summary_of(e);
  int match = 1;
  if (l->type && (int)(e->type == RIAP_MOUNT ? RIAP_PACKAGE : e->type) != l->type) match = 0;
  if (match && l->q->q && !contains_ci(relative(e, l->baselen), l->q->q) &&
      !(summary && contains_ci(summary, l->q->q))) match = 0;
  if (match) {
    const char *uri = relative(e, l->baselen);
    if (l->q->detail) {
      json_t *o = json_pack("{s:s,s:s}", "uri", uri, "type", type_name(e->type));
      if (summary) json_object_set_new(o, "summary", json_string(summary));
      json_array_append_new(l->out, o);
    } else json_array_append_new(l->out, json_string(uri));
  }
  if (e->type == RIAP_PACKAGE && l->q->recursive && l->depth < 32) {   /* mounts are not walked into */
    l->depth++;
    riap_tree_children(&l->srv->tree, e, list_one, l);
    l->depth--;
  }
  return 1;
}

static void do_list(struct server *s, const struct riap_entity *e, const struct riap_req *q, struct reply *r)
{
  struct lister l = { s, q, strlen(e->uri), json_array(), 0, 0 };
  if (q->type) {
    if (!strcmp(q->type, "package")) l.type = RIAP_PACKAGE;
    else if (!strcmp(q->type, "function")) l.type = RIAP_FUNCTION;
    else if (!strcmp(q->type, "variable")) l.type = RIAP_VARIABLE;
    else {
      json_decref(l.out);
      reply_set(r, 400, "Invalid value for request key 'type', must be package, function or variable");
      return;
    }
  }
  if (!riap_tree_children(&s->tree, e, list_one, &l)) {
    json_decref(l.out);
    reply_set(r, 500, "Cannot read package %s", e->uri);
    return;
  }
  reply_ok(r, l.out);
}

struct metas {
  json_t *out;
  size_t baselen;
  const struct riap_entity *pkg;
};

/* every child whose meta action answers 200, with that answer, as the Perl
 * server's child_metas: subpackages without metadata too; a child whose
 * meta fails is left out */
static int child_meta(struct riap_entity *e, void *arg)
{
  struct metas *m = arg;
  struct reply r;
  json_t *v;
  memset(&r, 0, sizeof r);
  if (e->type == RIAP_PACKAGE && e->meta_state == RIAP_META_NONE) {
    json_object_set_new(m->out, relative(e, m->baselen), json_pack("{s:f}", "v", 1.1));
    return 1;
  }
  if (e->meta_state != RIAP_META_OK) return 1;
  if ((v = meta_out(e, m->pkg, &r))) json_object_set_new(m->out, relative(e, m->baselen), v);
  reply_clear(&r);
  return 1;
}

static void do_child_metas(struct server *s, const struct riap_entity *e, struct reply *r)
{
  json_t *out = json_object();
  struct metas m = { out, strlen(e->uri), e };
  if (!riap_tree_children(&s->tree, e, child_meta, &m)) {
    json_decref(out);
    reply_set(r, 500, "Cannot read package %s", e->uri);
    return;
  }
  reply_ok(r, out);
}

void action_run(struct server *s, const struct riap_req *q, const struct riap_peer *peer, struct reply *r)
{
  int status;
  const char *msg;
  size_t rest = 0;
  struct riap_entity *e = riap_tree_resolve(&s->tree, q->uri, q->uri_len, &status, &msg, &rest);
  if (e && e->type == RIAP_MOUNT) { mount_run(s, e, q, rest, r); return; }
  if (!e) {
    if (status == 404 && msg == riap_tree_pkghint)
      reply_set(r, 404, "Not found: %.200s (a package's uri ends in /: %.200s/)", q->uri, q->uri);
    else if (status == 404) reply_set(r, 404, "Not found: %.200s", q->uri);
    else reply_set(r, status, "%s", msg);
    return;
  }
  if (!(riap_actions[q->action].types & (1u << e->type))) {
    reply_set(r, 501, "Action '%s' not implemented for '%s' entity", riap_actions[q->action].name,
              type_name(e->type));
    return;
  }
  switch (q->action) {
    case RIAP_A_INFO: do_info(e, q, r); break;
    case RIAP_A_ACTIONS: do_actions(e, q, r); break;
    case RIAP_A_META: do_meta(s, e, r); break;
    case RIAP_A_LIST: do_list(s, e, q, r); break;
    case RIAP_A_CHILD_METAS: do_child_metas(s, e, r); break;
    case RIAP_A_CALL: call_run(s, e, q, peer, r); break;
    case RIAP_A_COMPLETE_ARG_VAL:
    case RIAP_A_COMPLETE_ARG_ELEM: complete_run(s, e, q, r); break;
    case RIAP_A_GET: do_get(e, r); break;
    default: reply_set(r, 501, "Action not implemented"); break;
  }
}
