/* cmult: /Fast/mult as a C coprocess (x.riap.exec persistent), for the
 * benchmark: the example tree's /Fast/mult is plain sh, whose `read` takes
 * one system call per byte; this one reads buffered, so a call measures the
 * server's two hops, not the shell. One line of arguments in, one envelope
 * out, as riap-handle(8) PERSISTENT FUNCTIONS describes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long long arg(const char *line, const char *name)
{
  const char *p = strstr(line, name);
  return p ? strtoll(p + strlen(name), 0, 10) : 0;
}

int main(void)
{
  char line[65536];
  while (fgets(line, sizeof line, stdin)) {
    printf("[200,\"OK\",%lld]\n", arg(line, "\"a\":") * arg(line, "\"b\":"));
    fflush(stdout);
  }
  return 0;
}
