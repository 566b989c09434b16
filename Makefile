# riap-simple: everything is found by globbing, so adding a file never needs
# an edit here: lib/*.c and lib/sah/*.c -> libriap.a, cmd/NAME/*.c -> build/bin/NAME,
# t/unit/*.c -> unit test programs (also under ASan+UBSan),
# t/prog/*.c -> helper programs for tests, t/static/*.c -> the same linked
# statically (functions for chroot tests), bench/*.c -> benchmark programs.

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Werror -std=c11 -D_GNU_SOURCE
CPPFLAGS+= -Ilib -Ilib/sah
LDLIBS   = -lowfat -ljansson -lpcre2-8
SANFLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

B = build

LIB_SRC   := $(sort $(wildcard lib/*.c lib/sah/*.c))
LIB_HDR   := $(wildcard lib/*.h lib/sah/*.h)
LIB_OBJ   := $(LIB_SRC:lib/%.c=$(B)/lib/%.o)
ASAN_OBJ  := $(LIB_SRC:lib/%.c=$(B)/asan/lib/%.o)
CMDS      := $(notdir $(patsubst %/,%,$(wildcard cmd/*/)))
BINS      := $(CMDS:%=$(B)/bin/%)
UNIT_SRC  := $(sort $(wildcard t/unit/*.c))
UNITS     := $(UNIT_SRC:t/unit/%.c=$(B)/t/unit/%)
ASAN_UNITS:= $(UNIT_SRC:t/unit/%.c=$(B)/asan/t/unit/%)
ASAN_BINS := $(CMDS:%=$(B)/asan/bin/%)
PROGS     := $(patsubst t/prog/%.c,$(B)/t/prog/%,$(wildcard t/prog/*.c))
STATICS   := $(patsubst t/static/%.c,$(B)/t/static/%,$(wildcard t/static/*.c))
BENCHES   := $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))
MANS      := $(wildcard doc/*.[1-8])
FUZZ_SRC  := $(filter-out t/fuzz/replay.c,$(wildcard t/fuzz/*.c))
FUZZ_NAMES:= $(FUZZ_SRC:t/fuzz/%.c=%)
REPLAYS   := $(FUZZ_NAMES:%=$(B)/asan/t/fuzz/%)
FUZZERS   := $(FUZZ_NAMES:%=$(B)/fuzz/%)
FUZZ_SECONDS ?= 10
FUZZ_CC   ?= clang
FUZZFLAGS = -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer

.PHONY: all deps test check unit run bench install clean fuzz
.SECONDEXPANSION:

all: $(BINS) $(PROGS) $(STATICS)

deps:
	@tools/deps

$(B)/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -c -o $@ $<

$(B)/asan/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(SANFLAGS) -c -o $@ $<

$(B)/libriap.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(B)/asan/libriap.a: $(ASAN_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(B)/bin/%: $$(wildcard cmd/%/*.c) $$(wildcard cmd/%/*.h) $(B)/libriap.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Icmd/$* $(WARN) $(CFLAGS) -o $@ $(wildcard cmd/$*/*.c) $(B)/libriap.a $(LDLIBS)

# the programs under ASan+UBSan, for the leak and sanitizer tests
$(B)/asan/bin/%: $$(wildcard cmd/%/*.c) $$(wildcard cmd/%/*.h) $(B)/asan/libriap.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Icmd/$* $(WARN) $(SANFLAGS) -o $@ $(wildcard cmd/$*/*.c) $(B)/asan/libriap.a $(LDLIBS)

$(B)/t/unit/%: t/unit/%.c t/unit/unit.h $(B)/libriap.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -It/unit $(WARN) $(CFLAGS) -o $@ $< $(B)/libriap.a $(LDLIBS)

$(B)/asan/t/unit/%: t/unit/%.c t/unit/unit.h $(B)/asan/libriap.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -It/unit $(WARN) $(SANFLAGS) -o $@ $< $(B)/asan/libriap.a $(LDLIBS)

# fuzz harnesses: replayed on their corpus under ASan+UBSan by make test ...
$(B)/asan/t/fuzz/%: t/fuzz/%.c t/fuzz/replay.c t/fuzz/fuzz.h $(B)/asan/libriap.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -It/fuzz $(WARN) $(SANFLAGS) -o $@ $< t/fuzz/replay.c $(B)/asan/libriap.a $(LDLIBS)

# ... and run with libFuzzer by make fuzz (clang)
$(B)/fuzz/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZFLAGS) -c -o $@ $<

$(B)/fuzz/libriap.a: $(LIB_SRC:lib/%.c=$(B)/fuzz/lib/%.o)
	rm -f $@ && ar rcs $@ $^

$(B)/fuzz/%: t/fuzz/%.c t/fuzz/fuzz.h $(B)/fuzz/libriap.a
	$(FUZZ_CC) $(CPPFLAGS) -It/fuzz $(WARN) $(FUZZFLAGS) -fsanitize=fuzzer -o $@ $< $(B)/fuzz/libriap.a $(LDLIBS)

$(B)/t/prog/%: t/prog/%.c $(B)/libriap.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $< $(B)/libriap.a $(LDLIBS)

# nothing but themselves: they run in a chroot holding only the code tree
$(B)/t/static/%: t/static/%.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -static -o $@ $<

$(B)/bench/%: bench/%.c $(B)/libriap.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $< $(B)/libriap.a $(LDLIBS)

# make test: install what is missing, build, run every test, one closing line.
test: deps
	@$(MAKE) --no-print-directory all $(UNITS) $(ASAN_UNITS) $(ASAN_BINS) $(REPLAYS)
	@t/run $(B)

# make check: the edit-compile-test loop: unit tests (plain and ASan+UBSan),
# the fuzz corpus replayed and the Sah conformance suite; no bats, no deps
check:
	@$(MAKE) --no-print-directory all $(UNITS) $(ASAN_UNITS) $(REPLAYS)
	@t/run --fast $(B)

# make unit: the unit test programs of lib/, plain and under ASan+UBSan
unit: $(UNITS) $(ASAN_UNITS)
	@for u in $(UNITS) $(ASAN_UNITS); do echo "# $$u"; $$u || exit 1; done

# make fuzz FUZZ_SECONDS=N: every harness for N seconds from its seed corpus
fuzz:
	@tools/deps fuzz
	@$(MAKE) --no-print-directory $(FUZZERS)
	@tools/fuzz $(B) $(FUZZ_SECONDS) $(FUZZ_NAMES)

run: deps
	@$(MAKE) --no-print-directory all
	@tools/run $(B)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCHES)
	@RIAP_ALLOW_ROOT=1 bench/run $(B)

# make bench-compare: the last make bench against the one before it
.PHONY: bench-compare
bench-compare:
	@bench/compare

install: all
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	for m in $(MANS); do s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s && install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done

clean:
	rm -rf $(B)
