/* sah_internal.h: the compiled form of a Sah schema, shared by the
 * sah_*.c files only (callers use riap_sah.h). */
#ifndef RIAP_SAH_INTERNAL_H
#define RIAP_SAH_INTERNAL_H
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include "riap_sah.h"

enum sah_type {
  SAH_T_ANY, SAH_T_ALL, SAH_T_BOOL, SAH_T_INT, SAH_T_FLOAT, SAH_T_NUM,
  SAH_T_STR, SAH_T_CISTR, SAH_T_BUF, SAH_T_ARRAY, SAH_T_HASH, SAH_T_UNDEF
};

/* clause kinds (constraint clauses only; metadata clauses are dropped) */
enum sah_kind {
  K_OK, K_REQ, K_FORBIDDEN,
  K_IN, K_IS,
  K_MIN, K_XMIN, K_MAX, K_XMAX, K_BETWEEN, K_XBETWEEN,
  K_LEN, K_MIN_LEN, K_MAX_LEN, K_LEN_BETWEEN, K_HAS, K_EACH_ELEM,
  K_EACH_INDEX, K_EXISTS, K_UNIQ,
  K_MOD, K_DIV_BY, K_IS_NAN, K_IS_INF, K_IS_POS_INF, K_IS_NEG_INF,
  K_MATCH, K_IS_RE, K_IS_TRUE,
  K_ELEMS, K_OF_ANY, K_OF_ALL,
  K_KEYS, K_RE_KEYS, K_REQ_KEYS, K_ALLOWED_KEYS, K_ALLOWED_KEYS_RE,
  K_FORBIDDEN_KEYS, K_FORBIDDEN_KEYS_RE, K_CHOOSE_ONE_KEY,
  K_CHOOSE_ALL_KEYS, K_REQ_ONE_KEY, K_REQ_SOME_KEYS, K_DEP_ANY, K_DEP_ALL,
  K_REQ_DEP_ANY, K_REQ_DEP_ALL,
  K_PROP, K_CLAUSE, K_CLSET
};

enum sah_op { OP_SINGLE, OP_NOT, OP_AND, OP_OR, OP_NONE };
enum sah_level { LV_ERROR, LV_WARN, LV_FATAL };
enum sah_prop { P_LEN, P_ELEMS, P_INDICES };

struct sah_clause;

/* one clause value, with what compiling it produced */
struct sah_cval {
  json_t *j;                 /* the value, borrowed from the schema's copy */
  double d1, d2;             /* numeric parameters */
  json_int_t i1, i2;
  const char *s; size_t slen;/* string parameter (UTF-8) */
  const char *s2; size_t s2len; /* second string parameter (between) */
  char *own1, *own2;         /* owned storage behind s / s2, or NULL */
  pcre2_code *re;            /* match, *_keys_re */
  sah_schema *sub;           /* each_elem, prop, exists ... */
  sah_schema **subs; size_t nsubs;   /* elems, of, keys, re_keys */
  const char **keys; size_t nkeys;   /* keys names, key lists */
  pcre2_code **kres;                 /* re_keys patterns */
  struct sah_clause *cls; size_t ncls; /* clause, clset */
  int prop;
};

struct sah_clause {
  int kind, op, level, prio;
  const char *name;          /* clause name as written (borrowed) */
  const char *err_msg;       /* custom message (borrowed) or NULL */
  int restrict_keys;         /* keys / re_keys .restrict (default 1) */
  int create_default;        /* keys / elems .create_default (default 1) */
  struct sah_cval *v; size_t nv;
};

struct sah_schema {
  int type;
  const char *type_name;     /* borrowed from norm */
  json_t *norm;              /* normalized schema; owns every borrowed value */
  int req, forbidden, not_ok;
  json_t *def;               /* borrowed default, or NULL */
  struct sah_clause *cls; size_t ncls;
  int cls_owned;
};

/* sah_scalar.c: Perl-like views of JSON scalars */
int sahs_is_scalar(const json_t *v);                 /* 1 for string/number/bool */
size_t sahs_str(const json_t *v, char *buf, size_t n, const char **out); /* string form; returns its length */
double sahs_num(const json_t *v);                    /* numeric value (Perl numification) */
int sahs_true(const json_t *v);                      /* Perl truth */
int sahs_looks_num(const char *s, size_t len);       /* 1 if Perl's looks_like_number */
int sahs_looks_int(const char *s, size_t len);       /* 1 if an integer string */
int sahs_equal(const json_t *a, const json_t *b);    /* deep equality, Perl-ish scalars */
size_t sahs_utf8_len(const char *s, size_t n);       /* number of code points */
size_t sahs_utf8_next(const char *s, size_t n, size_t i); /* index of next code point */
int sahs_utf8_max(const char *s, size_t n);          /* largest code point */
char *sahs_lc(const char *s, size_t n, size_t *outn);/* lowercased copy (malloc) */
void sahs_fmt(char *dst, size_t n, const json_t *v); /* value for messages */

/* sah_compile.c */
const char *sahc_type_noun(int type);               /* "integer", "text", ... */

/* sah_validate.c */
#define SAHV_FULL 1    /* go on after an error, counting */
#define SAHV_TYPED 2   /* see sah_validate_typed */
int sahv_run(const sah_schema *s, json_t **value, char *err, int *nerr, int *nwarn, int flags);

#endif
