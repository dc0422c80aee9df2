# hekv build. Per-object ISA flags (STYLE R5): only kernels/*_ifma.c get AVX-512 flags,
# exactly the features the run-time gate checks (kernels/cpu.c: F, DQ, BW, VL, IFMA);
# everything else builds for baseline x86-64. HEKV_NO_AVX512=1 drops those objects.
# Includes are rooted: internal headers by their path from the top ("src/ring/ring.h"),
# public ones as <hekv/NAME.h> from src/include. Dependencies come from -MMD -MP. CI=true
# (the CI job) turns warnings into errors.
#
# Targets: all (lib + CLI), test, test-full, asan, fuzz, fuzz-run, bench, demo, lint,
# install, uninstall, clean.

CC      ?= gcc
CXX     ?= g++
BUILD   ?= build
PREFIX  ?= /usr/local
OPT     ?= -O3
SOVERSION := 0
INCLUDES := -I. -Isrc/include
WERROR  := $(if $(filter true,$(CI)),-Werror,)
CFLAGS_BASE := -std=gnu11 $(OPT) -g -Wall -Wextra -Wno-unknown-pragmas $(WERROR) -fPIC \
               -fopenmp -fvisibility=hidden $(INCLUDES) -MMD -MP $(EXTRA_CFLAGS)
CXXFLAGS_BASE := -std=gnu++17 $(OPT) -g -Wall -Wextra $(WERROR) -fPIC $(INCLUDES) -MMD -MP \
                 $(EXTRA_CFLAGS)
LDLIBS  := -fopenmp -lsodium -lm
IFMA_FLAGS := -mavx512f -mavx512dq -mavx512vl -mavx512bw -mavx512ifma

ifeq ($(CC),cc)
CC := gcc
endif

LIB_DIRS := kernels src/base src/ring src/ckks bootstrap packing models
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
ifneq ($(HEKV_NO_AVX512),)
LIB_SRCS := $(filter-out %_ifma.c %_avx512.c,$(LIB_SRCS))
CFLAGS_BASE += -DHEKV_NO_AVX512
endif
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_SRCS := $(wildcard src/cli/*.c)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_SRCS := $(filter-out test/fuzz/%,$(wildcard test/*.c test/*/*.c))
TEST_CXX  := $(wildcard test/oracles/*.cpp)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/obj/%.o) $(TEST_CXX:%.cpp=$(BUILD)/obj/%.o)
PUBLIC_HEADERS := $(wildcard src/include/hekv/*.h)
DEPS := $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/obj/*/*/*.d)

.PHONY: all lib cli test test-full test-scalar-build asan fuzz fuzz-link fuzz-run bench demo \
        lint install uninstall clean deps

all: lib cli
lib: $(BUILD)/libhekv.a $(BUILD)/libhekv.so
cli: $(BUILD)/hekv

deps:
	@bash scripts/install-deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/kernels/%_ifma.o: kernels/%_ifma.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(IFMA_FLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS_BASE) -c $< -o $@

-include $(DEPS)

$(BUILD)/libhekv.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# The shared library exports only what HEKV_API marks (-fvisibility=hidden): the public
# headers in src/include/hekv. `nm -D --defined-only build/libhekv.so` lists it.
$(BUILD)/libhekv.so: $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libhekv.so.$(SOVERSION) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/hekv: $(CLI_OBJS) $(BUILD)/libhekv.a
	$(CC) -o $@ $(CLI_OBJS) $(BUILD)/libhekv.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/hekv_tests: $(TEST_OBJS) $(BUILD)/libhekv.a
	$(CXX) -o $@ $(TEST_OBJS) $(BUILD)/libhekv.a $(LDFLAGS) -lcriterion -lntl -lgmp \
	    $(LDLIBS)

# The fast suite (CI). Also proves the scalar-only build (HEKV_NO_AVX512=1) links and
# passes the kernel and ring tests.
test: deps lint
	@$(MAKE) --no-print-directory $(BUILD)/hekv_tests $(BUILD)/hekv
	HEKV_CLI=$(BUILD)/hekv $(BUILD)/hekv_tests --jobs 2
	@$(MAKE) --no-print-directory test-scalar-build

test-scalar-build:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/noavx512 HEKV_NO_AVX512=1 \
	    $(BUILD)/noavx512/hekv_tests $(BUILD)/noavx512/hekv
	$(BUILD)/noavx512/hekv_tests --jobs 2 --filter '@(kernels|ring)*/*'

# Slow, full-size checks (run by hand): larger sweeps and models.
test-full: deps
	@$(MAKE) --no-print-directory $(BUILD)/hekv_tests $(BUILD)/hekv
	HEKV_TEST_FULL=1 HEKV_CLI=$(BUILD)/hekv $(BUILD)/hekv_tests --jobs 2

asan: deps
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/asan OPT=-O1 \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" \
	    LDFLAGS="-fsanitize=address,undefined" $(BUILD)/asan/hekv_tests $(BUILD)/asan/hekv
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    HEKV_CLI=$(BUILD)/asan/hekv $(BUILD)/asan/hekv_tests --jobs 2

# libFuzzer targets of every file loader (test/fuzz): the library is rebuilt with clang into
# $(FUZZ_DIR) through the rules above (so the IFMA objects keep their per-object flags),
# with coverage instrumentation and ASan + UBSan; the arithmetic kernels, the ring layer and
# the per-coefficient limb codec are left out of the coverage feedback
# (test/fuzz/coverage.ignore: their value-dependent branches say nothing about parsing and
# cost most of the time) but keep the sanitizers. The objects are rebuilt when those flags
# change. fuzz-run generates a seed corpus of valid files (test/fuzz/corpus_gen.c) into
# $(FUZZ_DIR)/seeds/NAME for target fuzz_load_NAME and runs each target FUZZ_SECONDS
# seconds (with test/fuzz/fuzz_load_NAME.dict where there is one; FUZZ_FLAGS adds libFuzzer
# options, FUZZ_TARGETS=... runs a subset); the corpus grows in $(FUZZ_DIR)/corpus/NAME and
# crashes land in $(FUZZ_DIR)/artifacts.
FUZZ_CC      ?= clang-14
FUZZ_DIR     ?= build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?=
FUZZ_TARGETS := fuzz_load_params fuzz_load_keys fuzz_load_ct fuzz_load_kv fuzz_load_model \
                fuzz_load_tokenizer fuzz_load_calib fuzz_load_approx fuzz_load_golden \
                fuzz_load_lambada
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
FUZZ_LIB_FLAGS := -fsanitize=fuzzer-no-link $(FUZZ_SAN) \
                  -fsanitize-coverage-ignorelist=test/fuzz/coverage.ignore
FUZZ_CFLAGS  := -std=gnu11 -O1 -g -Wall -Wextra $(INCLUDES) -fopenmp $(FUZZ_SAN)
FUZZ_LIBS    := $(FUZZ_DIR)/libhekv.a -fopenmp -lsodium -lm

fuzz:
	@bash scripts/install-deps.sh fuzz
	@mkdir -p $(FUZZ_DIR)
	@{ echo '$(FUZZ_CC) $(FUZZ_LIB_FLAGS)'; cat test/fuzz/coverage.ignore; } | \
	    cmp -s - $(FUZZ_DIR)/lib.flags || { rm -rf $(FUZZ_DIR)/obj $(FUZZ_DIR)/libhekv.a; \
	    { echo '$(FUZZ_CC) $(FUZZ_LIB_FLAGS)'; cat test/fuzz/coverage.ignore; } \
	        > $(FUZZ_DIR)/lib.flags; }
	@$(MAKE) --no-print-directory CC=$(FUZZ_CC) BUILD=$(FUZZ_DIR) OPT=-O1 \
	    EXTRA_CFLAGS="$(FUZZ_LIB_FLAGS)" $(FUZZ_DIR)/libhekv.a
	@$(MAKE) --no-print-directory fuzz-link

fuzz-link: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%) $(FUZZ_DIR)/corpus_gen

$(FUZZ_DIR)/fuzz_%: test/fuzz/fuzz_%.c test/fuzz/fuzz.h $(FUZZ_DIR)/libhekv.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIBS) -o $@

$(FUZZ_DIR)/corpus_gen: test/fuzz/corpus_gen.c test/fuzz/fuzz.h $(FUZZ_DIR)/libhekv.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $< $(FUZZ_LIBS) -o $@

fuzz-run: fuzz
	rm -rf $(FUZZ_DIR)/seeds && $(FUZZ_DIR)/corpus_gen $(FUZZ_DIR)/seeds
	@mkdir -p $(FUZZ_DIR)/artifacts
	@for t in $(FUZZ_TARGETS); do \
	    name=$${t#fuzz_load_}; \
	    test -d $(FUZZ_DIR)/seeds/$$name || { echo "fuzz-run: no seeds for $$t" >&2; exit 1; }; \
	    dict=; test -f test/fuzz/$$t.dict && dict=-dict=test/fuzz/$$t.dict; \
	    mkdir -p $(FUZZ_DIR)/corpus/$$name; \
	    echo "== $$t ($(FUZZ_SECONDS) s)"; \
	    $(FUZZ_DIR)/$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -timeout=60 \
	        -print_final_stats=1 $$dict $(FUZZ_FLAGS) \
	        -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- \
	        $(FUZZ_DIR)/corpus/$$name $(FUZZ_DIR)/seeds/$$name || exit 1; \
	done

bench: deps cli
	bash scripts/bench.sh

demo: deps cli
	bash scripts/demo.sh

lint:
	bash scripts/check_layers.sh

# The CLI links the static library, so the installed `hekv` needs no LD_LIBRARY_PATH; the
# shared library is installed under its SONAME with the usual links.
VERSION := $(shell sed -n 's/.*HEKV_VERSION_STRING "\(.*\)"/\1/p' src/include/hekv/base.h)
install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/include/hekv $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(BUILD)/libhekv.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libhekv.so $(DESTDIR)$(PREFIX)/lib/libhekv.so.$(VERSION)
	ln -sf libhekv.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libhekv.so.$(SOVERSION)
	ln -sf libhekv.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libhekv.so
	install -m 755 $(BUILD)/hekv $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(PUBLIC_HEADERS) $(DESTDIR)$(PREFIX)/include/hekv/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' scripts/hekv.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/hekv.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libhekv.a $(DESTDIR)$(PREFIX)/lib/libhekv.so \
	    $(DESTDIR)$(PREFIX)/lib/libhekv.so.$(SOVERSION) \
	    $(DESTDIR)$(PREFIX)/lib/libhekv.so.$(VERSION) $(DESTDIR)$(PREFIX)/bin/hekv \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig/hekv.pc
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/include/hekv/,$(notdir $(PUBLIC_HEADERS)))
	-rmdir $(DESTDIR)$(PREFIX)/include/hekv 2>/dev/null

clean:
	rm -rf $(BUILD)
