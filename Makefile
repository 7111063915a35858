# podclass — the shipped binary (bin/podclass), the demo (bin/podclass-demo), their tests and tools. `make help` lists the targets.
SHELL := bash
GO ?= go
BIN := bin/podclass
# Tools (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok,
# helm, influxd, victoria-metrics, kyverno, gator) are built from the Go module
# proxy by hack/tools.sh and cached outside the clone.
TOOLS_ENV = eval "$$(hack/tools.sh env)"
FUZZTIME ?= 10s
# The predecessor's recordings (not redistributed with podclass): TestSeed2021
# reads them when they sit beside the clone, as on our machines, and skips
# saying so otherwise.
SEED2021_DIR ?= $(abspath $(wildcard ../shared/datasets/seed-2021))
export SEED2021_DIR

.PHONY: help build test fmt-check test-unit tools demo bench bench-webhook fuzz-smoke lint image clean

help: ## List targets.
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## Build bin/podclass and the kubectl plugin bin/kubectl-podclass.
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/podclass
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/kubectl-podclass ./cmd/kubectl-podclass

tools: ## Build and cache every tool the tests use (hack/tools.sh); install Debian's prometheus.
	hack/tools.sh all
	hack/prometheus.sh

test: tools fmt-check ## Run every test: unit, envtest e2e, real InfluxDB/Prometheus, helm, short fuzzing.
	$(TOOLS_ENV) && $(GO) vet ./... && $(GO) test -count=1 -timeout 20m ./...
	$(MAKE) --no-print-directory fuzz-smoke
	hack/apt-lock-test.sh

fmt-check: ## Fail if a Go file is not gofmt-formatted.
	@unformatted=$$("$$($(GO) env GOROOT)/bin/gofmt" -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

test-unit: ## Unit tests only (no control plane, no servers).
	$(GO) test -short ./...

fuzz-smoke: ## Run each fuzz target's seeds, then fuzz it briefly (FUZZTIME, default 10s); fails only on a seed or a new crasher.
	hack/fuzz.sh $(FUZZTIME)

demo: ## The main job on one machine: control plane, webhook, refiner, replayed metrics (bin/podclass-demo).
	hack/tools.sh demo
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/podclass-demo ./cmd/podclass-demo
	$(TOOLS_ENV) && bin/podclass-demo

bench: ## Go benchmarks of the hot paths.
	$(GO) test -run '^$$' -bench . -benchmem ./webhook/ ./classifier/ ./samples/...

bench-webhook: ## Load the real TLS webhook over loopback at a fixed rate.
	$(GO) run ./hack/bench-webhook --rate 2000 --duration 60s

image: ## Build the container image (needs a Docker engine; not available on our CI machines).
	docker build -t podclass:dev .

clean:
	rm -rf bin _out
