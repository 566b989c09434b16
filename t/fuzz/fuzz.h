/* fuzz.h: what every harness defines. */
#ifndef RIAP_FUZZ_H
#define RIAP_FUZZ_H
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif
