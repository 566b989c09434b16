/* riap-sbdump: prints a scoreboard (riap-scoreboard(5)) for tests.
 *   riap-sbdump [-a] [-t] [-H] PATH
 * One JSON object per line per slot in use (-a: every slot), or aligned
 * text (-t); -H prints the header (one JSON object) instead. Exit 0, 111
 * when the file cannot be read as a scoreboard, 100 on usage errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "riap_scoreboard.h"

int main(int argc, char **argv)
{
  struct riap_sb sb;
  int all = 0, text = 0, header = 0, opt;
  unsigned i;
  while ((opt = getopt(argc, argv, "atH")) != -1) {
    if (opt == 'a') all = 1;
    else if (opt == 't') text = 1;
    else if (opt == 'H') header = 1;
    else { fprintf(stderr, "usage: riap-sbdump [-a] [-t] [-H] PATH\n"); return 100; }
  }
  if (optind != argc - 1) { fprintf(stderr, "usage: riap-sbdump [-a] [-t] [-H] PATH\n"); return 100; }
  if (!riap_sb_open(&sb, argv[optind], 0)) {
    fprintf(stderr, "riap-sbdump: fatal: unable to open %s: %s\n", argv[optind], strerror(errno));
    return 111;
  }
  if (header) {
    char name[65];
    struct riap_sb_park pk;
    struct riap_sb_totals t;
    json_t *o;
    char *s;
    memcpy(name, sb.h->name, 64);
    name[64] = 0;
    if (!riap_sb_getpark(&sb, &pk) || !riap_sb_gettotals(&sb, &t)) {
      fprintf(stderr, "riap-sbdump: fatal: the header kept changing\n");
      return 111;
    }
    o = json_pack("{s:i,s:i,s:i,s:i,s:i,s:I,s:I,s:i,s:s}", "version", (int)sb.h->version, "minor", (int)sb.h->minor,
                  "header_size", (int)sb.h->header_size, "slot_size", (int)sb.h->slot_size,
                  "nslots", (int)sb.h->nslots,
                  "listener_pid", (json_int_t)sb.h->listener_pid, "start_us", (json_int_t)sb.h->start_us,
                  "generation", (int)__atomic_load_n(&sb.h->generation, __ATOMIC_ACQUIRE), "name", name);
    json_object_update_new(o, json_pack("{s:I,s:I,s:I}", "parked", (json_int_t)pk.parked, "parks", (json_int_t)pk.parks,
                                    "park_oldest_us", (json_int_t)pk.oldest_us));
    json_object_update_new(o, json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "waiting", (json_int_t)t.waiting,
                                         "accepted", (json_int_t)t.accepted, "refused", (json_int_t)t.refused,
                                         "gone_workers", (json_int_t)t.workers, "gone_requests", (json_int_t)t.requests,
                                         "gone_connections", (json_int_t)t.connections,
                                         "gone_bytes_in", (json_int_t)t.bytes_in, "gone_bytes_out", (json_int_t)t.bytes_out));
    s = json_dumps(o, JSON_COMPACT);
    puts(s);
    free(s);
    json_decref(o);
    return 0;
  }
  if (text) printf("%-4s %-7s %-2s %-3s %8s %6s  %-24s %-10s %s\n", "slot", "pid", "st", "gen", "requests", "conns", "peer", "action", "uri");
  for (i = 0; i < sb.h->nslots; i++) {
    struct riap_sb_slot s;
    char st[2];
    if (!riap_sb_read(&sb, i, &s)) { fprintf(stderr, "riap-sbdump: slot %u kept changing\n", i); continue; }
    if (!all && s.state == RIAP_SB_EMPTY) continue;
    st[0] = s.state ? s.state : '?';
    st[1] = 0;
    if (text) {
      printf("%-4u %-7lld %-2s %-3u %8llu %6llu  %-24s %-10s %s\n", i, (long long)s.pid, st, s.generation,
             (unsigned long long)s.requests, (unsigned long long)s.connections, s.peer, s.action, s.uri);
    } else {
      json_t *o = json_pack("{s:i,s:I,s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s?,s:s?,s:s?}",
                            "slot", (int)i, "pid", (json_int_t)s.pid, "state", st, "generation", (int)s.generation,
                            "requests", (json_int_t)s.requests, "connections", (json_int_t)s.connections,
                            "bytes_in", (json_int_t)s.bytes_in, "bytes_out", (json_int_t)s.bytes_out,
                            "start_us", (json_int_t)s.start_us, "request_us", (json_int_t)s.request_us,
                            "change_us", (json_int_t)s.change_us, "peer", s.peer, "action", s.action, "uri", s.uri);
      char *js;
      if (!o) {   /* bytes that are not UTF-8 in a field: print it without them */
        o = json_pack("{s:i,s:I,s:s,s:I}", "slot", (int)i, "pid", (json_int_t)s.pid, "state", st,
                      "requests", (json_int_t)s.requests);
      }
      js = json_dumps(o, JSON_COMPACT);
      puts(js);
      free(js);
      json_decref(o);
    }
  }
  return 0;
}
