# qmtl: one non-recursive GNU Makefile. Every output goes under build/.
#
#   make                 build the qmtl binary, the SDK testkit and the in-tree plugins
#   make demo            build, scaffold a project with sample data, run it offline
#   make check           build and run every test (unit, fixtures, headers, exports, e2e,
#                        and a short pass of every fuzz target); keeps going after a
#                        failure, ends with "N passed, M failed, K skipped"; all cores
#   make asan            the same tests built with ASan+UBSan in build/asan/
#   make valgrind        unit tests under valgrind (zero errors, zero leaks)
#   make bench           run the benchmarks in bench/ (prints tables)
#   make fuzz            run every libFuzzer target FUZZ_SECONDS (20) each, clang ASan+UBSan
#   make install PREFIX=/usr/local
#   make style           clang-format every source file in place
#   make clean
#
# Variables: VARIANT=default|asan|debug, V=1 for full command lines.

VARIANT ?= default
ifeq ($(VARIANT),default)
B := build
else
B := build/$(VARIANT)
endif

PREFIX ?= /usr/local
CC ?= cc
CXX ?= c++

# Ensure the Debian packages are present before anything is compiled (skipped for
# targets that need none of them). The check runs once and leaves a stamp; it runs
# again when scripts/ensure-deps.sh (the package list) is newer than the stamp, or
# after 'make clean'.
NODEPS_GOALS := clean style help
DEPS_STAMP := build/.deps-ok
ifneq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
ifneq ($(shell test $(DEPS_STAMP) -nt scripts/ensure-deps.sh && echo fresh),fresh)
DEPS_STATUS := $(shell scripts/ensure-deps.sh 1>&2; echo $$?)
ifneq ($(DEPS_STATUS),0)
$(error missing Debian packages: see the message above)
endif
$(shell mkdir -p build && touch $(DEPS_STAMP))
endif
endif

BLAKE3_DIR := $(firstword $(wildcard /usr/share/cargo/registry/blake3-*/c))

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation -Wvla
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g -fPIC $(WARN) -MMD -MP \
        -I. -Icommon -Isdk/include -I$(BLAKE3_DIR)

ifeq ($(VARIANT),asan)
OPT := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDOPT := -fsanitize=address,undefined
else ifeq ($(VARIANT),fuzz)
CC := clang
OPT := -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
       -fno-omit-frame-pointer -Wno-unknown-warning-option
LDOPT := -fsanitize=address,undefined
else ifeq ($(VARIANT),debug)
OPT := -O0
LDOPT :=
else
OPT := -O2
LDOPT :=
endif

CFLAGS ?=
ALL_CFLAGS := $(BASE_CFLAGS) $(OPT) $(CFLAGS)
LIBS := -levent -levent_openssl -lyaml -ljansson -lsqlite3 -lcrypto -lwslay -lnats -ldl -lm -pthread
CHECK_LIBS := -lcheck -lsubunit -lrt -lm -pthread

ifeq ($(V),1)
Q :=
else
Q := @
endif

# ---------------------------------------------------------------- sources
LIB_SRC := $(wildcard common/*.c host/*.c host/*/*.c gateway/*.c dagmanager/*.c cli/*/*.c)
CLI_SRC := $(wildcard cli/*.c)
TESTKIT_SRC := $(wildcard testkit/*.c)
BLAKE3_C := blake3.c blake3_dispatch.c blake3_portable.c
BLAKE3_S := blake3_sse2_x86-64_unix.S blake3_sse41_x86-64_unix.S \
            blake3_avx2_x86-64_unix.S blake3_avx512_x86-64_unix.S

LIB_OBJ := $(LIB_SRC:%.c=$(B)/obj/%.o)
# libqmtl.a holds the runtime (common/, host/), the services (gateway/, dagmanager/) and
# the CLI's own rooms (cli/<room>/: code only the qmtl command uses); the qmtl binary is
# cli/*.c (main and one file per subcommand) on top of it. The runtime alone is what the
# testkit archive carries for a strategy's unit tests.
RUNTIME_OBJ := $(filter $(B)/obj/common/% $(B)/obj/host/%,$(LIB_OBJ))
CLI_OBJ := $(CLI_SRC:%.c=$(B)/obj/%.o)
TESTKIT_OBJ := $(TESTKIT_SRC:%.c=$(B)/obj/%.o)
BLAKE3_OBJ := $(BLAKE3_C:%.c=$(B)/obj/blake3/%.o) $(BLAKE3_S:%.S=$(B)/obj/blake3/%.o)

LIBQMTL := $(B)/lib/libqmtl.a
LIBTESTKIT := $(B)/lib/libqmtl_testkit.a
QMTL := $(B)/bin/qmtl

# In-tree plugins: plugins/<name>.c or plugins/<name>/*.c -> $(B)/plugins/<name>.so
PLUGIN_FLAT := $(patsubst plugins/%.c,%,$(wildcard plugins/*.c))
PLUGIN_DIRS := $(patsubst plugins/%/,%,$(dir $(wildcard plugins/*/*.c)))
PLUGIN_NAMES := $(sort $(PLUGIN_FLAT) $(PLUGIN_DIRS))
PLUGINS := $(PLUGIN_NAMES:%=$(B)/plugins/%.so)

PLUGIN_CFLAGS := -std=c11 -O2 -g -fPIC -fvisibility=hidden -Wall -Wextra -Werror -Isdk/include
PLUGIN_LDFLAGS := -shared -Wl,-z,defs

# Unit tests: tests/unit/check_<module>.c -> $(B)/tests/check_<module>
TEST_SRC := $(wildcard tests/unit/check_*.c)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)
TEST_LOG := $(TEST_BIN:%=%.log)

# Fixture plugins for the loader tests (tests/fixtures/<case>.c -> $(B)/fixtures/<case>.so)
FIXTURE_SRC := $(wildcard tests/fixtures/*.c)
IDENT_VARIANTS := base extra changed pinned
FIXTURES := $(FIXTURE_SRC:tests/fixtures/%.c=$(B)/fixtures/%.so) \
            $(B)/fixtures/not_elf.so $(B)/fixtures/truncated.so \
            $(B)/fixtures/foreign_machine.so $(B)/fixtures/elf32.so \
            $(B)/fixtures/legacy.so $(B)/fixtures/legacy11.so \
            $(IDENT_VARIANTS:%=$(B)/fixtures/ident_%.so) \
            $(B)/fixtures/bus_producer.so $(B)/fixtures/bus_consumer.so \
            $(B)/fixtures/bus_producer_v2.so $(B)/fixtures/bus_consumer_v2.so \
            $(B)/fixtures/bus_watcher.so $(B)/fixtures/bus_trader.so \
            $(B)/fixtures/tagq_source.so $(B)/fixtures/tagq_query.so

# End-to-end scripts: e2e/tNNN-<what>.sh, run after the unit tests
E2E_SRC := $(sort $(wildcard e2e/t[0-9]*.sh))
E2E_LOG := $(E2E_SRC:e2e/%.sh=$(B)/e2e/%.log)

# Benchmarks: bench/bench_<what>.c -> $(B)/bench/bench_<what> (run by bench/run.sh)
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)

# Fuzz targets (libFuzzer): tests/fuzz/fuzz_<what>.c, built by 'make fuzz' with clang
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
FUZZ_SECONDS ?= 20
# the short fuzz pass inside 'make check' (seconds per target; 0 skips it)
CHECK_FUZZ_SECONDS ?= 3

# Every public header must compile on its own (and the SDK header as C++).
HDR_SRC := $(wildcard common/*.h host/*.h host/*/*.h gateway/*.h dagmanager/*.h cli/*/*.h sdk/include/qmtl/*.h)
HDR_OK := $(HDR_SRC:%.h=$(B)/hdr/%.ok)

.PHONY: all demo check test unit e2e asan valgrind bench install clean style help \
        headers exports fuzz fuzz-run
.DEFAULT_GOAL := all

all: $(QMTL) $(LIBTESTKIT) $(PLUGINS)

help:
	@sed -n "2,16p" Makefile | sed 's/^# \{0,1\}//'

# ---------------------------------------------------------------- compile
$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# BLAKE3: the official C sources as installed by Debian's librust-blake3-dev,
# compiled from where the package put them (never copied into the repository).
$(B)/obj/blake3/%.o: $(BLAKE3_DIR)/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      blake3/$*.c")
	$(Q)$(CC) -std=c11 -O3 -g -fPIC $(filter -fsanitize% -fno-sanitize%,$(OPT)) -c $< -o $@

$(B)/obj/blake3/%.o: $(BLAKE3_DIR)/%.S
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS      blake3/$*.S")
	$(Q)$(CC) -fPIC -c $< -o $@

$(LIBQMTL): $(LIB_OBJ) $(BLAKE3_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# The testkit is a front-end of the runtime: its archive holds the testkit and the runtime
# objects only (no gateway, DAG manager or CLI code), so a strategy's test links it alone.
$(LIBTESTKIT): $(TESTKIT_OBJ) $(RUNTIME_OBJ) $(BLAKE3_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(QMTL): $(CLI_OBJ) $(LIBQMTL)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDOPT) -o $@ $(CLI_OBJ) $(LIBQMTL) $(LIBS)

# ---------------------------------------------------------------- plugins
$(B)/plugins/%.so: plugins/%.c sdk/include/qmtl/qmtl.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  PLUGIN  $@")
	$(Q)$(CC) $(PLUGIN_CFLAGS) $(PLUGIN_LDFLAGS) -o $@ $< -lm

.SECONDEXPANSION:
$(B)/plugins/%.so: $$(wildcard plugins/%/*.c) sdk/include/qmtl/qmtl.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  PLUGIN  $@")
	$(Q)$(CC) $(PLUGIN_CFLAGS) $(PLUGIN_LDFLAGS) -o $@ $(filter %.c,$^) -lm

# ---------------------------------------------------------------- fixtures
$(B)/fixtures/%.so: tests/fixtures/%.c sdk/include/qmtl/qmtl.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(PLUGIN_CFLAGS) $(PLUGIN_LDFLAGS) -o $@ $<

# 'unresolved' references a symbol nothing defines: link it without -z,defs so
# the failure happens where it would for a user, at dlopen(RTLD_NOW).
$(B)/fixtures/unresolved.so: tests/fixtures/unresolved.c sdk/include/qmtl/qmtl.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(PLUGIN_CFLAGS) -shared -o $@ $<

# 'legacy' is built against the frozen ABI 1.0 header: a 1.0 plugin must keep loading.
$(B)/fixtures/legacy.so: tests/fixtures/abi10/legacy.c tests/fixtures/abi10/qmtl/qmtl.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) -Itests/fixtures/abi10 $(PLUGIN_CFLAGS) $(PLUGIN_LDFLAGS) -o $@ $<

# 'legacy11' is built against the frozen ABI 1.1 header: a 1.1 plugin must keep loading.
$(B)/fixtures/legacy11.so: tests/fixtures/abi11/legacy11.c tests/fixtures/abi11/qmtl/qmtl.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) -Itests/fixtures/abi11 $(PLUGIN_CFLAGS) $(PLUGIN_LDFLAGS) -o $@ $<

# One source, four builds, for the code identity of custom nodes (check_host_api).
$(B)/fixtures/ident_%.so: tests/fixtures/ident/ident.c sdk/include/qmtl/qmtl.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(PLUGIN_CFLAGS) $(if $(filter-out base,$*),-DIDENT_$(shell echo $* | tr a-z A-Z)) \
	  $(PLUGIN_LDFLAGS) -o $@ $<

# One source, two strategies sharing nodes, in two versions, for the scale-out e2e
# (t130-bus, t133-bus-three, t138-bus-orders) and check_bus.
$(B)/fixtures/bus_%.so: tests/fixtures/bus/bus.c sdk/include/qmtl/qmtl.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(PLUGIN_CFLAGS) $(if $(findstring consumer,$*),-DBUS_CONSUMER) \
	  $(if $(findstring watcher,$*),-DBUS_CONSUMER -DBUS_WATCHER) \
	  $(if $(findstring trader,$*),-DBUS_TRADER) \
	  $(if $(findstring _v2,$*),-DBUS_V2) $(PLUGIN_LDFLAGS) -o $@ $<

# One source, a tagged node and a tag query, for tag queries across hosts (t132).
$(B)/fixtures/tagq_%.so: tests/fixtures/tagq/tagq.c sdk/include/qmtl/qmtl.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(PLUGIN_CFLAGS) $(if $(filter source,$*),-DTAGQ_SOURCE) $(PLUGIN_LDFLAGS) -o $@ $<

$(B)/fixtures/not_elf.so:
	@mkdir -p $(dir $@)
	$(Q)printf 'this is not a shared object\n' > $@

$(B)/fixtures/truncated.so: $(B)/fixtures/ok.so
	$(Q)head -c 600 $< > $@

# ok.so patched as data: e_machine EM_ARM (40), and EI_CLASS ELFCLASS32
$(B)/fixtures/foreign_machine.so: $(B)/fixtures/ok.so
	$(Q)cp $< $@.tmp && printf '\050\000' | dd of=$@.tmp bs=1 seek=18 conv=notrunc status=none && mv $@.tmp $@

$(B)/fixtures/elf32.so: $(B)/fixtures/ok.so
	$(Q)cp $< $@.tmp && printf '\001' | dd of=$@.tmp bs=1 seek=4 conv=notrunc status=none && mv $@.tmp $@

# ---------------------------------------------------------------- tests
$(B)/tests/check_%: tests/unit/check_%.c $(LIBTESTKIT) $(LIBQMTL)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDOPT) -o $@ $< $(LIBTESTKIT) $(LIBQMTL) $(CHECK_LIBS) $(LIBS)

# Leaks inside libraries we do not control (tests/lsan.supp says which and why).
LSAN_ENV := $(if $(filter asan,$(VARIANT)),LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0,)

# Check's per-test timeout (4 s) times this: a loaded machine or a sanitizer build is
# slower, and a unit test asserts no timing.
CK_TIMEOUT_MULTIPLIER ?= 10

# Each suite writes a log and a one-word result next to it (<log>.result: pass, fail
# or skip) that 'make check' counts; a failing suite prints its log and fails its target.
$(B)/tests/%.log: $(B)/tests/% $(FIXTURES) $(PLUGINS) $(QMTL)
	$(Q)rm -f $@.result; QMTL_BUILD=$(B) QMTL_VARIANT=$(VARIANT) \
	  QMTL_NO_DLCLOSE=$(if $(filter asan,$(VARIANT)),1,) CK_TIMEOUT_MULTIPLIER=$(CK_TIMEOUT_MULTIPLIER) \
	  $(LSAN_ENV) ./$< > $@.tmp 2>&1; rc=$$?; \
	  if [ $$rc -ne 0 ]; then cat $@.tmp; echo "FAIL: $<"; echo fail > $@.result; exit 1; fi; \
	  grep -h '^[0-9]*%: Checks' $@.tmp | sed 's|^|  $(notdir $<): |'; mv $@.tmp $@; echo pass > $@.result

$(B)/e2e/%.log: e2e/%.sh $(QMTL) $(PLUGINS) $(LIBTESTKIT)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@.result; QMTL_BUILD=$(B) QMTL_VARIANT=$(VARIANT) QMTL=$(abspath $(QMTL)) \
	  $(LSAN_ENV) bash $< > $@.tmp 2>&1; rc=$$?; \
	  if [ $$rc -eq 77 ]; then echo "  e2e $*: skipped ($$(sed -n 's/^# skipped: //p' $@.tmp | head -1))"; \
	    mv $@.tmp $@; echo skip > $@.result; exit 0; fi; \
	  if [ $$rc -ne 0 ]; then cat $@.tmp; echo "FAIL: e2e/$*.sh"; echo fail > $@.result; exit 1; fi; \
	  echo "  e2e $*: $$(grep -c '^ok' $@.tmp) ok"; mv $@.tmp $@; echo pass > $@.result

$(B)/hdr/%.ok: %.h
	@mkdir -p $(dir $@)
	$(Q)printf '#include "%s"\n' $< | $(CC) $(ALL_CFLAGS) -MF /dev/null -fsyntax-only -x c - && touch $@

$(B)/hdr/sdk-cxx.ok: sdk/include/qmtl/qmtl.h sdk/include/qmtl/testkit.h
	@mkdir -p $(dir $@)
	$(Q)printf '#include <qmtl/qmtl.h>\n#include <qmtl/testkit.h>\nint main(){return 0;}\n' | \
	  $(CXX) -std=c++11 -Wall -Wextra -Werror -Isdk/include -fsyntax-only -x c++ - && touch $@

headers: $(HDR_OK) $(B)/hdr/sdk-cxx.ok

# Every plugin the project builds exports exactly the descriptor symbol.
exports: $(PLUGINS) $(B)/fixtures/ok.so
	$(Q)scripts/check-exports.sh $(PLUGINS) $(B)/fixtures/ok.so

unit: $(TEST_LOG)
e2e: $(E2E_LOG)

# 'make check' runs every unit suite, then every e2e script, then a short fuzz pass,
# keeping on after a failure, and ends with one line: N passed, M failed, K skipped.
# Without -j it uses every core (nproc).
check: all headers exports
	$(Q)rm -f $(TEST_LOG) $(E2E_LOG) $(TEST_LOG:%=%.result) $(E2E_LOG:%=%.result)
	$(Q)case " $$MAKEFLAGS" in *" -j"*) J= ;; *) J=-j$$(nproc) ;; esac; \
	  $(MAKE) --no-print-directory $$J -k unit || true; \
	  $(MAKE) --no-print-directory $$J -k e2e || true
ifeq ($(VARIANT),default)
	$(Q)rm -f build/fuzz/fuzz/*.log.result; \
	  $(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS) FUZZ_SHORT=1 || true
endif
	$(Q)scripts/test-summary.sh "make check$(if $(filter-out default,$(VARIANT)), ($(VARIANT)))" \
	  $(TEST_LOG:%=%.result) $(E2E_LOG:%=%.result) \
	  $(if $(filter default,$(VARIANT)),$(FUZZ_SRC:tests/fuzz/fuzz_%.c=build/fuzz/fuzz/%.log.result))

test: check

asan:
	$(Q)$(MAKE) --no-print-directory VARIANT=asan check

valgrind: all $(TEST_BIN) $(FIXTURES)
	$(Q)scripts/run-valgrind.sh $(B) $(TEST_BIN)

$(B)/bench/bench_%: bench/bench_%.c $(LIBTESTKIT) $(LIBQMTL)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  BENCH   $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDOPT) -o $@ $< $(LIBTESTKIT) $(LIBQMTL) $(LIBS)

bench: all $(BENCH_BIN)
	$(Q)bash bench/run.sh $(B)

# Fuzzing: each target runs FUZZ_SECONDS on a copy of its seed corpus
# (tests/fuzz/corpus/<what>/); a crash or leak fails the target.
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIBQMTL)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(LDOPT) -o $@ $< $(LIBQMTL) $(LIBS)

fuzz:
	$(Q)if [ "$(FUZZ_SECONDS)" != 0 ]; then $(MAKE) --no-print-directory VARIANT=fuzz fuzz-run; fi

# Every target runs even when one fails; each leaves <name>.log.result (pass|fail).
fuzz-run: $(FUZZ_BIN)
	$(Q)if [ -n "$(FUZZ_SHORT)" ]; then \
	  echo "  fuzz: short pass, $(words $(FUZZ_BIN)) targets x $(FUZZ_SECONDS) s (make fuzz runs each longer)"; fi; \
	failed=0; for f in $(FUZZ_BIN); do n=$$(basename $$f); n=$${n#fuzz_}; \
	  rm -rf $(B)/fuzz/corpus-$$n $(B)/fuzz/$$n.log.result; mkdir -p $(B)/fuzz/corpus-$$n; \
	  if [ -d tests/fuzz/corpus/$$n ]; then cp tests/fuzz/corpus/$$n/* $(B)/fuzz/corpus-$$n/ 2>/dev/null; fi; \
	  echo "  fuzz $$n for $(FUZZ_SECONDS)s"; \
	  if $$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -print_final_stats=0 \
	    $(B)/fuzz/corpus-$$n > $(B)/fuzz/$$n.log 2>&1; then echo pass > $(B)/fuzz/$$n.log.result; \
	  else tail -40 $(B)/fuzz/$$n.log; echo "FAIL: fuzz $$n"; echo fail > $(B)/fuzz/$$n.log.result; failed=1; fi; \
	done; exit $$failed

demo: all
	$(Q)bash scripts/demo.sh $(B)

# ---------------------------------------------------------------- install
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include/qmtl \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/share/qmtl
	install -m 755 $(QMTL) $(DESTDIR)$(PREFIX)/bin/qmtl
	install -m 644 sdk/include/qmtl/*.h $(DESTDIR)$(PREFIX)/include/qmtl/
	install -m 644 $(LIBTESTKIT) $(DESTDIR)$(PREFIX)/lib/
	sed -e 's|@PREFIX@|$(PREFIX)|g' scripts/qmtl.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/qmtl.pc
	if [ -d scaffold ]; then cp -R scaffold/. $(DESTDIR)$(PREFIX)/share/qmtl/; fi

style:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

# Dependency files of every object, test, bench and fuzz binary (-MMD -MP).
-include $(shell find $(B)/obj -name '*.d' 2>/dev/null) \
  $(wildcard $(B)/tests/*.d $(B)/bench/*.d $(B)/fuzz/*.d)
