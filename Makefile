# sam2c: the README's commands live here.
#   make            build everything into build/bin (installs missing Debian packages first), and
#                   the web page into web/dist when npm is present (a one-line note otherwise)
#   make test       build and run the default test suite (what CI runs)
#   make serve      build, fetch the default checkpoint/gallery when missing, start the demo server
# Other targets: test-asan, test-slow, fuzz, bench, install, format, format-check, clean,
#   web (the page; needs npm), test-web (page unit tests + browser tests against sam2 serve),
#   soak (sam2 serve under load for SOAK_SECONDS), test-fault (kill -9, full disk, bad checkpoints),
#   test-cluster (three replicas behind HAProxy), bench-cluster (their load figure),
#   test-baseline, test-portable, test-arm64 (portable C kernels, x86-64 without AVX2, arm64).

BUILD      ?= build
JOBS       ?= $(shell nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2)
CMAKE_ARGS ?=
MODEL_SIZE ?= tiny
FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 120
CLUSTER_BENCH_SECONDS ?= 60
CTEST_ARGS ?=

.PHONY: all deps build web web-auto test-web test test-asan test-slow test-tsan test-baseline test-portable test-arm64 soak test-fault test-cluster bench-cluster bench-serve serve inspect fuzz fuzz-build bench install format clean

all: build web-auto

deps:
	@bash scripts/setup.sh

$(BUILD)/CMakeCache.txt:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DSAM2_WERROR=ON $(CMAKE_ARGS) >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

# The web page (web/ -> web/dist), served by `sam2 serve` at /.
web:
	@bash scripts/build_web.sh

web-auto:
	@bash scripts/build_web.sh --auto

# The page's unit tests (vitest) and browser tests (Playwright driving Debian's Chromium against
# `sam2 serve` with the micro checkpoint). Screenshots of every step go to artifacts/web/.
# Without ../shared (SAM2_GOLDEN, SAM2_DATA) the browser tests print SKIP (exit 77, accepted here).
test-web: build
	@SAM2_SETUP_WEB=1 bash scripts/setup.sh
	@bash scripts/build_web.sh
	@cd web && npx vitest run
	@cd web && rc=0; SAM2_BIN=$(abspath $(BUILD))/bin/sam2 node tests/browser/run.mjs || rc=$$?; \
	  [ $$rc = 0 ] || [ $$rc = 77 ] || exit $$rc

# Default suite: unit tests, error tests, micro parity. The tiny-model parity runs in test-slow.
test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow $(CTEST_ARGS)

test-slow: build
	@cd $(BUILD) && ctest --output-on-failure -L slow $(CTEST_ARGS)

# The default suite again on the same build with the vector kernels switched off
# (SAM2_KERNELS=baseline: portable C, GEMMs through OpenBLAS), as on an x86-64 CPU without AVX2.
test-baseline: build
	@cd $(BUILD) && SAM2_KERNELS=baseline ctest --output-on-failure -j $(JOBS) -LE slow $(CTEST_ARGS)

# The packaging build (SAM2_NATIVE=OFF) on an x86-64 CPU without AVX2 (qemu-user emulating a
# Nehalem): cpuid leaves the AVX2 kernels out, test-ops passes on the baseline set alone and the
# micro parity passes (any AVX instruction outside cpu_kernels_avx2.c would stop it with SIGILL).
# Natively the same binaries choose the AVX2 kernels at run time. OpenBLAS is told the core
# (OPENBLAS_CORETYPE): under qemu-user its own detection picks kernels the Nehalem lacks.
PORTABLE_BUILD ?= build-portable
X86_NO_AVX2 = env OPENBLAS_CORETYPE=Nehalem qemu-x86_64 -cpu Nehalem
test-portable: deps
	@SAM2_SETUP_QEMU=1 bash scripts/setup.sh
	@cmake -S . -B $(PORTABLE_BUILD) -DCMAKE_BUILD_TYPE=Release -DSAM2_WERROR=ON -DSAM2_NATIVE=OFF \
	  $(CMAKE_ARGS) >/dev/null
	@cmake --build $(PORTABLE_BUILD) -j $(JOBS) --target test-ops sam2-parity
	@$(PORTABLE_BUILD)/bin/test-ops 2>&1 | tail -1
	@SAM2_TEST_EMULATOR="$(X86_NO_AVX2)" $(X86_NO_AVX2) $(PORTABLE_BUILD)/bin/test-ops >$(PORTABLE_BUILD)/no-avx2.log 2>&1 \
	  || { cat $(PORTABLE_BUILD)/no-avx2.log; exit 1; }
	@grep -q '^1 kernel sets tested' $(PORTABLE_BUILD)/no-avx2.log || { cat $(PORTABLE_BUILD)/no-avx2.log; exit 1; }
	@echo "no AVX2 (qemu -cpu Nehalem): test-ops passed on the baseline set alone"
	@rc=0; $(X86_NO_AVX2) $(PORTABLE_BUILD)/bin/sam2-parity $${SAM2_GOLDEN:-../shared/golden}/micro_golden \
	  | tail -1 || rc=$$?; [ $$rc = 0 ] || [ $$rc = 77 ] || exit $$rc

# The default suite built for Linux on arm64 (Debian's cross toolchain and arm64 libraries,
# cmake/aarch64-linux-gnu.cmake) and run under qemu-user, on the NEON kernels. Tests labelled
# not_emulated (too slow under emulation; README, "Tests") are left out. ARM64_TIER=quick (what
# CI runs) also leaves out the emulated_long ones (tests/CMakeLists.txt).
ARM64_BUILD ?= build-arm64
ARM64_TIER  ?= full
ARM64_EXCLUDE = slow|not_emulated$(if $(filter quick,$(ARM64_TIER)),|emulated_long)
test-arm64:
	@SAM2_SETUP_ARM64=1 bash scripts/setup.sh
	@cmake -S . -B $(ARM64_BUILD) -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
	  -DCMAKE_BUILD_TYPE=Release -DSAM2_WERROR=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build $(ARM64_BUILD) -j $(JOBS)
	@cd $(ARM64_BUILD) && ctest --output-on-failure -j $(JOBS) -LE '$(ARM64_EXCLUDE)' $(CTEST_ARGS)

# Same suite under AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer included), at -O1:
# ASan's usual level, a few times faster than -O0 on the model's loops, with usable stack traces.
test-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG='-g -O1' -DSAM2_WERROR=ON -DSAM2_SANITIZE=ON -DSAM2_NATIVE=OFF $(CMAKE_ARGS) >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) -LE slow $(CTEST_ARGS)

test-tsan: deps
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAM2_TSAN=ON -DSAM2_NATIVE=OFF $(CMAKE_ARGS) >/dev/null
	@cmake --build build-tsan -j $(JOBS)
	@cd build-tsan && ctest --output-on-failure -L tsan $(CTEST_ARGS)

# sam2 serve (micro checkpoint) under 8 client threads for SOAK_SECONDS: fails on a crash, an
# unexpected 5xx, a wrong mask or a leak (RSS growth at quiescent points beyond the bound;
# docs/reliability.md). Figures go to artifacts/soak.txt. Without ../shared it prints SKIP
# (exit 77, accepted here).
soak: build
	@mkdir -p artifacts
	@rc=0; $(BUILD)/bin/sam2-soak --seconds $(SOAK_SECONDS) --out artifacts/soak.txt || rc=$$?; \
	  [ $$rc = 0 ] || [ $$rc = 77 ] || exit $$rc

# kill -9 during an upload and a propagation, a full disk (tmpfs; root only), bad checkpoints.
test-fault: build
	@bash scripts/fault.sh $(BUILD)/bin

# Three sam2 serve replicas (micro checkpoint) behind a real HAProxy running deploy/haproxy.cfg, on
# the loopback address: six clients' flows, affinity, an upload on every replica, kill -9 of a
# replica mid-stream, a drain mid-stream (tests/cluster/). Installs haproxy when missing. Logs go to
# artifacts/cluster/. Without ../shared or haproxy it prints SKIP (exit 77, accepted here).
test-cluster: build
	@SAM2_SETUP_CLUSTER=1 bash scripts/setup.sh
	@mkdir -p artifacts
	@rc=0; $(BUILD)/bin/sam2-cluster --logs artifacts/cluster || rc=$$?; \
	  [ $$rc = 0 ] || [ $$rc = 77 ] || exit $$rc

# The README's load figure: requests/s and click latency through HAProxy, 3 replicas against 1,
# CLUSTER_BENCH_SECONDS each. A benchmark: run it on a quiet machine.
bench-cluster: build
	@SAM2_SETUP_CLUSTER=1 bash scripts/setup.sh
	@$(BUILD)/bin/sam2-cluster --bench $(CLUSTER_BENCH_SECONDS)

# sam2 serve's responsiveness with the real tiny architecture on 2 threads (issue 15): cancel ->
# end of the stream, a click right after a cancel, a click on another session while one streams
# (median and maximum; bench/bench_serve.c). A benchmark, not a test. Skips without ../shared.
bench-serve: build
	@$(BUILD)/bin/bench-serve --threads 2 --reps 5

serve: build web-auto
	@bash scripts/serve.sh

fuzz-build: deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAM2_FUZZ=ON -DSAM2_BUILD_TESTS=OFF $(CMAKE_ARGS) >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

# Runs every fuzz target for FUZZ_SECONDS seconds over its committed seed corpus.
fuzz: fuzz-build
	@bash scripts/fuzz.sh build-fuzz/bin $(FUZZ_SECONDS)

bench: build
	@ls $(BUILD)/bin/bench-* 2>/dev/null

install: build web-auto
	@cmake --install $(BUILD)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

# Fails (listing each place) when a tracked C file differs from the repo's .clang-format.
.PHONY: format-check
format-check: deps
	@clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	@rm -rf $(BUILD) build-asan build-tsan build-fuzz build-arm64 build-portable
