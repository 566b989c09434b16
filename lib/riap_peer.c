#include <stdlib.h>
#include <string.h>
#include <fmt.h>
#include <scan.h>
#include <str.h>
#include "riap_peer.h"

static void copy_env(char *dest, size_t size, const char *name)
{
  const char *v = getenv(name);
  size_t n = v ? strlen(v) : 0;
  if (n >= size) n = size - 1;
  if (n) memcpy(dest, v, n);
  dest[n] = 0;
}

static unsigned short port_env(const char *name)
{
  const char *v = getenv(name);
  unsigned long u;
  if (!v || !*v || scan_ulong(v, &u) != strlen(v) || u > 65535) return 0;
  return (unsigned short)u;
}

static long id_env(const char *name)
{
  const char *v = getenv(name);
  unsigned long u;
  if (!v || !*v || scan_ulong(v, &u) != strlen(v) || u > 0x7fffffffUL) return -1;
  return (long)u;
}

void riap_peer_from_env(struct riap_peer *p)
{
  const char *proto = getenv("PROTO");
  memset(p, 0, sizeof *p);
  p->uid = p->gid = p->pid = -1;
  if (proto && !strcmp(proto, "TCP") && getenv("TCPREMOTEIP")) {
    p->proto = RIAP_PROTO_TCP;
    copy_env(p->remoteip, sizeof p->remoteip, "TCPREMOTEIP");
    copy_env(p->localip, sizeof p->localip, "TCPLOCALIP");
    p->remoteport = port_env("TCPREMOTEPORT");
    p->localport = port_env("TCPLOCALPORT");
  } else if (proto && !strcmp(proto, "IPC")) {
    p->proto = RIAP_PROTO_IPC;
    p->uid = id_env("IPCREMOTEEUID");
    p->gid = id_env("IPCREMOTEEGID");
    p->pid = id_env("IPCREMOTEPID");
  }
}

static size_t fmt_idfield(char *dest, const char *name, long v, int *first)
{
  size_t n = 0;
  if (v < 0) return 0;
  if (!*first) dest[n++] = ',';
  *first = 0;
  n += fmt_str(dest + n, name);
  n += fmt_ulong(dest + n, (unsigned long)v);
  return n;
}

size_t riap_peer_fmt(char *dest, const struct riap_peer *p)
{
  size_t n = 0;
  int first = 1;
  switch (p->proto) {
    case RIAP_PROTO_TCP:
      if (strchr(p->remoteip, ':')) {
        dest[n++] = '[';
        n += fmt_str(dest + n, p->remoteip);
        dest[n++] = ']';
      } else n += fmt_str(dest + n, p->remoteip);
      dest[n++] = ':';
      n += fmt_ulong(dest + n, p->remoteport);
      break;
    case RIAP_PROTO_IPC:
      n += fmt_str(dest, "unix:");
      n += fmt_idfield(dest + n, "pid=", p->pid, &first);
      n += fmt_idfield(dest + n, "uid=", p->uid, &first);
      n += fmt_idfield(dest + n, "gid=", p->gid, &first);
      break;
    default:
      n += fmt_str(dest, "pipe");
  }
  dest[n] = 0;
  return n;
}

static int add_var(char **envp, int n, char **buf, const char *name, const char *value)
{
  char *s = *buf;
  size_t len = fmt_str(s, name);
  len += fmt_str(s + len, value);
  s[len] = 0;
  *buf = s + len + 1;
  envp[n] = s;
  return n + 1;
}

static int add_num(char **envp, int n, char **buf, const char *name, long v)
{
  char num[24];
  if (v < 0) return n;
  num[fmt_ulong(num, (unsigned long)v)] = 0;
  return add_var(envp, n, buf, name, num);
}

int riap_peer_env(char **envp, int n, char *buf, const struct riap_peer *p)
{
  switch (p->proto) {
    case RIAP_PROTO_TCP:
      n = add_var(envp, n, &buf, "PROTO=", "TCP");
      n = add_var(envp, n, &buf, "TCPREMOTEIP=", p->remoteip);
      n = add_num(envp, n, &buf, "TCPREMOTEPORT=", p->remoteport);
      n = add_var(envp, n, &buf, "TCPLOCALIP=", p->localip);
      n = add_num(envp, n, &buf, "TCPLOCALPORT=", p->localport);
      break;
    case RIAP_PROTO_IPC:
      n = add_var(envp, n, &buf, "PROTO=", "IPC");
      n = add_num(envp, n, &buf, "IPCREMOTEEUID=", p->uid);
      n = add_num(envp, n, &buf, "IPCREMOTEEGID=", p->gid);
      n = add_num(envp, n, &buf, "IPCREMOTEPID=", p->pid);
      break;
    default:
      break;
  }
  return n;
}
