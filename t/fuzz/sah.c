/* sah: a schema (JSON, up to the first newline) compiled, then a value (the
 * rest) validated against it, plainly and as riap-handle does (typed, on a
 * copy), and completions asked. */
#include <string.h>
#include "fuzz.h"
#include "riap_sah.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *s = (const char *)data, *nl = memchr(s, '\n', size);
  size_t n1 = nl ? (size_t)(nl - s) : size;
  char err[SAH_ERRMAX];
  json_t *schema = json_loadb(s, n1, JSON_DECODE_ANY, 0), *value, *typed, *c;
  sah_schema *compiled;
  if (!schema) return 0;
  compiled = sah_compile(schema, err);
  json_decref(schema);
  if (!compiled) return 0;
  value = nl ? json_loadb(nl + 1, size - n1 - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, 0) : 0;
  typed = value ? json_deep_copy(value) : 0;
  sah_validate(compiled, &value, err);
  sah_validate_typed(compiled, &typed, err);
  json_decref(value);
  json_decref(typed);
  c = sah_completions(compiled);
  json_decref(c);
  sah_free(compiled);
  return 0;
}
