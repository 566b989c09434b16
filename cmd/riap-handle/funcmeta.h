/* funcmeta.h: a function's Rinci metadata, checked and compiled once. */
#ifndef RIAP_FUNCMETA_H
#define RIAP_FUNCMETA_H
#include <jansson.h>
#include <stralloc.h>
#include "riap_tree.h"
#include "riap_sah.h"
#include "riap_coproc.h"

struct farg {
  const char *name;             /* borrowed from the metadata */
  json_t *spec;                 /* the arg spec, borrowed */
  json_t *schema;               /* borrowed; NULL when none */
  sah_schema *compiled;         /* NULL when no schema */
  int req;
  long pos;                     /* -1 when not positional */
  int slurpy;
};

struct funcmeta {
  int ok;                       /* 0: err says why (answered 531) */
  json_t *norm;                 /* normalized as Perl's servers answer meta; NULL: err says why */
  int norm_entity;              /* norm holds the package's entity_v/entity_date (actions.c) */
  stralloc norm_text;           /* norm as the answer's result (ASCII JSON), once it is final */
  char err[SAH_ERRMAX + 96];
  int has_args;                 /* metadata declares args: unknown ones are refused */
  struct farg *args;
  size_t nargs;
  int naked;                    /* result_naked */
  int args_array;               /* args_as array/arrayref */
  unsigned long timeout_ms;     /* 0: the server default */
  int dry_run_ok;               /* features.dry_run */
  int result_buf;               /* result schema is buf: stdout bytes are the value */
  int persistent;               /* x.riap.exec persistent: one coprocess, a line per call */
  int peer_facts;               /* x.riap.peer: the peer travels in each call's line */
  struct riap_coproc co;
  unsigned failures;            /* coprocess deaths in a row */
  long long retry_at_ms;        /* no restart before this (monotonic ms) */
};

/* funcmeta_get: the compiled metadata of function e (compiled on first use,
 * kept in e->priv); NULL when out of memory. */
struct funcmeta *funcmeta_get(struct riap_entity *e);

/* funcmeta_arg: the arg named name (n bytes), or NULL. */
const struct farg *funcmeta_arg(const struct funcmeta *m, const char *name, size_t n);

/* meta_normalize: a new reference to function metadata meta normalized as
 * Perinci::Sub::Normalize 0.207 does under Perl's servers (schemas in
 * [type, {clauses}] form, PROP(LANG) as PROP.alt.lang.LANG, args {} when
 * absent), or NULL with Perl's reason in err (SAH_ERRMAX bytes): an unknown
 * property, v other than 1.1, holes in the positions ... (metanorm.c) */
json_t *meta_normalize(json_t *meta, char *err);

#endif
