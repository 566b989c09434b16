/* riap_scoreboard.h: the scoreboard, a file mapped shared by riap-listen
 * (creates it, assigns and clears slots), its workers (each writes only its
 * own slot) and readers (riap-ctl, riap-sbdump). Plain values, fixed
 * versioned layout, a seqlock per slot. Specified in doc/riap-scoreboard.5. */
#ifndef RIAP_SCOREBOARD_H
#define RIAP_SCOREBOARD_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define RIAP_SB_MAGIC "riap-sb\n"            /* 8 bytes, no NUL */
#define RIAP_SB_VERSION 2
#define RIAP_SB_MINOR 1                      /* revision within version 2: 1 added draining and fds_lost */
#define RIAP_SB_HEADER_SIZE 256
#define RIAP_SB_SLOT_SIZE 512

/* Slot states, in this order (the code compares them by rank, see
 * riap_sb_rank): empty, starting, idle, reading, calling, writing, retiring. */
#define RIAP_SB_EMPTY    '.'
#define RIAP_SB_STARTING 'S'
#define RIAP_SB_IDLE     '_'
#define RIAP_SB_READING  'R'
#define RIAP_SB_CALLING  'C'
#define RIAP_SB_WRITING  'W'
#define RIAP_SB_RETIRING 'G'

struct riap_sb_header {
  char magic[8];
  uint32_t version;
  uint32_t header_size;       /* RIAP_SB_HEADER_SIZE */
  uint32_t slot_size;         /* RIAP_SB_SLOT_SIZE */
  uint32_t nslots;
  int64_t listener_pid;
  int64_t start_us;           /* listener start, microseconds since the epoch */
  uint32_t generation;        /* bumped on every reload (HUP) */
  uint16_t minor;             /* revision within the version (RIAP_SB_MINOR):
                                 fields carved later out of reserved */
  uint16_t park_seq;          /* seqlock of the three park fields */
  char name[64];              /* --name, NUL-terminated */
  uint32_t parked;            /* connections parked in the listener */
  uint32_t parks;             /* connections handed back, mod 2^32 */
  int64_t park_oldest_us;     /* when the longest-parked one was parked
                                 (microseconds since the epoch), 0: none */
  /* offset 128, version 2: the listener's totals, under total_seq */
  uint32_t total_seq;         /* seqlock of the fields below */
  uint32_t waiting;           /* connections in the listener's ready list now */
  uint64_t accepted;          /* connections admitted since start */
  uint64_t refused;           /* connections refused (rules, limits) since start */
  uint64_t gone_workers;      /* workers reaped since start */
  uint64_t gone_requests;     /* the sums of their slots' counters, */
  uint64_t gone_connections;  /* added when each is reaped, in the same */
  uint64_t gone_bytes_in;     /* seqlocked write that clears its slot */
  uint64_t gone_bytes_out;
  /* offset 192, minor 1 (zero in a minor 0 scoreboard) */
  uint32_t draining;          /* 1 while draining (USR1 to USR2) */
  uint32_t fds_lost;          /* connections lost at the fd limit (MSG_CTRUNC), mod 2^32 */
  char reserved[56];          /* zero */
};

struct riap_sb_park {         /* the header's park fields, as read */
  uint32_t parked, parks;
  int64_t oldest_us;
};

struct riap_sb_totals {       /* the header's totals, as read */
  uint32_t waiting;
  uint64_t accepted, refused;
  uint64_t workers, requests, connections, bytes_in, bytes_out;   /* of workers gone */
  uint32_t draining, fds_lost;
};

struct riap_sb_slot {
  uint32_t seq;               /* seqlock: odd while the slot is being written */
  uint32_t generation;        /* of the worker in it */
  int64_t pid;                /* 0 when empty or not yet known */
  char state;                 /* RIAP_SB_* */
  char reserved0[7];
  uint64_t requests;          /* answered by this worker */
  uint64_t connections;       /* received by this worker */
  uint64_t bytes_in, bytes_out;
  int64_t start_us;           /* worker start */
  int64_t request_us;         /* start of the current (or last) request */
  int64_t change_us;          /* last change of state */
  char peer[96];              /* current (or last) client, riap_peer_fmt label */
  char action[32];            /* current (or last) action, truncated */
  char uri[304];              /* current (or last) uri, truncated */
};

struct riap_sb {
  struct riap_sb_header *h;
  size_t size;
  int writable;
};

/* riap_sb_create: writes a fresh scoreboard with nslots empty slots to
 * PATH.new, renames it to path and maps it; returns 1, 0 with errno. */
int riap_sb_create(struct riap_sb *sb, const char *path, unsigned nslots, const char *name);

/* riap_sb_open: maps an existing scoreboard (writable for a worker) after
 * checking magic, version and sizes; returns 1, 0 with errno (EPROTO: not a
 * scoreboard of this layout). */
int riap_sb_open(struct riap_sb *sb, const char *path, int writable);

/* riap_sb_close: unmaps sb. */
void riap_sb_close(struct riap_sb *sb);

/* riap_sb_slot: slot i, NULL when out of range. */
struct riap_sb_slot *riap_sb_slot(const struct riap_sb *sb, unsigned i);

/* riap_sb_read: a consistent copy of slot i into out; returns 1, 0 when out
 * of range or the slot kept changing. */
int riap_sb_read(const struct riap_sb *sb, unsigned i, struct riap_sb_slot *out);

/* riap_sb_generation: sets the header's generation (listener). */
void riap_sb_setgen(struct riap_sb *sb, uint32_t gen);

/* riap_sb_setpark: the park fields of the header (listener): connections
 * parked now, hand-backs so far, park time of the oldest (0: none). */
void riap_sb_setpark(struct riap_sb *sb, uint32_t parked, uint32_t parks, int64_t oldest_us);

/* riap_sb_getpark: a consistent copy of the park fields into out; returns 1,
 * 0 when they kept changing. */
int riap_sb_getpark(const struct riap_sb *sb, struct riap_sb_park *out);

/* riap_sb_setqueue: the listener's own counts (listener): connections in
 * its ready list now, admitted and refused since start. */
void riap_sb_setqueue(struct riap_sb *sb, uint32_t waiting, uint64_t accepted, uint64_t refused);
/* riap_sb_setstate: whether the listener drains, and the connections it
 * lost at its fd limit (listener). */
void riap_sb_setstate(struct riap_sb *sb, uint32_t draining, uint32_t fds_lost);

/* riap_sb_reap: listener, after reaping the worker of slot i: adds the
 * slot's counters to the gone totals and clears it (state '.', all zero),
 * both within one write of the totals seqlock. */
void riap_sb_reap(struct riap_sb *sb, unsigned i);

/* riap_sb_gettotals: a consistent copy of the totals into out; returns 1, 0
 * when they kept changing. A reader that sums the live slots too gets a
 * consistent grand total when out->workers is the same before and after
 * it reads the slots (see riap-scoreboard(5), CONSISTENCY). */
int riap_sb_gettotals(const struct riap_sb *sb, struct riap_sb_totals *out);

/* riap_sb_now: microseconds since the epoch, coarse clock (no system call). */
int64_t riap_sb_now(void);
/* riap_sb_usec: ts in microseconds since the epoch. */
int64_t riap_sb_usec(const struct timespec *ts);

/* riap_sb_rank: the rank of state c in the documented order, -1 if unknown. */
int riap_sb_rank(char c);

/* The writers. Each is a seqlocked update of a few fields, no system call;
 * each accepts a NULL slot (no scoreboard) and then does nothing. */
/* riap_sb_assign: listener, before the worker exists: state S. */
void riap_sb_assign(struct riap_sb_slot *s, uint32_t gen);
/* riap_sb_setpid: the new process itself, right after fork. */
void riap_sb_setpid(struct riap_sb_slot *s, long pid);
/* riap_sb_clear: listener, when the slot's worker never ran (fork failed):
 * state '.', all zero. A reaped worker's slot goes through riap_sb_reap. */
void riap_sb_clear(struct riap_sb_slot *s);
/* riap_sb_state: sets the state (and the time of change). */
void riap_sb_state(struct riap_sb_slot *s, char state);
/* riap_sb_conn: a connection begins: state R, peer label, connections+1. */
void riap_sb_conn(struct riap_sb_slot *s, const char *peer);
/* riap_sb_request: a request line is complete: state C, action and uri. */
void riap_sb_request(struct riap_sb_slot *s, const char *action, size_t alen,
                     const char *uri, size_t ulen, const struct timespec *t);
/* riap_sb_answered: requests+1. */
void riap_sb_answered(struct riap_sb_slot *s);
/* riap_sb_read_bytes: bytes_in += n (no state change). */
void riap_sb_bytes_in(struct riap_sb_slot *s, size_t n);
/* riap_sb_writing: state W, bytes_out += n. */
void riap_sb_writing(struct riap_sb_slot *s, size_t n);

#endif
