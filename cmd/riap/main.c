/* riap: the command-line client of Riap::Simple servers.
 *   riap [options] ACTION URL [NAME=VALUE ...]   one request, the result on stdout
 *   riap [options] call URL -- WORD...          the call's arguments as argv
 *   riap [options] --stdin URL                   request lines on stdin, pipelined
 * See doc/riap.1. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <errmsg.h>
#include "riap_opt.h"
#include "riap.h"

#include "riap_version.h"

static const char usage_text[] =
  "usage: riap [options] ACTION URL [NAME=VALUE ...]\n"
  "       riap [options] call URL -- WORD...\n"
  "       riap [options] --stdin URL\n";

static const char help_text[] =
  "\n"
  "Sends a Riap::Simple request and prints the result.\n"
  "ACTION: info, actions, meta, list, child_metas, call, complete_arg_val,\n"
  "complete_arg_elem, get. URL: riap+tcp://HOST:PORT/uri,\n"
  "riap+unix:/path/to/sock//uri, riap+pipe:/path/to/prog//arg1/arg2//uri.\n"
  "NAME=VALUE: an argument, the value as JSON when it is valid JSON, else a\n"
  "string; NAME:base64=@FILE sends FILE's bytes (@-: stdin) as binary.\n"
  "-- WORD...: the words after the first -- go as \"argv\" (command-line\n"
  "words the server reads by the function's metadata: --a 2 --b 3, 2 3).\n"
  "\n"
  "Request:\n"
  "      --args JSON            arguments as a JSON object\n"
  "      --args-file FILE       arguments from a file (-: stdin)\n"
  "      --detail               \"detail\": true (actions, list)\n"
  "      --dry-run              \"dry_run\": true (call)\n"
  "      --confirm              \"confirm\": true (call)\n"
  "      --type TYPE            \"type\" (list: package, function, variable)\n"
  "      --recursive            \"recursive\": true (list)\n"
  "  -q, --query Q              \"q\" (list)\n"
  "      --arg NAME             \"arg\" (complete_arg_val, complete_arg_elem)\n"
  "      --word WORD            \"word\" (complete_*)\n"
  "      --index N              \"index\" (complete_arg_elem)\n"
  "      --ci                   \"ci\": true (complete_*)\n"
  "  -k, --key KEY=VALUE        any other request key (value as for arguments)\n"
  "      --v 1.1|1.2            Riap version (default 1.2)\n"
  "Output:\n"
  "      --raw                  the whole envelope [STATUS, MESSAGE, RESULT, META]\n"
  "      --naked                strings (and arrays of strings) without quotes\n"
  "      --binary               a binary (base64) result as raw bytes\n"
  "      --pretty, --compact    indented or one-line JSON (default: indented on\n"
  "                             a terminal)\n"
  "Connection:\n"
  "      --stdin                read request lines (JSON objects or j lines) on\n"
  "                             stdin, send them pipelined, print each envelope\n"
  "      --window N             requests in flight with --stdin (default 64)\n"
  "      --connect-timeout SECS default 10 (0: none)\n"
  "      --timeout SECS         per request, default 120 (0: none)\n"
  "      --retries N            connection attempts after the first (default 2)\n"
  "      --retry-delay SECS     pause between them (default 3)\n"
  "      --max-line BYTES       longest response line (default 64M)\n"
  "  -h, --help                 this text\n"
  "  -V, --version              the version\n"
  "\n"
  "Exit: 0 for a 2xx status, status-300 for 400-555 (404 -> 104), 99 for\n"
  "others, 100 usage, 111 connection or system failure. See riap(1).\n";

static void sleep_ms(int ms)
{
  struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

void conn_open(struct riap_conn *c, const struct opts *o)
{
  unsigned long attempt;
  riap_conn_init(c);
  c->maxline = o->maxline;
  for (attempt = 0;; ++attempt) {
    if (riap_client_open(c, &o->url, o->connect_ms)) return;
    if (c->err == RIAP_CLIENT_ENOMEM) riap_err_die(111, "out of memory");
    if (attempt >= o->retries) break;
    riap_err_warn("%s; retrying in %d.%d s (%lu of %lu)", c->msg, o->retry_delay_ms / 1000,
         o->retry_delay_ms % 1000 / 100, attempt + 1, o->retries);
    sleep_ms(o->retry_delay_ms);
  }
  if (attempt) riap_err_die(111, "%s (%lu attempts)", c->msg, attempt + 1);
  riap_err_die(111, "%s", c->msg);
}

enum { O_ARGS = 256, O_ARGSFILE, O_DETAIL, O_DRYRUN, O_CONFIRM, O_TYPE, O_RECURSIVE, O_ARG,
       O_WORD, O_INDEX, O_CI, O_V, O_RAW, O_NAKED, O_BINARY, O_PRETTY, O_COMPACT, O_STDIN,
       O_WINDOW, O_CTIMEOUT, O_TIMEOUT, O_RETRIES, O_RETRYDELAY, O_MAXLINE };

static const struct option longopts[] = {
  { "args", 1, 0, O_ARGS }, { "args-file", 1, 0, O_ARGSFILE }, { "detail", 0, 0, O_DETAIL },
  { "dry-run", 0, 0, O_DRYRUN }, { "confirm", 0, 0, O_CONFIRM }, { "type", 1, 0, O_TYPE },
  { "recursive", 0, 0, O_RECURSIVE }, { "query", 1, 0, 'q' }, { "arg", 1, 0, O_ARG },
  { "word", 1, 0, O_WORD }, { "index", 1, 0, O_INDEX }, { "ci", 0, 0, O_CI },
  { "key", 1, 0, 'k' }, { "v", 1, 0, O_V }, { "raw", 0, 0, O_RAW }, { "naked", 0, 0, O_NAKED },
  { "binary", 0, 0, O_BINARY }, { "pretty", 0, 0, O_PRETTY }, { "compact", 0, 0, O_COMPACT },
  { "stdin", 0, 0, O_STDIN }, { "window", 1, 0, O_WINDOW },
  { "connect-timeout", 1, 0, O_CTIMEOUT }, { "timeout", 1, 0, O_TIMEOUT },
  { "retries", 1, 0, O_RETRIES }, { "retry-delay", 1, 0, O_RETRYDELAY },
  { "max-line", 1, 0, O_MAXLINE }, { "help", 0, 0, 'h' }, { "version", 0, 0, 'V' },
  { 0, 0, 0, 0 }
};

static void setkey(json_t *req, const char *key, json_t *v)
{
  if (!v || json_object_set_new(req, key, v)) riap_err_die(111, "out of memory");
}

/* the words after the first "--": the call's argv (NULL when there is no
 * "--"); *argc is cut there, so that getopt never sees them */
static json_t *argv_words(int *argc, char **argv)
{
  json_t *w;
  int i, j;
  for (i = 1; i < *argc && strcmp(argv[i], "--"); ++i) {}
  if (i == *argc) return 0;
  if (!(w = json_array())) riap_err_die(111, "out of memory");
  for (j = i + 1; j < *argc; ++j) {
    json_t *s = json_string(argv[j]);
    if (!s) riap_err_usage(USAGE, "a word is not valid UTF-8: %s", argv[j]);
    if (json_array_append_new(w, s)) riap_err_die(111, "out of memory");
  }
  *argc = i;
  return w;
}

/* file scope, so that what is still held when riap exits early (a usage
 * error, -h) stays reachable for the leak checker */
static struct opts o;
static json_t *req, *args, *words;

/* SECS (fractions allowed) as milliseconds; with zero_none, 0 is none: -1 */
static int ms_opt(const char *opt, const char *s, int zero_none)
{
  double d = riap_opt_number(USAGE, opt, s, 0, 2000000);
  if (d == 0 && zero_none) return -1;
  return (int)(d * 1000 + 0.5);
}

/* -k KEY=VALUE: any request key */
static void key_opt(const char *kv)
{
  const char *eq = strchr(kv, '=');
  char key[128];
  if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof key) riap_err_usage(USAGE, "bad --key, expected KEY=VALUE: %s", kv);
  memcpy(key, kv, (size_t)(eq - kv));
  key[eq - kv] = 0;
  setkey(req, key, value_parse(eq + 1));
}

static void help(void)
{
  if (write(1, usage_text, sizeof usage_text - 1) < 0 || write(1, help_text, sizeof help_text - 1) < 0) exit(111);
  exit(0);
}

/* the options: request keys into req and args, the rest into o */
static void options(int argc, char **argv)
{
  int opt;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, "q:k:hV", longopts, NULL)) != -1) {
    switch (opt) {
      case O_ARGS: args_merge(args, optarg, 0); break;
      case O_ARGSFILE: args_merge(args, optarg, 1); break;
      case O_DETAIL: setkey(req, "detail", json_true()); break;
      case O_DRYRUN: setkey(req, "dry_run", json_true()); break;
      case O_CONFIRM: setkey(req, "confirm", json_true()); break;
      case O_TYPE: setkey(req, "type", json_string(optarg)); break;
      case O_RECURSIVE: setkey(req, "recursive", json_true()); break;
      case 'q': setkey(req, "q", json_string(optarg)); break;
      case O_ARG: setkey(req, "arg", json_string(optarg)); break;
      case O_WORD: setkey(req, "word", json_string(optarg)); break;
      case O_INDEX: setkey(req, "index", json_integer((json_int_t)riap_opt_number(USAGE, "--index", optarg, 0, 1 << 30))); break;
      case O_CI: setkey(req, "ci", json_true()); break;
      case 'k': key_opt(optarg); break;
      case O_V:
        if (!strcmp(optarg, "1.2")) o.v12 = 1;
        else if (!strcmp(optarg, "1.1")) o.v12 = 0;
        else riap_err_usage(USAGE, "bad --v, expected 1.1 or 1.2: %s", optarg);
        break;
      case O_RAW: o.raw = 1; break;
      case O_NAKED: o.naked = 1; break;
      case O_BINARY: o.binary = 1; break;
      case O_PRETTY: o.pretty = 1; break;
      case O_COMPACT: o.pretty = 0; break;
      case O_STDIN: o.stdin_mode = 1; break;
      case O_WINDOW: o.window = (unsigned long)riap_opt_number(USAGE, "--window", optarg, 1, 1000000); break;
      case O_CTIMEOUT: o.connect_ms = ms_opt("--connect-timeout", optarg, 1); break;
      case O_TIMEOUT: o.timeout_ms = ms_opt("--timeout", optarg, 1); break;
      case O_RETRIES: o.retries = (unsigned long)riap_opt_number(USAGE, "--retries", optarg, 0, 1000); break;
      case O_RETRYDELAY: o.retry_delay_ms = ms_opt("--retry-delay", optarg, 0); break;
      case O_MAXLINE: o.maxline = (size_t)riap_opt_size(USAGE, "--max-line", optarg, 64, 1ULL << 32); break;
      case 'h': help(); break;
      case 'V': printf("riap %s\n", RIAP_VERSION); exit(0);
      default: riap_err_usage(USAGE, "unknown option or missing value: %s", argv[optind - 1]);
    }
  }
}

/* what comes after the options: the URL, and the ACTION and its
 * arguments unless --stdin */
static void operands(int argc, char **argv)
{
  char msg[RIAP_URL_MSGMAX];
  int i;
  if (o.stdin_mode) {
    if (argc - optind != 1) riap_err_usage(USAGE, argc == optind ? "no URL" : "--stdin takes the URL only, the requests come on stdin");
    if (json_object_size(req) || json_object_size(args) || words) riap_err_usage(USAGE, "--stdin takes no request options, the requests come on stdin");
    o.url_text = argv[optind];
  } else {
    if (argc - optind < 1) riap_err_usage(USAGE, "no ACTION");
    if (argc - optind < 2) riap_err_usage(USAGE, "no URL");
    o.action = argv[optind];
    o.url_text = argv[optind + 1];
    if (!o.action[0] || strspn(o.action, "abcdefghijklmnopqrstuvwxyz_") != strlen(o.action))
      riap_err_usage(USAGE, "bad ACTION: %s", o.action);
    for (i = optind + 2; i < argc; ++i) args_addspec(args, argv[i], o.v12);
    if (words && strcmp(o.action, "call")) riap_err_usage(USAGE, "-- WORD... goes with call only");
    if (words && json_object_size(args)) riap_err_usage(USAGE, "arguments and -- WORD... cannot go together (the server would read argv only)");
  }
  if (!riap_url_parse(&o.url, o.url_text, msg)) riap_err_usage(USAGE, "%s: %s", msg, o.url_text);
}

/* the request: v, action, uri first, then the keys from the options;
 * takes req and args */
static json_t *request_full(void)
{
  json_t *full = json_object(), *v;
  const char *k;
  if (!full) riap_err_die(111, "out of memory");
  setkey(full, "v", json_real(o.v12 ? 1.2 : 1.1));
  setkey(full, "action", json_string(o.action));
  setkey(full, "uri", json_string(o.url.uri));
  json_object_foreach(req, k, v) setkey(full, k, json_incref(v));
  if (json_object_size(args)) setkey(full, "args", json_incref(args));
  if (words) setkey(full, "argv", json_incref(words));
  json_decref(req);
  json_decref(args);
  json_decref(words);
  words = args = 0;
  return full;
}

/* one request, its reply printed; returns the exit code */
static int single(void)
{
  struct riap_conn c;
  json_t *env;
  int rc;
  req = request_full();
  conn_open(&c, &o);
  env = riap_client_request(&c, req, o.timeout_ms);
  json_decref(req);
  if (!env) {
    char why[RIAP_CLIENT_MSGMAX];
    memcpy(why, c.msg, sizeof why);
    if (!riap_client_close(&c, 1000)) riap_err_die(111, "%s (%s)", why, c.msg);
    riap_err_die(111, "%s", why);
  }
  if (!riap_client_close(&c, 2000)) riap_err_warn("%s", c.msg);
  rc = out_reply(env, &o);
  json_decref(env);
  return rc;
}

int main(int argc, char **argv)
{
  int rc;

  errmsg_iam("riap");
  req = json_object();
  args = json_object();
  if (!req || !args) riap_err_die(111, "out of memory");
  memset(&o, 0, sizeof o);
  o.v12 = 1;
  o.pretty = -1;
  o.window = 64;
  o.connect_ms = 10000;
  o.timeout_ms = 120000;
  o.retries = 2;
  o.retry_delay_ms = 3000;
  o.maxline = RIAP_CLIENT_MAXLINE;

  words = argv_words(&argc, argv);
  options(argc, argv);
  operands(argc, argv);
  if (o.stdin_mode) {
    json_decref(req);
    json_decref(args);
    json_decref(words);
    rc = pipeline_run(&o);
  } else {
    rc = single();
  }
  riap_url_free(&o.url);
  return rc;
}
