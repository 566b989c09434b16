/* riap_argv.h: command-line words (the argv of a call) turned into a
 * function's arguments by its metadata, with the rules of Perl's
 * Perinci::Sub::GetArgs::Argv (Getopt::Long configured no_ignore_case,
 * permute, bundling, gnu_compat, auto_abbrev) and Perinci::Sub::GetArgs::Array
 * for positional words. */
#ifndef RIAP_ARGV_H
#define RIAP_ARGV_H
#include <jansson.h>

#define RIAP_ARGV_ERRMAX 512

/* riap_argv_args: the arguments that argv (an array of strings) gives by
 * argspecs (the metadata's args object; NULL: a function without args);
 * returns a new object, or NULL with *status (500: an option or a
 * positional word, as Perl's GetOptions and GetArgs::Array fail; 400: an
 * option and a positional word for one argument, or deps) and the reason
 * in why (RIAP_ARGV_ERRMAX bytes, Perl's words: "Unknown option: c"). */
json_t *riap_argv_args(json_t *argspecs, json_t *argv, int *status, char *why);

#endif
