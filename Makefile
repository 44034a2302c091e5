# Thin wrapper around CMake. `make run` and `make test` are the contract (README.md).
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
CONFIG     ?= etc/gardien.toml
JOBS       ?= $(shell nproc)
# scdoc builds the man pages (man/); configure with -DGARDIEN_MAN_PAGES=OFF to do without.
DEB_PACKAGES := g++ make cmake pkg-config libevent-dev libtomlplusplus-dev nlohmann-json3-dev \
                libcli11-dev libgtest-dev scdoc libhowardhinnant-date-dev
# Only `make fuzz` (clang's libFuzzer) and `make microbench` (Google Benchmark) need these.
FUZZ_PACKAGES := clang-14 libclang-rt-14-dev
BENCH_PACKAGES := libbenchmark-dev
SOAK_PACKAGES := python3
# perf trace gives bench/readiness the daemon's own share of the notify latency.
READINESS_BENCH_PACKAGES := linux-perf
# bench/jobs runs the job queue beside Debian's task-spooler (tsp); perf trace gives it the
# daemon's share of the dispatch latency.
JOBS_BENCH_PACKAGES := task-spooler
# Real daemons the integration tests run (tests/integration/real_daemons_test.cpp) and
# systemd-notify; installed with RUNLEVEL=1 so that Debian's postinst scripts do not start them.
# groff-base checks that the man pages render without warnings; python3-croniter is the
# reference the schedule tests compare next fire times with (tests/unit/common/schedule_oracle_test.cpp).
TEST_PACKAGES := systemd postgresql redis-server groff-base python3-croniter
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# `make deb` builds the Debian package with these (and DEB_PACKAGES); `make test-package`
# installs it into fresh Debian roots (debootstrap) and checks it with lintian.
DEB_BUILD_PACKAGES := build-essential debhelper dpkg-dev
PACKAGE_TEST_PACKAGES := debootstrap lintian

# The shells whose completions tests/packaging runs (each such test skips without its shell).
SHELL_PACKAGES := zsh fish

.PHONY: all deps test-deps fuzz-deps bench-deps soak-deps build run test asan test-asan fuzz fuzz-merge \
        bench bench-readiness bench-jobs microbench soak format clean install uninstall \
        deb test-package test-containers

all: build

# Installs only the packages of $(1) that are missing, so a machine that has everything never
# touches apt; $(2): more VAR=value for apt-get's environment.
define install_missing
	@missing=$$(for p in $(1); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive $(2) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call install_missing,$(DEB_PACKAGES))

fuzz-deps:
	$(call install_missing,$(DEB_PACKAGES) $(FUZZ_PACKAGES))

bench-deps:
	$(call install_missing,$(DEB_PACKAGES) $(BENCH_PACKAGES))

soak-deps:
	$(call install_missing,$(DEB_PACKAGES) $(SOAK_PACKAGES))

# invoke-rc.d starts no service outside runlevels 2-5 (a host whose init is systemd ignores this).
test-deps:
	$(call install_missing,$(DEB_PACKAGES) $(TEST_PACKAGES) $(SHELL_PACKAGES),RUNLEVEL=1)

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Only the daemon and the client: the test suite is `make test`'s to build.
run: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target gardien gardienctl
	exec $(BUILD)/supervisord/gardien -c $(CONFIG)

# `make install PREFIX=/usr DESTDIR=/tmp/root` (README.md, "Install").
PREFIX  ?= /usr/local
DESTDIR ?=

# The binaries, completions, example configs and systemd unit below $(DESTDIR)$(PREFIX); CMake
# lists every file it wrote in $(BUILD)/install_manifest.txt.
install: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target installable
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

# Removes what the last `make install` wrote (give the same DESTDIR: CMake's list leaves it out),
# then the documentation directory once it is empty; shared directories such as
# share/bash-completion stay.
uninstall:
	@test -f $(BUILD)/install_manifest.txt || \
	  { echo "nothing to uninstall: no $(BUILD)/install_manifest.txt (run make install first)"; exit 1; }
	sed 's|^|$(DESTDIR)|' $(BUILD)/install_manifest.txt | xargs -d '\n' rm -f --
	sed -n 's|^\(.*/share/doc/gardien\)/.*|$(DESTDIR)\1|p' $(BUILD)/install_manifest.txt | sort -u | \
	  while read -r dir; do [ ! -d "$$dir" ] || find "$$dir" -depth -type d -empty -delete; done
	rm -f $(BUILD)/install_manifest.txt

test: test-deps build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 120

# $(BUILD)/deb/gardien_VERSION_amd64.deb (debian/, README.md "Install"): dpkg-buildpackage in a
# copy of the source tree, since it writes beside it: the files git knows, committed or not (all
# but build* when the tree is not a git checkout).
DEB_DIR := $(BUILD)/deb
deb:
	$(call install_missing,$(DEB_PACKAGES) $(DEB_BUILD_PACKAGES))
	tests/packaging/deb_version_test.sh .
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	if git rev-parse --git-dir >/dev/null 2>&1; then \
	  git ls-files --cached --others --exclude-standard | while read -r f; do [ ! -e "$$f" ] || echo "$$f"; done; \
	else \
	  find . \( -name '.git' -o -path './build*' \) -prune -o \( -type f -o -type l \) -print; \
	fi | tar -cf - --no-recursion -T - | tar -C $(DEB_DIR)/src -xf -
	cd $(DEB_DIR)/src && dpkg-buildpackage -b -us -uc -j$(JOBS) >../build.log 2>&1 || \
	  { tail -n 40 ../build.log; echo "dpkg-buildpackage failed: $(DEB_DIR)/build.log"; exit 1; }
	rm -rf $(DEB_DIR)/src
	@ls $(DEB_DIR)/gardien_*_amd64.deb

# The package in fresh Debian 12 roots (tests/packaging/deb_test.sh; needs root, the mirror and
# minutes, so never part of `make test`): `make deb` in one, the .deb installed into another.
# PACKAGE_TEST_DEB=path/to/gardien_VERSION_amd64.deb tests that package instead of building one.
PACKAGE_TEST_DEB ?=
test-package:
	$(call install_missing,$(PACKAGE_TEST_PACKAGES))
	$(if $(PACKAGE_TEST_DEB),,rm -f $(BUILD)/package-test/gardien_*_amd64.deb)
	tests/packaging/deb_test.sh . $(BUILD)/package-test $(PACKAGE_TEST_DEB) || [ $$? = 77 ]
	@deb="$(or $(PACKAGE_TEST_DEB),$$(ls -t $(BUILD)/package-test/gardien_*_amd64.deb 2>/dev/null | head -n1))"; \
	if [ -z "$$deb" ]; then echo "SKIP: test-containers: no package was built (see the skip above)"; \
	else $(MAKE) test-containers CONTAINER_TEST_DEB="$$deb"; fi

# The images of etc/examples/docker built from CONTAINER_TEST_DEB and run with gardien as PID 1
# (tests/packaging/container_recipes_test.sh, docs/container.md); exit 77 there is a skip, whose
# reason it prints.
CONTAINER_TEST_DEB ?= $(lastword $(sort $(wildcard $(BUILD)/deb/gardien_*_amd64.deb)))
test-containers:
	@test -n "$(CONTAINER_TEST_DEB)" || { echo "no package: run make deb, or give CONTAINER_TEST_DEB"; exit 1; }
	tests/packaging/container_recipes_test.sh . "$(CONTAINER_TEST_DEB)" || [ $$? = 77 ]

$(ASAN_BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DGARDIEN_SANITIZE=ON

asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

test-asan: asan
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 240

# libFuzzer targets (docs/fuzzing.md): common/ and fuzz/ only, built by clang with ASan+UBSan.
$(FUZZ_BUILD)/CMakeCache.txt: | fuzz-deps
	cmake -S . -B $(FUZZ_BUILD) -DGARDIEN_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo

# Each target for FUZZ_SECONDS; fails (non-zero) on any crash and prints the input's path.
fuzz: fuzz-deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Adds the inputs of the last runs that reach new code to the committed corpus (then commit it).
fuzz-merge: fuzz-deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	for t in config protocol notify schedule history; do \
	  $(FUZZ_BUILD)/fuzz/$${t}_fuzz -merge=1 fuzz/corpus/$$t $(FUZZ_BUILD)/corpus/$$t || exit 1; \
	done

# Google Benchmark micro-benchmarks in the Release tree; re-configures so CMake finds the library
# when it was installed after the tree was first configured.
MICROBENCH_FLAGS ?= --benchmark_min_time=0.2
microbench: bench-deps $(BUILD)/CMakeCache.txt
	cmake -S . -B $(BUILD) >/dev/null
	cmake --build $(BUILD) -j $(JOBS) --target micro_config micro_protocol
	$(BUILD)/bench/micro_config $(MICROBENCH_FLAGS)
	$(BUILD)/bench/micro_protocol $(MICROBENCH_FLAGS)

# gardien beside supervisord, s6, runit, tini and dumb-init (installs the missing ones), written
# to bench/RESULTS.md and README.md's table (about 12 minutes), then the micro-benchmarks.
bench: build
	bench/compare --build $(BUILD) --out bench/RESULTS.md --readme README.md
	$(MAKE) microbench

# Readiness figures (bench/readiness, about two minutes): notify latency, start of 100 programs
# with and without ready = "notify", the cost of 100 http health checks a second.
bench-readiness: soak-deps build
	$(call install_missing,$(READINESS_BENCH_PACKAGES))
	bench/readiness --build $(BUILD)

# Job queue figures (bench/jobs, about three minutes): 1000 runs of /bin/true through 4 slots
# beside task-spooler, dispatch latency, a schedule every second, 10,000 queued runs.
# BENCH_JOBS_ARGS="--schedule-seconds 600 --results bench/RESULTS.md": the schedule over the
# issue's ten minutes, the figures written into bench/RESULTS.md.
BENCH_JOBS_ARGS ?=
bench-jobs: soak-deps build
	$(call install_missing,$(JOBS_BENCH_PACKAGES) $(READINESS_BENCH_PACKAGES))
	bench/jobs --build $(BUILD) $(BENCH_JOBS_ARGS)

# Soak of the Release daemon (tests/soak/soak.py, docs/soak.md); never part of `make test`.
SOAK_DURATION ?= 10m
soak: soak-deps build
	python3 tests/soak/soak.py --build $(BUILD) --duration $(SOAK_DURATION) $(SOAK_ARGS)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
