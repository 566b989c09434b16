/* proxy: a PROXY protocol header (v1 or v2), as riap-listen reads it, in
 * every split: the verdict on a prefix never contradicts the whole. */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "riap_proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct riap_proxy h, p;
  size_t len, plen, i;
  int r = riap_proxy_scan((const char *)data, size, &h, &len);
  if (r == 1 && (len == 0 || len > size || len > RIAP_PROXY_MAX)) abort();
  if (r == 1 && !h.local && (!h.srcip[0] || !h.dstip[0])) abort();
  if (r == -1 && !h.why) abort();
  for (i = 0; i < size && i < 64; i++) {       /* a header arriving in pieces */
    int k = riap_proxy_scan((const char *)data, i, &p, &plen);
    if (r == 0 && k != 0) abort();              /* more needed on the whole: on every prefix too */
    if (k == 1 && (r != 1 || plen != len)) abort();
    if (k == -1 && r != -1) abort();           /* refused early: refused whole */
  }
  return 0;
}
