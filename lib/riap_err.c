/* riap_err.c: one line of diagnostics on fd 2, in one write. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errmsg.h>
#include "riap_err.h"

static void say(const char *kind, const char *fmt, va_list ap)
{
  char buf[4096];
  int n = snprintf(buf, sizeof buf, "%s: %s", argv0 ? argv0 : "riap", kind);
  if (n < 0 || (size_t)n >= sizeof buf - 1) n = 0;
  vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
  n = (int)strlen(buf);
  buf[n++] = '\n';
  if (write(2, buf, (size_t)n) < 0) { /* nowhere else to say it */ }
}

void riap_err_die(int code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  say("fatal: ", fmt, ap);
  va_end(ap);
  exit(code);
}

void riap_err_warn(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  say("warning: ", fmt, ap);
  va_end(ap);
}

void riap_err_info(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  say("", fmt, ap);
  va_end(ap);
}

void riap_err_usage(const char *usage, const char *fmt, ...)
{
  va_list ap;
  if (fmt) {
    va_start(ap, fmt);
    say("fatal: ", fmt, ap);
    va_end(ap);
  }
  die(100, "usage: ", usage);
}
