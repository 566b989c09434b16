/* riap_envdir.h: one variable of an environment directory (env/ of a
 * service), read as s6-envdir and runit's chpst -e read it: the file's
 * first line, trailing blanks removed, NUL bytes as newlines; an empty
 * file unsets the variable. */
#ifndef RIAP_ENVDIR_H
#define RIAP_ENVDIR_H
#include <stddef.h>

/* riap_envdir_get: DIR/NAME's value into buf (size bytes, NUL-terminated).
 * Returns 1 with a value, 0 when the file is missing or empty (unset), -1
 * with errno on a read error or a value that does not fit (ENAMETOOLONG). */
int riap_envdir_get(const char *dir, const char *name, char *buf, size_t size);

#endif
