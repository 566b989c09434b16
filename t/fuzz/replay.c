/* replay.c: runs a harness on files given as arguments, without libFuzzer,
 * printing one TAP line per file: the corpus as regression tests. */
#include <stdio.h>
#include <stdlib.h>
#include "fuzz.h"

int main(int argc, char **argv)
{
  int i;
  printf("1..%d\n", argc - 1);
  for (i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "rb");
    unsigned char *buf;
    long n;
    if (!f) { printf("not ok %d - %s: cannot open\n", i, argv[i]); continue; }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) { printf("not ok %d - %s: cannot read\n", i, argv[i]); fclose(f); free(buf); continue; }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);   /* a crash ends the program: the run fails */
    free(buf);
    printf("ok %d - %s\n", i, argv[i]);
  }
  return 0;
}
