# Thin wrapper over CMake presets and the scripts. See README.md.
.PHONY: all build deps demo check bench fuzz format clean

CLARIQ := build/release/clariq

all: build

deps:
	@bash scripts/deps.sh build

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j$$(nproc) > build/release/build.log 2>&1 \
	  || { tail -40 build/release/build.log; exit 1; }
	@echo "built $(CLARIQ)"

demo: build
	@$(CLARIQ) demo --queries --format json
	@echo
	@$(CLARIQ) run --format json "SELECT country, COUNT(*) AS customers FROM customers GROUP BY country ORDER BY customers DESC LIMIT 3"
	@echo
	@echo '-- governed query as role analyst (names and e-mails masked):'
	@echo '{"from":"customers","columns":["id","name","email","country"],"limit":3}' \
	  | $(CLARIQ) query - --role analyst

check:
	@bash scripts/check.sh

bench:
	@bash scripts/deps.sh bench
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j$$(nproc) > build/release/build.log 2>&1 \
	  || { tail -40 build/release/build.log; exit 1; }
	@bash bench/run.sh

FUZZ_SECONDS ?= 30
fuzz:
	@bash scripts/deps.sh test
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j$$(nproc)
	@for f in build/fuzz/cq-fuzz-*; do \
	  name=$${f##*/cq-fuzz-}; mkdir -p build/fuzz/corpus-$$name; \
	  echo "== fuzz $$name ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) build/fuzz/corpus-$$name tests/fuzz/corpus/$$name || exit 1; \
	done

format:
	@clang-format -i $$(find src tests -name '*.[ch]')

clean:
	rm -rf build
