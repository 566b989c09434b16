/* accessrec: a line as riap-log reads it. */
#include "fuzz.h"
#include "riap_accessrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct riap_accessrec_parsed r;
  riap_accessrec_scan((const char *)data, size, &r);
  return 0;
}
