# The two commands a newcomer needs: `make run` and `make test` (CI runs `make test`).
CARGO ?= cargo

.PHONY: run test setup build bench clean

setup:
	@./scripts/setup

build: setup
	$(CARGO) build --release

# Play the opening cue, Générique, on the default audio device (with the console).
run: build
	./target/release/ascenseur play

# Everything CI checks: formatting, lints, and every test (benches compile and run once).
# `setup --tests` has installed every tool the tests drive (jackd, tmux, PipeWire…), so
# with CI=true a test that finds one missing fails instead of reporting itself skipped.
test: export CI = true
test:
	@./scripts/setup --tests
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --all-targets --locked -- -D warnings
	$(CARGO) test --release --all-targets --locked
	$(CARGO) test --release --doc --locked

bench: setup
	$(CARGO) bench

clean:
	$(CARGO) clean
