/* riap_chan.h: the control channel between riap-listen and its workers.
 * A SOCK_SEQPACKET socketpair; each message is one packet: a fixed header,
 * a fixed payload per type, a data tail for some types, at most one fd
 * (SCM_RIGHTS, received close-on-exec). Native byte order: both ends are on
 * one host. Every message is specified in doc/riap-channel.5. */
#ifndef RIAP_CHAN_H
#define RIAP_CHAN_H
#include <stddef.h>
#include <stdint.h>
#include "riap_peer.h"

enum riap_chan_type {
  RIAP_CHAN_CONN = 1,     /* listener -> worker, fd: serve this connection */
  RIAP_CHAN_READY = 2,    /* worker -> listener: started, waiting for connections */
  RIAP_CHAN_DONE = 3,     /* worker -> listener: connection finished, free again */
  RIAP_CHAN_RETIRE = 4,   /* listener -> worker: finish the current connection, exit */
  RIAP_CHAN_STOP = 5,     /* listener -> worker: finish the current request, exit */
  RIAP_CHAN_PARK = 6,     /* worker -> listener, fd: idle connection handed back, worker free */
  RIAP_CHAN_YIELD = 7     /* listener -> worker: connections wait: park yours as soon as it is idle */
};

#define RIAP_CHAN_DATAMAX 16384   /* longest data tail (buffered request bytes) */
#define RIAP_CHAN_EXITING 1u      /* DONE, PARK flag: the worker exits after this message */
#define RIAP_CHAN_NOPARK 2u       /* CONN flag: do not park it again before a request is answered */

struct riap_chan_hdr {            /* 16 bytes */
  uint16_t type;
  uint16_t flags;                 /* per type; RIAP_CHAN_EXITING for DONE */
  uint32_t len;                   /* payload bytes after the header (fixed part + data) */
  uint64_t id;                    /* connection id (CONN, DONE, PARK), else 0 */
};

struct riap_chan_conn {           /* 136 bytes + datalen */
  uint32_t listener;              /* index of the listening socket */
  uint32_t proto;                 /* enum riap_proto */
  uint16_t remoteport, localport;
  uint32_t datalen;               /* bytes already read from the client (a parked one) */
  int64_t uid, gid, pid;          /* IPC peer, -1 when unknown */
  char remoteip[46];              /* NUL-terminated */
  char localip[46];
  char pad[4];
};

struct riap_chan_ready {          /* 24 bytes */
  int64_t pid;
  uint32_t slot;
  uint32_t generation;
  uint32_t timeout_ms;            /* the worker's idle timeout, for connections parked meanwhile; UINT32_MAX: none */
  uint32_t pad;
};

struct riap_chan_done {           /* 24 bytes */
  uint64_t requests;              /* answered on this connection */
  uint64_t bytes_in, bytes_out;
};

struct riap_chan_park {           /* 16 bytes + datalen */
  uint64_t requests;              /* answered on it by this worker, since its CONN */
  uint32_t datalen;               /* unanswered bytes read from the client */
  uint32_t pad;
};

struct riap_chan_msg {
  struct riap_chan_hdr h;
  union {
    struct riap_chan_conn conn;
    struct riap_chan_ready ready;
    struct riap_chan_done done;
    struct riap_chan_park park;
  } u;
  char data[RIAP_CHAN_DATAMAX];   /* the data tail of CONN and PARK */
};

/* riap_chan_payload: the fixed payload size of type t; -1 for an unknown type. */
long riap_chan_payload(unsigned t);

/* riap_chan_send: sends m (its h.type set; h.len is computed here) with fd
 * (-1 for none) on the channel sock, MSG_NOSIGNAL. Returns 1, 0 on error
 * (errno; EAGAIN when the channel is full, EINVAL for a bad message). */
int riap_chan_send(int sock, struct riap_chan_msg *m, int fd);

/* riap_chan_recv: receives one message into m and its fd into *fd (-1 when
 * none; close-on-exec). Checks the size against the type, the data length
 * and that an fd comes exactly with CONN and PARK. Returns 1, 0 at EOF, -1
 * on error (errno: EAGAIN, EINTR, EPROTO for a malformed message, whose fd
 * is closed; EMFILE for a CONN or PARK that arrived whole but whose fd the
 * kernel could not give us (MSG_CTRUNC at the fd limit): m holds the
 * message, *fd is -1, the connection it carried is closed). */
int riap_chan_recv(int sock, struct riap_chan_msg *m, int *fd);

/* riap_chan_setconn: fills m as a CONN message for peer p on listener index
 * li with connection id id; returns nothing. */
void riap_chan_setconn(struct riap_chan_msg *m, uint64_t id, unsigned li, const struct riap_peer *p);

/* riap_chan_getpeer: the peer facts of a CONN message into p. */
void riap_chan_getpeer(const struct riap_chan_msg *m, struct riap_peer *p);

/* riap_chan_typename: "conn", "ready", ...; "unknown" otherwise. */
const char *riap_chan_typename(unsigned t);

#endif
