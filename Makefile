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

MP           := miniprogram
MP_SOURCES   := $(shell find $(MP)/src -type f 2>/dev/null) $(MP)/package-lock.json $(MP)/vite.config.ts \
                $(MP)/index.html $(MP)/.env.devstack docs/api/openapi.yaml
CONSOLE      := console
CONSOLE_SOURCES := $(shell find $(CONSOLE)/src -type f ! -name schema.d.ts ! -name "*.test.ts" 2>/dev/null) $(CONSOLE)/package-lock.json \
                $(CONSOLE)/vite.config.ts $(CONSOLE)/index.html $(CONSOLE)/tsconfig.json docs/api/openapi.yaml

.PHONY: load help dev test test-short tidy build template lint bench clean stop fuzz invoke events rie \
        browser e2e miniprogram miniprogram-local miniprogram-check console-local console-check

help:
	@echo "make dev       start emulators, table, queues, demo data and the API on 127.0.0.1:3000"
	@echo "make test      lint, go mod tidy check, then every test (starts and stops its own emulators)"
	@echo "make build     build every function as bin/<name>/bootstrap for linux/arm64"
	@echo "make template  regenerate template.yaml and functions/*/main.go from shared/catalog"
	@echo "make invoke FN=AuthLogin [EVENT=events/AuthLogin.json]   run one function under the Lambda emulator"
	@echo "make events    write a sample event for every function that has none"
	@echo "make lint      gofmt, go vet, staticcheck"
	@echo "make bench     benchmarks that print numbers"
	@echo "make load      a lunch rush on one campus against the local system: latency, errors, reconcile, hot keys"
	@echo "make e2e       the browser tests of the clients against the whole local system (part of make test)"
	@echo "make miniprogram  production builds of the mini program (API_BASE=https://… for mp-weixin)"
	@echo "make console-check  type check the staff console against the contract, its unit tests and its build"
	@echo "make stop      stop a make dev that was killed without Ctrl-C"

dev: miniprogram-local console-local
	$(GO) run ./infra/cmd/dev

test: rie lint tidy miniprogram-check console-check
	$(GO) run ./infra/cmd/stack -- $(GO) test -count=1 -timeout 15m ./...
	$(MAKE) e2e

# --- the clients -------------------------------------------------------------------------------------------

# npm packages of the mini program, installed again only when its lockfile changes.
$(MP)/node_modules/.installed: $(MP)/package-lock.json
	cd $(MP) && npm ci --no-audit --no-fund
	@touch $@

# The H5 that make dev and make e2e serve: the local build, whose payment goes through the WeChat Pay sandbox.
$(MP)/dist/devstack/h5/index.html: $(MP)/node_modules/.installed $(MP_SOURCES)
	cd $(MP) && npm run gen && npx uni build --mode devstack --outDir dist/devstack/h5
miniprogram-local: $(MP)/dist/devstack/h5/index.html

# Production builds: dist/build/mp-weixin (open it in WeChat DevTools) and dist/build/h5. The mini program
# calls API_BASE (the school's HTTPS domain, listed as request合法域名 in the 小程序后台).
miniprogram: $(MP)/node_modules/.installed
	cd $(MP) && VITE_API_BASE='$(API_BASE)' npm run build:mp && npm run build:h5

# Type check against the contract, unit tests, both production builds and what they must hold.
miniprogram-check: $(MP)/node_modules/.installed miniprogram-local
	cd $(MP) && npm run typecheck && npx vitest run && npm run build:mp && npm run build:h5 && node scripts/check-builds.mjs

# --- the staff console (React + Ant Design, docs/decisions/0011) ---
# npm packages of the console, installed again only when its lockfile changes.
$(CONSOLE)/node_modules/.installed: $(CONSOLE)/package-lock.json
	cd $(CONSOLE) && npm ci --no-audit --no-fund
	@touch $@

# The build that make dev and make e2e serve at /console/ (the API on the same origin).
$(CONSOLE)/dist/devstack/index.html: $(CONSOLE)/node_modules/.installed $(CONSOLE_SOURCES)
	cd $(CONSOLE) && npm run build:devstack
console-local: $(CONSOLE)/dist/devstack/index.html

# Type check against the contract, unit tests, the production build (dist/build: publish it under
# /console/ of the site bucket, docs/deploy.md) and its first-load size.
console-check: $(CONSOLE)/node_modules/.installed
	cd $(CONSOLE) && npm run typecheck && npx vitest run && npx vite build --outDir dist/build && node scripts/size.mjs dist/build

# Debian's Chromium and the CJK fonts for the browser tests (Playwright never downloads a browser here).
browser:
	@if ! command -v chromium >/dev/null || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then \
		echo "installing chromium and fonts-noto-cjk from Debian's packages"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

e2e: browser miniprogram-local console-local
	$(GO) run ./infra/cmd/e2e -dir $(MP) -- npx playwright test
	$(GO) run ./infra/cmd/e2e -dir $(CONSOLE) -- npx playwright test

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

# A lunch rush against the whole local system on its own ports (infra/load); bounded, loopback only.
load:
	$(GO) run ./infra/cmd/load $(LOAD_FLAGS)

bench: rie
	$(GO) run ./infra/cmd/stack -- $(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./infra/cmd/lambdabench
	$(MAKE) miniprogram browser miniprogram-local
	cd $(MP) && node scripts/sizes.mjs
	$(GO) run ./infra/cmd/e2e -dir $(MP) -- node scripts/time-to-home.mjs
	$(MAKE) console-check

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
