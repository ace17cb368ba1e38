# kumo: `make run` starts the cloud on this machine, `make test` runs every test.
# Both set up what they need first (packages, network namespace, libvirtd).

export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
DATA_DIR ?= /var/lib/kumo
LISTEN ?= 127.0.0.1:8080

.PHONY: run test setup build bench-launch bench-lb bench-api bench-sched clean

setup:
	@bash scripts/setup-host.sh

build:
	$(GO) build -o bin/kumod ./cmd/kumod
	$(GO) build -o bin/kumo ./cmd/kumo

run: setup build
	bin/kumod --data-dir $(DATA_DIR) --listen $(LISTEN)

# Tests run one package at a time: several of them boot real guests, and on
# two cores they would slow each other past their timeouts.
test: setup
	$(GO) vet ./...
	$(GO) test -p 1 -timeout 60m ./...

bench-launch: setup
	@bash scripts/bench-launch.sh

bench-lb:
	@bash scripts/bench-lb.sh

bench-api:
	@bash scripts/bench-api.sh

bench-sched:
	@bash scripts/bench-sched.sh

clean:
	rm -rf bin
