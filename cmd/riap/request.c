/* request.c: the arguments of a request, from NAME=VALUE words, --args
 * and --args-file. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "riap.h"
#include "riap_bin.h"

int readfile(stralloc *sa, const char *path)
{
  int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
  if (fd < 0) return 0;
  sa->len = 0;
  for (;;) {
    ssize_t r;
    if (!stralloc_readyplus(sa, 65536)) { if (fd) close(fd); errno = ENOMEM; return 0; }
    r = read(fd, sa->s + sa->len, sa->a - sa->len);
    if (r > 0) { sa->len += (size_t)r; continue; }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { int e = errno; if (fd) close(fd); errno = e; return 0; }
    break;
  }
  if (fd) close(fd);
  return 1;
}

json_t *value_parse(const char *s)
{
  json_t *v = json_loads(s, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
  if (!v) v = json_string(s);   /* NULL: not UTF-8 */
  if (!v) riap_err_usage(USAGE, "a value is not valid UTF-8: %s", s);
  return v;
}

void args_addspec(json_t *args, const char *spec, int v12)
{
  const char *eq = strchr(spec, '=');
  size_t nlen;
  char name[256];
  json_t *v;

  if (!eq) riap_err_usage(USAGE, "expected NAME=VALUE: %s", spec);
  nlen = (size_t)(eq - spec);
  if (!nlen) riap_err_usage(USAGE, "no argument name: %s", spec);
  if (nlen >= sizeof name) riap_err_usage(USAGE, "argument name too long: %.60s...", spec);
  memcpy(name, spec, nlen);
  name[nlen] = 0;
  if (nlen > 7 && !strcmp(name + nlen - 7, ":base64")) {
    const char *val = eq + 1;
    stralloc bytes = { 0, 0, 0 };
    if (val[0] == '@') {
      if (!readfile(&bytes, val + 1)) riap_err_die(111, "unable to read %s: %s", val[1] == '-' && !val[2] ? "stdin" : val + 1, strerror(errno));
    } else if (!riap_bin_unbase64(&bytes, val, strlen(val))) {
      riap_err_usage(USAGE, "argument %s: not valid base64 (use %s=@FILE for a file's bytes)", name, name);
    }
    if (v12) {
      v = riap_bin_base64(bytes.s ? bytes.s : "", bytes.len);
    } else {
      /* Riap 1.1 has no base64 form: a string of code points 0-255 */
      name[nlen - 7] = 0;
      v = riap_bin_tojson(bytes.s ? bytes.s : "", bytes.len);
    }
    stralloc_free(&bytes);
    if (!v) riap_err_die(111, "out of memory");
  } else {
    v = value_parse(eq + 1);
  }
  if (json_object_set_new(args, name, v)) riap_err_die(111, "out of memory");
}

void args_merge(json_t *args, const char *text, int isfile)
{
  json_error_t jerr;
  json_t *obj;
  if (isfile) {
    stralloc sa = { 0, 0, 0 };
    if (!readfile(&sa, text)) riap_err_die(111, "unable to read %s: %s", strcmp(text, "-") ? text : "stdin", strerror(errno));
    obj = json_loadb(sa.s ? sa.s : "", sa.len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    stralloc_free(&sa);
    if (!obj) riap_err_usage(USAGE, "--args-file %s: invalid JSON: %s (line %d)", text, jerr.text, jerr.line);
  } else {
    obj = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!obj) riap_err_usage(USAGE, "--args: invalid JSON: %s", jerr.text);
  }
  if (!json_is_object(obj)) {
    json_decref(obj);
    riap_err_usage(USAGE, "%s%s: not a JSON object", isfile ? "--args-file " : "--args", isfile ? text : "");
  }
  if (json_object_update(args, obj)) riap_err_die(111, "out of memory");
  json_decref(obj);
}
