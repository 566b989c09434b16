/* request: the JSON of a request line through parsing, key checks and uri
 * resolution on the example tree (RIAP_FUZZ_ROOT, default examples). */
#include <stdlib.h>
#include "fuzz.h"
#include "riap_json.h"
#include "riap_req.h"
#include "riap_tree.h"

static struct riap_tree tree;
static int tree_ok;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct riap_req q;
  char msg[RIAP_REQ_MSGMAX];
  stralloc out = { 0, 0, 0 };
  if (!tree_ok) {
    const char *root = getenv("RIAP_FUZZ_ROOT");
    tree_ok = riap_tree_open(&tree, root ? root : "examples") ? 1 : -1;
  }
  if (!riap_req_parse(&q, (const char *)data, size, msg) && tree_ok > 0) {
    int status;
    const char *m;
    size_t rest;
    riap_tree_resolve(&tree, q.uri, q.uri_len, &status, &m, &rest);
  }
  if (q.json) riap_json_cat(&out, q.json);
  riap_req_free(&q);
  free(out.s);
  return 0;
}
