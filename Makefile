# Écoute — `make run` starts the demo, `make test` runs every test.
#
# The speaker needs cgo and the ALSA headers (libasound2-dev). When they are
# missing, make installs them with apt if it can (root + apt-get), otherwise
# it builds with -tags nosound: the console then plays silently and says so.

GO      ?= go
GOBIN   := $(shell $(GO) env GOPATH)/bin
BIN     := bin

HAVE_ALSA := $(shell test -f /usr/include/alsa/asoundlib.h && echo yes)
ifneq ($(HAVE_ALSA),yes)
  CAN_APT := $(shell [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && echo yes)
  ifeq ($(CAN_APT),yes)
    $(info ALSA headers missing: installing libasound2-dev with apt-get…)
    $(shell (apt-get install -y -qq libasound2-dev || (apt-get update -qq && apt-get install -y -qq libasound2-dev)) >/dev/null 2>&1)
    HAVE_ALSA := $(shell test -f /usr/include/alsa/asoundlib.h && echo yes)
  endif
endif
ifeq ($(HAVE_ALSA),yes)
  TAGS ?=
else
  TAGS ?= nosound
  $(info ALSA headers not found and not installable here: building without the speaker (silent output). To get sound: sudo apt-get install libasound2-dev)
endif
GOFLAGS_TAGS := $(if $(TAGS),-tags $(TAGS),)

.PHONY: all run build test test-short bench load fuzz proto lint lint-go clean demo-audio tools

all: build

## run: start the demo (embedded backend + console, demo data)
# ARGS go to ecoute (e.g. make run ARGS="--lang fr").
run:
	$(GO) run $(GOFLAGS_TAGS) ./cmd/ecoute $(ARGS) demo

## build: build bin/ecoute and bin/ecouted
build:
	$(GO) build $(GOFLAGS_TAGS) -o $(BIN)/ecoute ./cmd/ecoute
	$(GO) build $(GOFLAGS_TAGS) -o $(BIN)/ecouted ./cmd/ecouted

## test: every test, the integration and end-to-end (tmux) ones included;
## the S3 tests run a real S3 server (versitygw), installed here once
VERSITYGW_VERSION := v1.8.0
VERSITYGW := $(GOBIN)/versitygw
test: $(VERSITYGW)
	ECOUTE_TEST_TAGS=$(TAGS) $(GO) test $(GOFLAGS_TAGS) -count=1 -timeout 15m ./...

HAVE_PG := $(shell ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && echo yes)
ifneq ($(HAVE_PG),yes)
  ifeq ($(shell [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && echo yes),yes)
    test: pg-install
  endif
endif
.PHONY: pg-install
pg-install:
	@echo "installing PostgreSQL for the store tests (apt-get install postgresql)…"
	apt-get install -y -qq postgresql >/dev/null || (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null)

$(VERSITYGW):
	@echo "installing the S3 test server (versitygw $(VERSITYGW_VERSION)) into $(GOBIN), once: about a minute"
	GOFLAGS=-mod=mod $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

## test-short: unit tests only
test-short:
	$(GO) test $(GOFLAGS_TAGS) -short ./...

## bench: every benchmark beside the tool a user would compare with (mpg123,
## the stock Bubbles table, the sqlite3 shell, less…), interleaved, written
## into BENCHMARKS.md from scratch (about 10 minutes; the million-call
## database is built once and cached in ~/.cache/ecoute-bench)
bench:
	$(GO) run $(GOFLAGS_TAGS) ./cmd/benchreport -tags "$(TAGS)" -out BENCHMARKS.md

## load: LOAD_CONSOLES consoles against a real ecouted on loopback for
## LOAD_DURATION, with ecouted's CPU, mutex, block and allocation profiles
## and the report in LOAD_PROFILE
LOAD_CONSOLES ?= 50
LOAD_DURATION ?= 30s
LOAD_PROFILE  ?= load-profile
load:
	$(GO) run $(GOFLAGS_TAGS) ./cmd/ecoute-load -tags "$(TAGS)" -consoles $(LOAD_CONSOLES) -duration $(LOAD_DURATION) \
		-profile $(LOAD_PROFILE) -out $(LOAD_PROFILE)/report.md

## fuzz: fuzz every input boundary for FUZZTIME each: the player's decoder
## (bad MP3 bytes), the upload metadata, the grid YAML, the comment check,
## the console's filter parser and the page tokens
# Go fuzzes one target per run, so each gets FUZZTIME: 7 × 10 s of fuzzing,
# plus an instrumented build per package (about 1 minute in all once the
# build cache is warm; several on a cold cache). A short minimisation: the
# default (60 s per new input) would spend the run minimising instead.
FUZZTIME ?= 10s
FUZZ_TARGETS = \
	FuzzDecode:./player/ \
	FuzzRecordingMetadata:./backend/service/ \
	FuzzPageToken:./backend/service/ \
	FuzzAuditPageToken:./backend/core/ \
	FuzzParseYAML:./backend/grid/ \
	FuzzCheck:./backend/lexicon/ \
	FuzzParseFilter:./tui/
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		name=$${t%%:*}; pkg=$${t#*:}; \
		echo "fuzz $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test $(GOFLAGS_TAGS) -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg; \
	done

tools:
	$(GO) install github.com/bufbuild/buf/cmd/buf@v1.75.0
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	$(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2

## proto: regenerate api/ecoute/v1/*.pb.go from the .proto files, and the
## descriptor set with comments that server reflection serves (ecoute.binpb)
proto:
	@command -v $(GOBIN)/buf >/dev/null || $(MAKE) tools
	PATH="$(GOBIN):$$PATH" buf lint
	PATH="$(GOBIN):$$PATH" buf generate
	PATH="$(GOBIN):$$PATH" buf build --exclude-imports -o api/ecoute/v1/ecoute.binpb

## lint: gofmt, go vet, buf lint
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(GOFLAGS_TAGS) ./...
	@command -v $(GOBIN)/buf >/dev/null || $(MAKE) tools
	$(GOBIN)/buf lint

## demo-audio: regenerate the demo MP3s (needs espeak-ng, sox, lame)
demo-audio:
	./scripts/make-demo-audio.sh

clean:
	rm -rf $(BIN)

## lint-go: gofmt and go vet only (no buf needed)
lint-go:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(GOFLAGS_TAGS) ./...
