/* riap_spawn.h: run another program and wait for it (riap-ctl runs s6-svc,
 * s6-svstat, sv and a daemonizing riap-listen so): its stdin /dev/null, its
 * stdout captured or shared, its stderr shared, no other fd (fds 3 and up
 * are closed in the child); no shell. */
#ifndef RIAP_SPAWN_H
#define RIAP_SPAWN_H
#include <stddef.h>

/* riap_spawn_wait: runs argv (argv[0] looked up in PATH), waits for it and
 * returns its wait status (>= 0); with out, its stdout is captured: at most
 * size-1 bytes kept (the rest read and dropped), NUL-terminated, *len set
 * to the bytes kept. Returns -1 with errno when it cannot be started
 * (ENOENT: not found). */
int riap_spawn_wait(char *const argv[], char *out, size_t size, size_t *len);

#endif
