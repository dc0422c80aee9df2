# hekv build. Per-object ISA flags (STYLE R5): only kernels/*_ifma.c get AVX-512 flags;
# everything else builds for baseline x86-64. HEKV_NO_AVX512=1 drops those objects.
#
# Targets: all (lib + CLI), test, test-full, asan, bench, demo, lint, install, clean.

CC      ?= gcc
CXX     ?= g++
BUILD   ?= build
PREFIX  ?= /usr/local
OPT     ?= -O3
CFLAGS_BASE := -std=gnu11 $(OPT) -g -Wall -Wextra -Wno-unknown-pragmas -fPIC -fopenmp \
               -fvisibility=hidden -I. $(EXTRA_CFLAGS)
CXXFLAGS_BASE := -std=gnu++17 $(OPT) -g -Wall -Wextra -fPIC -I. $(EXTRA_CFLAGS)
LDLIBS  := -fopenmp -lsodium -lm
IFMA_FLAGS := -mavx512f -mavx512dq -mavx512vl -mavx512bw -mavx512ifma -mavx512vbmi2

ifeq ($(CC),cc)
CC := gcc
endif

LIB_DIRS := src/common kernels src/ring src/ckks bootstrap packing models
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
ifneq ($(HEKV_NO_AVX512),)
LIB_SRCS := $(filter-out %_ifma.c %_avx512.c,$(LIB_SRCS))
CFLAGS_BASE += -DHEKV_NO_AVX512
endif
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_SRCS := $(wildcard src/cli/*.c)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_SRCS := $(wildcard test/*.c test/*/*.c)
TEST_CXX  := $(wildcard test/oracles/*.cpp)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/obj/%.o) $(TEST_CXX:%.cpp=$(BUILD)/obj/%.o)
HEADERS := $(foreach d,$(LIB_DIRS) src/cli test test/oracles test/models,$(wildcard $(d)/*.h))

.PHONY: all lib cli test test-full test-scalar-build asan bench demo lint install clean deps

all: lib cli
lib: $(BUILD)/libhekv.a $(BUILD)/libhekv.so
cli: $(BUILD)/hekv

deps:
	@bash scripts/install-deps.sh

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/kernels/%_ifma.o: kernels/%_ifma.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(IFMA_FLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.cpp $(HEADERS)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS_BASE) -c $< -o $@

$(BUILD)/libhekv.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libhekv.so: $(LIB_OBJS)
	$(CC) -shared -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/hekv: $(CLI_OBJS) $(BUILD)/libhekv.a
	$(CC) -o $@ $(CLI_OBJS) $(BUILD)/libhekv.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/hekv_tests: $(TEST_OBJS) $(BUILD)/libhekv.a
	$(CXX) -o $@ $(TEST_OBJS) $(BUILD)/libhekv.a $(LDFLAGS) -lcriterion -lntl -lgmp \
	    $(LDLIBS)

# The fast suite (CI). Also proves the scalar-only build (HEKV_NO_AVX512=1) links and
# passes the kernel and ring tests.
test: deps
	@$(MAKE) --no-print-directory $(BUILD)/hekv_tests $(BUILD)/hekv
	$(BUILD)/hekv_tests --jobs 2
	@$(MAKE) --no-print-directory test-scalar-build

test-scalar-build:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/noavx512 HEKV_NO_AVX512=1 \
	    $(BUILD)/noavx512/hekv_tests $(BUILD)/noavx512/hekv
	$(BUILD)/noavx512/hekv_tests --jobs 2 --filter '@(kernels|ring)*/*'

# Slow, full-size checks (run by hand): larger sweeps and models.
test-full: deps
	@$(MAKE) --no-print-directory $(BUILD)/hekv_tests $(BUILD)/hekv
	HEKV_TEST_FULL=1 $(BUILD)/hekv_tests --jobs 2

asan: deps
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/asan OPT=-O1 \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" \
	    LDFLAGS="-fsanitize=address,undefined" $(BUILD)/asan/hekv_tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    $(BUILD)/asan/hekv_tests --jobs 2

bench: deps cli
	bash scripts/bench.sh

demo: deps cli
	bash scripts/demo.sh

lint:
	bash scripts/check_layers.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/include/hekv $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(BUILD)/libhekv.a $(BUILD)/libhekv.so $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/hekv $(DESTDIR)$(PREFIX)/bin/
	for h in $(filter-out test/% src/cli/%,$(HEADERS)); do \
	    install -D -m 644 $$h $(DESTDIR)$(PREFIX)/include/hekv/$$h; done
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|0.1.0|g' scripts/hekv.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/hekv.pc

clean:
	rm -rf $(BUILD)
