/* riap_err.h: diagnostics on fd 2 with printf formats, for messages that
 * carry numbers, in the shape of libowfat's carp/die: "PROG: fatal: ...",
 * "PROG: warning: ...", PROG as set by errmsg_iam. Every program exits as
 * daemontools' do, the codes written out at each die: 100 wrong usage, 101
 * an internal bug, 111 a temporary or system failure. */
#ifndef RIAP_ERR_H
#define RIAP_ERR_H

/* riap_err_die: "PROG: fatal: MESSAGE" on fd 2, then exits with code. */
void riap_err_die(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
/* riap_err_warn: "PROG: warning: MESSAGE" on fd 2. */
void riap_err_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* riap_err_info: "PROG: MESSAGE" on fd 2 (what a command did). */
void riap_err_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* riap_err_usage: "PROG: fatal: MESSAGE" (none when fmt is NULL), then
 * "PROG: usage: USAGE" on fd 2; exits 100. */
void riap_err_usage(const char *usage, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

#endif
