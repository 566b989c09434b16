/* riap_funcout.h: what a function printed, read as its answer: an envelope
 * [status, message?, result?, meta?], a naked JSON value, or raw bytes. */
#ifndef RIAP_FUNCOUT_H
#define RIAP_FUNCOUT_H
#include <stddef.h>
#include <jansson.h>

enum riap_funcout_form {
  RIAP_OUT_ENVELOPE,   /* [status, message, result, meta], the default */
  RIAP_OUT_NAKED,      /* result_naked: one JSON value */
  RIAP_OUT_RAW         /* result_naked with a buf result: the bytes themselves */
};

struct riap_funcout {
  int status;
  json_t *message;     /* owned; NULL when absent or null */
  json_t *result;      /* owned; NULL when absent */
  json_t *meta;        /* owned copy; NULL when absent or null */
};

#define RIAP_FUNCOUT_WHYMAX 96

/* riap_funcout_scan: reads the n bytes at s in form into o (status 200
 * for the naked forms); returns 1, or 0 with why (RIAP_FUNCOUT_WHYMAX bytes:
 * "no output", "invalid output (...)", "invalid output (not an envelope)")
 * and o empty. */
int riap_funcout_scan(const char *s, size_t n, enum riap_funcout_form form, struct riap_funcout *o, char *why);

/* riap_funcout_free: releases what o holds and empties it. */
void riap_funcout_free(struct riap_funcout *o);

#endif
