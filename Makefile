# MinimalOS: `make run` boots to the console, `make test` checks everything. See README.md.

TOOLCHAIN  := 1.98.0
TARGETS    := x86_64-unknown-none wasm32-unknown-unknown x86_64-unknown-uefi wasm32-wasip1
# The host triple, looked up when used (after `toolchain` has run).
HOST        = $(shell rustc -vV | sed -n "s/^host: //p")
RUNNER     := cargo run -q --bin minimalos --
# The interpreter actors run on: tinywasm (the default) or wasmi (kernel/src/wasm/engine).
ENGINE     ?= tinywasm
export ENGINE
# The same choice for the kernel built for the host (its own tests, sdk-host, fuzzing).
KERNEL_FEATURES = $(if $(filter wasmi,$(ENGINE)),--features wasmi)
HOST_FEATURES   = $(if $(filter wasmi,$(ENGINE)),--features kernel/wasmi)
OTHER_ENGINE    = $(if $(filter wasmi,$(ENGINE)),tinywasm,wasmi)
# Every crate under actors/ and examples/ (the package is named like its folder): actors and
# their libraries.
ACTOR_CRATES = $(addprefix -p ,$(notdir $(patsubst %/Cargo.toml,%,$(wildcard actors/*/Cargo.toml examples/*/Cargo.toml))))
# Every crate under programs/: unmodified Rust std programs for wasm32-wasip1.
PROGRAM_CRATES = $(addprefix -p ,$(notdir $(patsubst %/Cargo.toml,%,$(wildcard programs/*/Cargo.toml))))
# How the cc crate compiles the C inside those crates (SQLite's): build.rs's PROGRAM_C_ENV.
PROGRAM_C_ENV := CC_wasm32_wasip1=clang AR_wasm32_wasip1=llvm-ar \
	CFLAGS_wasm32_wasip1="-nostdlibinc -idirafter /usr/include/wasm32-wasi -Os"
# Debian's C toolchain for WASI (programs/*.c, SQLite in programs/sqlite_demo).
WASI_C_PACKAGES := clang lld llvm wasi-libc libclang-rt-dev-wasm32

.PHONY: iso run debug bench profile yardstick fuzz test host-test boot-test lint fmt toolchain clean

# ACTORS="a.wasm b.wasm" packs extra actors into the ramdisk (so do .wasm files in extra-actors/);
# FILES="notes.txt data/" packs files and directory trees under their names (so does extra-files/);
# CMDLINE="log=debug slice_us=500" replaces the kernel command line of limine/limine.conf.
iso: toolchain
	ACTORS="$(ACTORS)" FILES="$(FILES)" CMDLINE="$(CMDLINE)" $(RUNNER) iso

run: toolchain
	ACTORS="$(ACTORS)" FILES="$(FILES)" CMDLINE="$(CMDLINE)" $(RUNNER) run

debug: toolchain
	ACTORS="$(ACTORS)" FILES="$(FILES)" CMDLINE="$(CMDLINE)" $(RUNNER) debug

# The benchmarks in QEMU (TCG unless ACCEL=kvm or icount), on an image of their own; figures,
# raw samples, histograms and plots in build/bench/. HISTORY="a.json b.json" plots the p50s
# of those earlier results.json files beside this run's.
bench: toolchain
	HISTORY="$(HISTORY)" $(RUNNER) bench

# One Wasm IPC round trip stepped under icount with gdb: instructions by kernel symbol.
profile: toolchain
	$(RUNNER) profile

# The interpreter workloads in MinimalOS against the same engine hosted by a Debian kernel in
# the same QEMU, boots alternated YARDSTICK_ROUNDS times (3); build/yardstick/results.{json,md}.
yardstick: toolchain
	$(RUNNER) yardstick

# Coverage-guided fuzzing (cargo fuzz, libFuzzer) of the actor-facing code on the host:
# FUZZ_SECONDS per target (default 60) after replaying the kept regressions. A crash stops it
# with the input saved under fuzz/artifacts/; keep it in fuzz/regressions/TARGET/ once fixed.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := guest_range manifest ipc spawn host_calls
# wasmi's translator trips a debug assertion of its own on some malformed modules
# (fuzz/regressions/spawn/wasmi-translator-debug-assert) and handles them without it, as the
# kernel's release build does: with wasmi, fuzz the kernel as it ships (-O, no debug assertions).
FUZZ_FLAGS = -s none $(KERNEL_FEATURES) $(if $(filter wasmi,$(ENGINE)),-O)
fuzz: toolchain
	@command -v cargo-fuzz >/dev/null || { echo "fuzz: installing cargo-fuzz from crates.io"; cargo install cargo-fuzz --locked; }
	@mkdir -p fuzz/corpus/spawn && cp target/cross/wasm32-unknown-unknown/release/*.wasm fuzz/corpus/spawn/ 2>/dev/null || true
	@cd fuzz && for t in $(FUZZ_TARGETS); do \
		if [ -d regressions/$$t ]; then echo "fuzz: $$t: replaying regressions/$$t"; \
			cargo fuzz run $(FUZZ_FLAGS) $$t regressions/$$t -- -runs=0 || exit 1; fi; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		cargo fuzz run $(FUZZ_FLAGS) $$t -- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done

# Everything, for both engines and for one CPU and four: the boots on one CPU, then on four,
# then the other engine's host tests and boots on four (both engines on every CPU).
test: lint host-test boot-test
	@echo "test: the boot tests again, on 4 CPUs"
	SMP=4 $(MAKE) --no-print-directory boot-test
	@echo "test: the host tests and the boot tests again, on $(OTHER_ENGINE) and 4 CPUs"
	SMP=4 $(MAKE) --no-print-directory ENGINE=$(OTHER_ENGINE) host-test boot-test

# Pure logic, on the host.
host-test: toolchain
	cargo test -q -p limine-config
	cargo test -q -p minimalos-loader --lib
	cargo test -q -p minimalos-abi -p minimalos-manifest -p sdk -p sdk-macros -p sdk-host $(ACTOR_CRATES) $(HOST_FEATURES)
	cargo test -q -p kernel --lib --target $(HOST) $(KERNEL_FEATURES)
	cargo test -q -p minimalos --lib --bins

# The real ISO in QEMU (TCG unless ACCEL=kvm), one boot per test file and a few in boot.rs;
# serial logs land in build/test/.
boot-test: toolchain
	@echo "boot tests ($(ENGINE), $${SMP:-1} CPU(s)): building the image and booting it in QEMU; a UEFI boot under TCG takes a while"
	cargo test -p minimalos --test '*' -- --test-threads=2

lint: toolchain
	cargo fmt --all --check
	cd fuzz && cargo fmt --check && cargo clippy -q --all-targets -- -D warnings
	cargo clippy -q -p minimalos -p limine-config -p minimalos-abi -p minimalos-manifest -p interp-host --all-targets -- -D warnings
	cargo clippy -q -p kernel --target x86_64-unknown-none -- -D warnings
	cargo clippy -q -p kernel --target x86_64-unknown-none --features wasmi -- -D warnings
	cargo clippy -q -p kernel --lib --tests --target $(HOST) -- -D warnings
	cargo clippy -q -p kernel --lib --tests --target $(HOST) --features wasmi -- -D warnings
	cargo clippy -q -p minimalos-loader --target x86_64-unknown-uefi -- -D warnings
	cargo clippy -q -p minimalos-loader --lib --tests -- -D warnings
	cargo clippy -q -p sdk $(ACTOR_CRATES) --target wasm32-unknown-unknown -- -D warnings
	$(PROGRAM_C_ENV) cargo clippy -q $(PROGRAM_CRATES) --target wasm32-wasip1 -- -D warnings
	cargo clippy -q -p sdk -p sdk-macros -p sdk-host $(ACTOR_CRATES) --all-targets -- -D warnings

fmt:
	cargo fmt --all

# rustup reads rust-toolchain.toml, but an already-installed toolchain may lack the targets or
# components; install only what is missing (rustup is slow even when there is nothing to do).
# Then the C toolchain for WASI: installed from Debian when missing (as root), as the runner
# does for QEMU; when it is all there, finding it takes a few file tests and one clang call.
toolchain:
	@command -v rustup >/dev/null || { echo "error: rustup is required: see https://rustup.rs"; exit 1; }
	@have=$$(rustup +$(TOOLCHAIN) target list --installed 2>/dev/null; rustup +$(TOOLCHAIN) component list --installed 2>/dev/null); \
	for t in $(TARGETS); do echo "$$have" | grep -qx "$$t" || missing=1; done; \
	for c in clippy rustfmt; do echo "$$have" | grep -q "^$$c" || missing=1; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Rust $(TOOLCHAIN) with targets $(TARGETS)"; \
		rustup toolchain install $(TOOLCHAIN) --profile minimal -c clippy -c rustfmt $(addprefix -t ,$(TARGETS)); \
	fi
	@command -v clang >/dev/null && command -v wasm-ld >/dev/null && command -v llvm-ar >/dev/null \
		&& test -f /usr/lib/wasm32-wasi/libc.a && test -f /usr/include/wasm32-wasi/stdio.h \
		&& test -f "$$(clang --target=wasm32-wasi -print-libgcc-file-name)" && exit 0; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "error: the C toolchain for wasm32-wasi is incomplete; install it with: sudo apt-get install $(WASI_C_PACKAGES)"; \
		exit 1; \
	fi; \
	echo "installing the C toolchain for wasm32-wasi: $(WASI_C_PACKAGES)"; \
	install="apt-get install -y -q --no-install-recommends $(WASI_C_PACKAGES)"; \
	DEBIAN_FRONTEND=noninteractive $$install || { apt-get update -q && DEBIAN_FRONTEND=noninteractive $$install; }

clean:
	cargo clean
	rm -rf build
