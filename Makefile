# Campus one-card backend. `make dev` runs everything locally; `make test` runs every test.
# Both install what they need (npm packages under infra/local, DynamoDB Local under .cache, Go tools
# under .cache/bin); nothing has to be installed by hand beyond Go, Node and Java.

SHELL        := /bin/bash
GO           ?= go
TOOLS        := $(CURDIR)/.cache/bin
FUNCTIONS    := $(notdir $(wildcard functions/*))
BUILD_FLAGS  := -tags lambda.norpc -trimpath -ldflags="-s -w"
STATICCHECK  := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# The Lambda Runtime Interface Emulator (no tags on the module proxy: a pseudo-version; infra/rie pins the same).
RIE          := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie
RIE_VERSION  := v0.0.0-20261030222936-bef5c4ba774d

.PHONY: help dev test test-short tidy build template lint bench clean stop fuzz invoke events rie

help:
	@echo "make dev       start emulators, table, queues, demo data and the API on 127.0.0.1:3000"
	@echo "make test      lint, go mod tidy check, then every test (starts and stops its own emulators)"
	@echo "make build     build every function as bin/<name>/bootstrap for linux/arm64"
	@echo "make template  regenerate template.yaml and functions/*/main.go from shared/catalog"
	@echo "make invoke FN=AuthLogin [EVENT=events/AuthLogin.json]   run one function under the Lambda emulator"
	@echo "make events    write a sample event for every function that has none"
	@echo "make lint      gofmt, go vet, staticcheck"
	@echo "make bench     benchmarks that print numbers"
	@echo "make stop      stop a make dev that was killed without Ctrl-C"

dev:
	$(GO) run ./infra/cmd/dev

test: rie lint tidy
	$(GO) run ./infra/cmd/stack -- $(GO) test -count=1 -timeout 15m ./...

# go.mod lists what the code imports, direct requires as direct (go mod tidy fixes it).
tidy:
	@$(GO) mod tidy -diff || { echo "go.mod is not tidy: run go mod tidy"; exit 1; }

# Quick loop while editing: vet and unit tests only, no emulators.
test-short:
	$(GO) vet ./... && $(GO) test -short ./...

build:
	@for f in $(FUNCTIONS); do \
		echo "build $$f"; \
		CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(BUILD_FLAGS) -o bin/$$f/bootstrap ./functions/$$f || exit 1; \
	done

template:
	$(GO) run ./infra/cmd/gen

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOBIN=$(TOOLS) $(GO) install $(STATICCHECK)
	$(TOOLS)/staticcheck ./...

bench: rie
	$(GO) run ./infra/cmd/stack -- $(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./infra/cmd/lambdabench

# sam local invoke without SAM or Docker: the function's real bootstrap under the Lambda Runtime Interface
# Emulator, against make dev's stack when it runs (otherwise emulators started for the occasion).
invoke: rie
	@if [ -z "$(FN)" ]; then echo "usage: make invoke FN=<LogicalId> [EVENT=events/<file>.json]"; exit 2; fi
	$(GO) run ./infra/cmd/invoke -fn '$(FN)' $(if $(EVENT),-event '$(EVENT)')

events:
	$(GO) run ./infra/cmd/events

rie:
	@$(GO) version -m $(TOOLS)/aws-lambda-rie 2>/dev/null | grep -q '$(RIE_VERSION)' || \
		{ echo "install aws-lambda-rie@$(RIE_VERSION) into .cache/bin"; GOBIN=$(TOOLS) $(GO) install $(RIE)@$(RIE_VERSION); }

fuzz:
	@for t in $$(grep -rl --include='*_test.go' 'func Fuzz' shared | xargs -n1 dirname | sort -u); do \
		for f in $$(grep -h -o 'func Fuzz[A-Za-z0-9_]*' $$t/*_test.go | cut -d' ' -f2); do \
			echo "fuzz $$t $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s ./$$t || exit 1; \
		done; \
	done

stop:
	@if [ -f .run/dev.pid ] && grep -q dev /proc/$$(cat .run/dev.pid)/cmdline 2>/dev/null; then \
		kill $$(cat .run/dev.pid); for i in 1 2 3 4 5 6 7 8 9 10; do [ -f .run/dev.pid ] || break; sleep 0.5; done; fi
	@if [ -f .run/dev.pids ]; then for p in $$(cat .run/dev.pids); do kill -- -$$p 2>/dev/null || true; done; rm -f .run/dev.pids; fi
	@rm -f .run/dev.pid; echo stopped

clean:
	rm -rf bin .aws-sam .run
