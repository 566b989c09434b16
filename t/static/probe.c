/* probe: a function for the chroot tests (t/riap-chroot.bats), linked
 * statically so that it runs in a code tree holding nothing else. For each
 * line of arguments it reads (one as an exec'd function, any number as a
 * persistent one) it tells where it runs: its ids, whether the code tree is
 * at / and whether the host's /etc/passwd can be seen. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

int main(void)
{
  char line[65536];
  struct stat st;
  while (fgets(line, sizeof line, stdin)) {
    int tree = stat("/Jail/probe.meta.json", &st) == 0;
    int etc = access("/etc/passwd", F_OK) == 0;
    printf("[200,\"OK\",{\"uid\":%lu,\"gid\":%lu,\"pid\":%ld,\"tree_at_root\":%s,\"etc_passwd\":%s}]\n",
           (unsigned long)getuid(), (unsigned long)getgid(), (long)getpid(),
           tree ? "true" : "false", etc ? "true" : "false");
    fflush(stdout);
  }
  return 0;
}
