# The two commands of the README, and a few more for developers.
#   make run    install what is missing, build Release, run the main job
#   make test   install what is missing, build, run every test through ctest
#   make fuzz   build the fuzzers and run each for FUZZ_SECONDS (default 300)

JOBS ?= 2
BUILD ?= build
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 300
TEST_FUZZ_SECONDS ?= 20
VAR ?= var

.PHONY: all deps build release run test fuzz fuzz-build asan format clean

all: build

deps:
	@bash scripts/install-deps

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DESIMGUARD_FUZZ_BIN_DIR=$(abspath $(FUZZ_BUILD))/fuzz \
	  -DESIMGUARD_FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	@bash scripts/run-main $(BUILD) $(VAR)

$(FUZZ_BUILD)/build.ninja:
	CXX=clang++-16 cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DESIMGUARD_FUZZ=ON -DESIMGUARD_TESTS=OFF

fuzz-build: deps $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target esimguard_fuzzers

test: build fuzz-build
	cd $(BUILD) && ctest -j $(JOBS) --output-on-failure --timeout 900

fuzz: fuzz-build
	@ls fuzz/fuzz_*.cpp | xargs -n1 basename | sed 's/\.cpp$$//' | \
	  xargs -P $(JOBS) -I{} bash scripts/run-fuzzer $(FUZZ_BUILD)/fuzz/{} $(FUZZ_SECONDS)

# Debug build with AddressSanitizer and UBSan, running the unit tests.
asan: deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DESIMGUARD_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest -j $(JOBS) --output-on-failure -LE 'lint|fuzz'

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format-14 -i

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD) build-asan
