/* riap_peer.h: who is on the other end of a connection, in UCSPI terms. */
#ifndef RIAP_PEER_H
#define RIAP_PEER_H
#include <sys/types.h>

enum riap_proto { RIAP_PROTO_NONE = 0, RIAP_PROTO_TCP, RIAP_PROTO_IPC };

struct riap_peer {
  enum riap_proto proto;
  char remoteip[46];          /* TCP: textual address, no brackets */
  unsigned short remoteport;
  char localip[46];
  unsigned short localport;
  long uid, gid, pid;         /* IPC: -1 when unknown */
};

/* riap_peer_from_env: fills p from PROTO, TCPREMOTEIP, ... IPCREMOTEEUID, ...;
 * PROTO=NONE when the environment names no peer. Never fails. */
void riap_peer_from_env(struct riap_peer *p);

/* riap_peer_fmt: writes a short label ("127.0.0.1:5000", "[::1]:5000",
 * "unix:pid=12,uid=0,gid=0", "pipe") to dest, NUL-terminated;
 * returns its length. dest must hold RIAP_PEER_FMT bytes. */
#define RIAP_PEER_FMT 96
size_t riap_peer_fmt(char *dest, const struct riap_peer *p);

/* riap_peer_env: appends the UCSPI variables for p ("PROTO=TCP", ...) to envp
 * starting at index n, storing strings in buf (RIAP_PEER_ENVBUF bytes);
 * returns the new count. envp must have room for 6 more entries. */
#define RIAP_PEER_ENVBUF 320
int riap_peer_env(char **envp, int n, char *buf, const struct riap_peer *p);

#endif
