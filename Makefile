# riap-simple: everything is found by globbing, so adding a file never needs
# an edit here: lib/*.c -> libriap.a, cmd/NAME/*.c -> build/bin/NAME,
# t/unit/*.c -> unit test programs (also under ASan+UBSan),
# t/prog/*.c -> helper programs for tests, bench/*.c -> benchmark programs.

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Werror -std=c11 -D_GNU_SOURCE
CPPFLAGS+= -Ilib
LDLIBS   = -lowfat -ljansson -lpcre2-8
SANFLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

B = build

LIB_SRC   := $(sort $(wildcard lib/*.c))
LIB_HDR   := $(wildcard lib/*.h)
LIB_OBJ   := $(LIB_SRC:lib/%.c=$(B)/lib/%.o)
ASAN_OBJ  := $(LIB_SRC:lib/%.c=$(B)/asan/lib/%.o)
CMDS      := $(notdir $(patsubst %/,%,$(wildcard cmd/*/)))
BINS      := $(CMDS:%=$(B)/bin/%)
UNIT_SRC  := $(sort $(wildcard t/unit/*.c))
UNITS     := $(UNIT_SRC:t/unit/%.c=$(B)/t/unit/%)
ASAN_UNITS:= $(UNIT_SRC:t/unit/%.c=$(B)/asan/t/unit/%)
ASAN_BINS := $(CMDS:%=$(B)/asan/bin/%)
PROGS     := $(patsubst t/prog/%.c,$(B)/t/prog/%,$(wildcard t/prog/*.c))
BENCHES   := $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))
MANS      := $(wildcard doc/*.[1-8])

.PHONY: all deps test unit bats run bench install clean
.SECONDEXPANSION:

all: $(BINS) $(PROGS)

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

$(B)/t/prog/%: t/prog/%.c $(B)/libriap.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $< $(B)/libriap.a $(LDLIBS)

$(B)/bench/%: bench/%.c $(B)/libriap.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $< $(B)/libriap.a $(LDLIBS)

# make test: install what is missing, build, run every test, one closing line.
test: deps
	@$(MAKE) --no-print-directory all $(UNITS) $(ASAN_UNITS) $(ASAN_BINS)
	@t/run $(B)

run: deps
	@$(MAKE) --no-print-directory all
	@tools/run $(B)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCHES)
	@bench/run $(B)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	for m in $(MANS); do s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s; done

clean:
	rm -rf $(B)
