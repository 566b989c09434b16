/* bench/sah: cost of validating a typical 3-argument set against schemas
 * compiled once, measured against a no-op loop over the same arguments in
 * the same run. Prints ns/call (one call = all three arguments) and the
 * ratio. Usage: sah [ITERATIONS] (default 2000000). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "riap_sah.h"

#define NARGS 3
static const char *names[NARGS] = { "a", "b", "c" };
static const char *schemas =
  "{\"a\":\"int*\",\"b\":[\"str*\",{\"match\":\"^\\\\w+$\"}],"
  "\"c\":[\"array*\",{\"of\":\"int*\",\"min_len\":1}]}";
static const char *args = "{\"a\":42,\"b\":\"hello_world\",\"c\":[1,2,3]}";

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* the no-op: touches the same values, validates nothing */
__attribute__((noinline)) static int noop(const sah_schema *s, json_t **v, char *err)
{
  __asm__ volatile("" : : "r"(s), "r"(v), "r"(err) : "memory");
  return *v != 0;
}

int main(int argc, char **argv)
{
  long iters = argc > 1 ? atol(argv[1]) : 2000000, i;
  json_error_t je;
  json_t *sj = json_loads(schemas, 0, &je), *aj = json_loads(args, 0, &je), *vals[NARGS];
  sah_schema *s[NARGS];
  char err[SAH_ERRMAX];
  double t0, t1, t2;
  int k, okc = 0;

  if (!sj || !aj) { fprintf(stderr, "sah: fatal: bad JSON\n"); return 111; }
  for (k = 0; k < NARGS; k++) {
    s[k] = sah_compile(json_object_get(sj, names[k]), err);
    if (!s[k]) { fprintf(stderr, "sah: fatal: %s\n", err); return 111; }
    vals[k] = json_object_get(aj, names[k]);
  }
  /* warm up */
  for (i = 0; i < iters / 10; i++)
    for (k = 0; k < NARGS; k++) okc += sah_validate(s[k], &vals[k], err);

  t0 = now();
  for (i = 0; i < iters; i++)
    for (k = 0; k < NARGS; k++) okc += noop(s[k], &vals[k], err);
  t1 = now();
  for (i = 0; i < iters; i++)
    for (k = 0; k < NARGS; k++) okc += sah_validate(s[k], &vals[k], err);
  t2 = now();

  if (okc != (int)(iters / 10 * NARGS + 2 * iters * NARGS)) { fprintf(stderr, "sah: fatal: validation failed: %s\n", err); return 101; }
  {
    double base = (t1 - t0) / iters, val = (t2 - t1) / iters;
    printf("sah: 3-argument validation: %.1f ns/call (no-op loop %.1f ns/call, net %.1f ns, ratio %.1fx), %ld iterations\n",
           val, base, val - base, base > 0 ? val / base : 0, iters);
  }
  for (k = 0; k < NARGS; k++) sah_free(s[k]);
  json_decref(sj);
  json_decref(aj);
  return 0;
}
