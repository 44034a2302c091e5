# Thin wrapper around CMake. `make run` and `make test` are the contract (README.md).
BUILD      ?= build
ASAN_BUILD ?= build-asan
CONFIG     ?= etc/gardien.toml
JOBS       ?= $(shell nproc)
DEB_PACKAGES := g++ make cmake pkg-config libevent-dev libtomlplusplus-dev nlohmann-json3-dev \
                libcli11-dev libgtest-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build run test asan test-asan soak format clean

all: build

# Installs only what is missing, so a machine that has everything never touches apt.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: build
	exec $(BUILD)/supervisord/gardien -c $(CONFIG)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 120

$(ASAN_BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DGARDIEN_SANITIZE=ON

asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

test-asan: asan
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 240

# Soak of the Release daemon (tests/soak/soak.py, docs/soak.md); never part of `make test`.
SOAK_DURATION ?= 10m
soak: build
	@command -v python3 > /dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends python3; }
	python3 tests/soak/soak.py --build $(BUILD) --duration $(SOAK_DURATION) $(SOAK_ARGS)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
