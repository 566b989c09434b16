/* sah_complete.c: what callers ask a compiled schema besides validation:
 * its type, req, default, element schema, and completion candidates, as
 * Perl's Complete::Sah finds them. */
#include <math.h>
#include "sah_internal.h"

const char *sah_type(const sah_schema *s) { return s->type_name; }

int sah_is_req(const sah_schema *s) { return s->req; }

json_t *sah_default(const sah_schema *s) { return s->def; }

static const struct sah_clause *find(const sah_schema *s, int kind)
{
  size_t i;
  for (i = 0; i < s->ncls; i++)
    if (s->cls[i].kind == kind && s->cls[i].op == OP_SINGLE) return &s->cls[i];
  return 0;
}

const sah_schema *sah_elem(const sah_schema *s)
{
  const struct sah_clause *c;
  if (s->type != SAH_T_ARRAY) return 0;
  c = find(s, K_EACH_ELEM);
  return c ? c->v[0].sub : 0;
}

#define SAH_COMPLETE_MAXRANGE 1000

/* floor/ceil without libm (the build links no -lm); |d| < 2^62 here */
static double fl(double d) { double t = (double)(long long)d; return t > d ? t - 1 : t; }
static double ce(double d) { double t = (double)(long long)d; return t < d ? t + 1 : t; }

json_t *sah_completions(const sah_schema *s)
{
  const struct sah_clause *c;
  double lo = -INFINITY, hi = INFINITY;
  size_t i;
  json_t *a;
  if ((c = find(s, K_IN))) return json_deep_copy(c->v[0].j);
  if ((c = find(s, K_IS)) && !json_is_array(c->v[0].j) && !json_is_object(c->v[0].j))
    return json_pack("[O]", c->v[0].j);
  if (s->type == SAH_T_BOOL) return json_pack("[i i]", 0, 1);   /* as typed on a command line, and as Perl offers */
  if (s->type != SAH_T_INT) return 0;
  for (i = 0; i < s->ncls; i++) {
    const struct sah_clause *k = &s->cls[i];
    const struct sah_cval *v = &k->v[0];
    if (k->op != OP_SINGLE) continue;
    switch (k->kind) {
    case K_MIN: if (v->d1 > lo) lo = v->d1; break;
    case K_XMIN: if (fl(v->d1) + 1 > lo) lo = fl(v->d1) + 1; break;
    case K_MAX: if (v->d1 < hi) hi = v->d1; break;
    case K_XMAX: if (ce(v->d1) - 1 < hi) hi = ce(v->d1) - 1; break;
    case K_BETWEEN: if (v->d1 > lo) lo = v->d1; if (v->d2 < hi) hi = v->d2; break;
    case K_XBETWEEN:
      if (fl(v->d1) + 1 > lo) lo = fl(v->d1) + 1;
      if (ce(v->d2) - 1 < hi) hi = ce(v->d2) - 1;
      break;
    }
  }
  if (!(lo > -4e18 && hi < 4e18)) return 0;
  lo = ce(lo);
  hi = fl(hi);
  if (hi < lo || hi - lo >= SAH_COMPLETE_MAXRANGE) return 0;
  a = json_array();
  for (; lo <= hi; lo++) json_array_append_new(a, json_integer((json_int_t)lo));
  return a;
}

json_t *sah_examples(const sah_schema *s)
{
  if (find(s, K_IN) || find(s, K_IS)) return 0;   /* Complete::Sah: they alone */
  return json_object_get(json_array_get(s->norm, 1), "examples");
}
