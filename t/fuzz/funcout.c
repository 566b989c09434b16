/* funcout: what a function printed, read as an envelope, a naked value and
 * raw bytes; a binary result turned back into bytes. */
#include <stdlib.h>
#include "fuzz.h"
#include "riap_bin.h"
#include "riap_funcout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const enum riap_funcout_form forms[] = { RIAP_OUT_ENVELOPE, RIAP_OUT_NAKED, RIAP_OUT_RAW };
  struct riap_funcout o;
  stralloc bytes = { 0, 0, 0 };
  char why[RIAP_FUNCOUT_WHYMAX];
  size_t i;
  for (i = 0; i < 3; i++) {
    if (!riap_funcout_scan((const char *)data, size, forms[i], &o, why)) continue;
    if (json_is_string(o.result)) riap_bin_fromjson(&bytes, o.result);
    riap_funcout_free(&o);
  }
  free(bytes.s);
  return 0;
}
