/* riap_req.h: a Riap request, parsed from the JSON of one request line and
 * checked key by key (names, types, which keys each action takes). */
#ifndef RIAP_REQ_H
#define RIAP_REQ_H
#include <stddef.h>
#include <jansson.h>

enum riap_action {
  RIAP_A_NONE = -1,
  RIAP_A_INFO, RIAP_A_ACTIONS, RIAP_A_META, RIAP_A_LIST, RIAP_A_CHILD_METAS,
  RIAP_A_CALL, RIAP_A_COMPLETE_ARG_VAL, RIAP_A_COMPLETE_ARG_ELEM, RIAP_A_GET,
  RIAP_A_COUNT
};

struct riap_actioninfo {
  const char *name;
  const char *summary;
  unsigned keys;               /* RIAP_K_* bits this action accepts */
  unsigned types;              /* 1 << riap_etype it applies to */
};

/* riap_actions: the table, indexed by enum riap_action. */
extern const struct riap_actioninfo riap_actions[RIAP_A_COUNT];

struct riap_req {
  json_t *json;                /* the whole request; owned (riap_req_free) */
  int v12;                     /* 1: Riap 1.2, 0: 1.1 */
  enum riap_action action;
  const char *action_name;     /* as sent (NULL when absent); borrowed from json */
  size_t action_len;
  const char *uri;             /* borrowed from json */
  size_t uri_len;
  json_t *args;                /* borrowed; NULL when absent */
  json_t *argv;                /* borrowed: command-line words (call); NULL when absent */
  int detail, recursive, dry_run, confirm, ci;
  const char *type, *q, *arg, *word;   /* borrowed; NULL when absent */
  long long index;
  int has_index;
};

#define RIAP_REQ_MSGMAX 256

/* limits on what a request may hold, beyond the line length */
struct riap_req_limits {
  unsigned max_depth;          /* nesting of arrays and objects (default 64) */
  unsigned max_args;           /* arguments of a call (default 1000) */
  unsigned max_argname;        /* bytes of an argument name (default 256) */
};

/* riap_req_setlimits: sets the limits for every later riap_req_parse in this
 * process (a field 0 keeps its default); returns nothing. */
void riap_req_setlimits(const struct riap_req_limits *l);

/* riap_json_depth: the deepest nesting of arrays and objects in the n bytes
 * of JSON text at s (brackets inside strings do not count), 0 for a scalar. */
unsigned riap_json_depth(const char *s, size_t n);

/* riap_req_parse: parses and checks the n bytes of JSON at s into r;
 * returns 0 when r is a servable request, else the status to answer (400,
 * 501) with the message in msg (RIAP_REQ_MSGMAX bytes). r->v12, action_name
 * and uri are set as far as they could be read, even on failure. */
int riap_req_parse(struct riap_req *r, const char *s, size_t n, char *msg);

/* riap_req_free: releases what riap_req_parse allocated. */
void riap_req_free(struct riap_req *r);

#endif
