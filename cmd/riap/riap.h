/* riap.h: what the files of riap (the command-line client) share. */
#ifndef RIAP_CMD_H
#define RIAP_CMD_H
#include <stddef.h>
#include <stralloc.h>
#include <jansson.h>
#include "riap_client.h"
#include "riap_url.h"
#include "riap_err.h"

/* the usage lines of usage errors ("riap: usage: " before the first) */
#define USAGE "riap [options] ACTION URL [NAME=VALUE ...]\n" \
              "             riap [options] call URL -- WORD...\n" \
              "             riap [options] --stdin URL"

struct opts {
  const char *action;           /* single mode: the action */
  const char *url_text;         /* the URL as given */
  struct riap_url url;
  int v12;                      /* --v: 1 for 1.2 (default), 0 for 1.1 */
  int raw, naked, binary;       /* output modes */
  int pretty;                   /* 1 pretty, 0 one line; -1: pretty on a terminal */
  int stdin_mode;               /* --stdin */
  unsigned long window;         /* --window */
  int connect_ms, timeout_ms;   /* -1: none */
  unsigned long retries;        /* --retries */
  int retry_delay_ms;           /* --retry-delay */
  size_t maxline;               /* --max-line */
};

/* main.c */
/* conn_open: connects c to o->url, retrying a failed connect o->retries
 * times; exits 111 with a message when every attempt failed. */
void conn_open(struct riap_conn *c, const struct opts *o);

/* request.c */
/* args_addspec: adds one NAME=VALUE (or NAME:base64=@FILE) to args; exits 100
 * on a malformed spec, 111 when a file cannot be read. */
void args_addspec(json_t *args, const char *spec, int v12);
/* args_merge: parses text (--args) or the file named by text (--args-file,
 * "-": stdin) as a JSON object and merges it into args; exits 100/111. */
void args_merge(json_t *args, const char *text, int isfile);
/* readfile: replaces sa's contents with the whole file path ("-": stdin);
 * returns 1, 0 with errno. */
int readfile(stralloc *sa, const char *path);
/* value_parse: the JSON value of s when s is valid JSON, else s as a string;
 * a new reference. */
json_t *value_parse(const char *s);

/* output.c */
/* out_json: appends v as JSON to sa: pretty (2-space indent) or one line. */
int out_json(stralloc *sa, const json_t *v, int pretty);
/* out_write: writes all of sa to fd 1 and empties it; exits 111 on failure. */
void out_write(stralloc *sa);
/* out_reply: prints a single request's reply according to o; returns the
 * exit code (0 for 2xx, see status_exit). */
int out_reply(const json_t *env, const struct opts *o);
/* status_exit: the exit code for a Riap status: 0 for 2xx, status - 300
 * for 400-555, 99 otherwise. */
int status_exit(long long status);
/* out_escape: appends up to cap bytes of s (n bytes), control and non-ASCII
 * bytes as \xNN, for messages. */
void out_escape(stralloc *sa, const char *s, size_t n, size_t cap);

/* pipeline.c */
/* pipeline_run: --stdin: sends the request lines read on stdin, pipelined
 * within o->window, prints each envelope on its own line in order;
 * returns the exit code. */
int pipeline_run(const struct opts *o);

#endif
