/* riap_sah.h: Sah schemas (the perl-Sah specification) compiled once and
 * used to validate values, fill defaults and offer completions.
 * Schemas and values are jansson values; binary (buf) values are JSON strings
 * whose code points 0-255 are the bytes. */
#ifndef RIAP_SAH_H
#define RIAP_SAH_H
#include <stddef.h>
#include <jansson.h>

typedef struct sah_schema sah_schema;

#define SAH_ERRMAX 512

/* sah_compile: normalizes and compiles schema (any accepted form);
 * returns the compiled schema, or NULL with a reason in err (SAH_ERRMAX bytes,
 * e.g. "unknown type 'foo'", "clause 'check' needs Perl, not supported"). */
sah_schema *sah_compile(json_t *schema, char *err);

/* sah_normalize: returns a new reference to the normalized form
 * [type, {clauses}, {extras}] (as the spec's normalize_schema), or NULL with err. */
json_t *sah_normalize(json_t *schema, char *err);

/* sah_normalize2: the same normalizer, in the two-element form of Sah
 * 0.9.47+ that Data::Sah::Normalize 0.051 (Perl's servers) returns:
 * [type, {clauses}]; non-empty extras are an error, as there. Returns a
 * new reference, or NULL with err. */
json_t *sah_normalize2(json_t *schema, char *err);

/* sah_validate: checks *value (which may be NULL: absent/undef) against s.
 * Fills defaults: on return *value may be replaced by a new reference (the
 * caller owns whatever *value points to afterwards, as before).
 * Returns 1 if valid; 0 if not, with a caller-facing message in err
 * ("Must be at most 10", "Not of type integer (element 2)"). */
int sah_validate(const sah_schema *s, json_t **value, char *err);

/* sah_validate_typed: like sah_validate, and every valid scalar of a
 * number or bool type, at any depth, is replaced by its JSON form: a
 * numeric string ("2", " 2.5 ") by a number (an int stays integral, a float
 * becomes real), 2.0 for an int by 2, a bool by true or false as Perl's
 * truth has it ("0", "" and 0 are false). Values out of range stay as they
 * are. What riap-handle passes to functions: the Perl server's functions see
 * no difference between "2" and 2, functions reading JSON do. */
int sah_validate_typed(const sah_schema *s, json_t **value, char *err);

/* sah_type: the base type name ("int", "str", ...); never NULL. */
const char *sah_type(const sah_schema *s);

/* sah_is_req: 1 when the schema says req => 1. */
int sah_is_req(const sah_schema *s);

/* sah_default: borrowed reference to the schema's default clause, or NULL. */
json_t *sah_default(const sah_schema *s);

/* sah_completions: a new array of candidate values for completion (from the
 * `in` clause, a scalar `is`, bool -> 0 and 1, small int ranges), or NULL
 * when none. */
json_t *sah_completions(const sah_schema *s);

/* sah_examples: the schema's `examples` clause (values, or {value, summary,
 * valid} objects), borrowed, or NULL when absent or when `in`/`is` name the
 * candidates alone (as Perl's Complete::Sah). */
json_t *sah_examples(const sah_schema *s);

/* sah_elem: the compiled schema of array elements (`of`/`each_elem`), borrowed,
 * or NULL; used by complete_arg_elem. */
const sah_schema *sah_elem(const sah_schema *s);

/* sah_validate_full: like sah_validate, but goes on after an error (except
 * a fatal one) and counts: *nerrors errors, *nwarnings failures of clauses
 * with err_level warn (either pointer may be NULL). Returns 1 if valid. */
int sah_validate_full(const sah_schema *s, json_t **value, char *err, int *nerrors, int *nwarnings);

/* sah_merge_clsets: merges an array of clause sets as the spec does for
 * base schemas (merge.normal./add./concat./subtract./delete./keep.
 * prefixes); returns a new array of clause sets, or NULL with err. */
json_t *sah_merge_clsets(json_t *clsets, char *err);

/* sah_free: frees a compiled schema (NULL is fine); returns nothing. */
void sah_free(sah_schema *s);

#endif
