# Council insight pipeline. `make` (or `make help`) lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SEED   ?= 2021
SHARED ?= ../shared

.DEFAULT_GOAL := help
.PHONY: help install install-spark bench-spark demo demo-data trafford test lint chromium browser-checks screenshots bench bench-profile clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the project (once)

SPARK_STAMP := $(VENV)/.spark-stamp
$(SPARK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[spark]'
	touch $(SPARK_STAMP)

install-spark: $(SPARK_STAMP) ## add the Spark engine's packages (pyspark, pyarrow, sqlglot; needs Java 17+)

data/demo/raw/.complete: $(STAMP) $(wildcard pipeline/synth/*.py)  # made again when the generator changes
	$(BIN)/insight demo-data --out data/demo/raw --truth data/demo/truth --seed $(SEED)
	touch $@

demo-data: data/demo/raw/.complete ## generate the fictional demo borough into data/demo/

demo: data/demo/raw/.complete ## set up, generate the demo borough and run every service
	$(BIN)/insight run config/demo.yaml
	@if command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium; then $(MAKE) --no-print-directory screenshots; \
	  else echo "chromium not installed: screenshots skipped (make chromium)"; fi

RUN ?= demo
screenshots: $(STAMP) ## PNG of every map and report page (and report PDFs) in outputs/$(RUN)/screenshots
	$(BIN)/python -m pipeline.render.screenshots outputs/$(RUN)

trafford: $(STAMP) ## run on the real Trafford ONS files in ../shared (synthetic service extracts)
	$(BIN)/insight synth-extracts \
	  --postcodes $(SHARED)/ons/trafford/postcodes/onspd_2025_02_trafford_with_oa21_DERIVED.csv \
	  --postcode-col postcode --oa-col oa21cd_pip --live-col in_codepoint_open_2025_10 \
	  --households $(SHARED)/ons/trafford/census2021/census2021-ts041-oa-trafford.csv \
	  --types $(SHARED)/ons/trafford/oac2021/trafford_oac2021_assignment.csv \
	  --out data/trafford/raw/extracts --truth data/trafford/truth --seed $(SEED)
	$(BIN)/insight run config/examples/trafford.yaml

.PHONY: area
area: $(STAMP) ## cut the national ONS/Nomis/OS downloads to your council: LAD="E08000009 [...]" SOURCES=dir [NAME=...]
	@test -n "$(LAD)" -a -n "$(SOURCES)" || { echo 'usage: make area LAD="E08000009" SOURCES=path/to/downloads [NAME=name]'; exit 2; }
	$(BIN)/insight area $(LAD) --sources $(SOURCES) $(if $(NAME),--name $(NAME))

.PHONY: reference
reference: $(STAMP) ## build the reusable postcode reference DB named in a config, if not current (CONFIG=...)
	$(BIN)/insight reference $(CONFIG)

.PHONY: segments bench-segments bench-segments-cli bench-area
CONFIG ?= config/demo.yaml
.PHONY: purge
purge: $(STAMP) ## remove a run's record-level data older than privacy.retention_days, keep aggregates (CONFIG=...)
	$(BIN)/insight purge $(CONFIG)

segments: $(STAMP) ## rebuild the classification + diagnostics, pen portraits, figures into outputs/<run>/segments (CONFIG=...)
	@if [ "$(CONFIG)" = "config/demo.yaml" ]; then $(MAKE) --no-print-directory demo-data; fi
	$(BIN)/python -m segments $(CONFIG)

bench-segments: $(STAMP) ## time the three-tier build on 190,000 OAs x 60 variables (prints figures; BENCH_ARGS=--long: 2,000 starts)
	$(BIN)/python bench/bench_segments.py $(BENCH_ARGS)

bench-segments-cli: $(STAMP) ## time python -m segments with its diagnostics on national-size census files (188,880 OAs; prints figures)
	$(BIN)/python bench/bench_segments_cli.py

bench-area: $(STAMP) ## time insight area cutting one LAD from national-size products (prints figures)
	$(BIN)/python bench/bench_area.py

PYTEST := $(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder
test: $(STAMP) $(SPARK_STAMP) ## the test suite less the runs marked slow (two workers; the demo run built once for both)
	$(PYTEST) -m "not slow"

.PHONY: test-slow test-all
test-slow: $(STAMP) $(SPARK_STAMP) ## the tests marked slow: whole runs and classification builds of their own (CI runs them)
	$(PYTEST) -m slow

test-all: $(STAMP) $(SPARK_STAMP) ## every test in one session (what CI runs, as make test then make test-slow)
	$(PYTEST)

lint: $(STAMP) ## ruff and the import-layering contracts (import-linter)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

chromium: ## install Debian chromium and poppler-utils for the offline map and report tests (needs root or sudo)
	bash scripts/install_chromium.sh

node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

browser-checks: node_modules/axe-core/axe.min.js ## install axe-core (npm) for the accessibility tests

.PHONY: bench-geocode bench-address
bench-geocode: $(STAMP) ## 1,000,000 dirty records, 1.7M-postcode directory: insight run --until geocode vs a plain DuckDB script (prints figures)
	$(BIN)/python bench/bench_geocode.py

bench-address: $(STAMP) ## match 10,000 messy addresses to a 100,000-address gazetteer: speed, precision, recall
	$(BIN)/python bench/bench_address.py

bench-spark: $(SPARK_STAMP) ## 10M national records, 1.7M-postcode directory: geocode+assign on DuckDB and Spark local[2] (prints figures)
	$(BIN)/python bench/bench_spark.py $(BENCH_ARGS)

bench-profile: $(STAMP) ## time every profile view for 1,000,000 records (prints figures)
	$(BIN)/python bench/bench_profile.py

.PHONY: bench-outcomes
bench-outcomes: $(STAMP) ## time the outcome profiles for 1,000,000 records over 190,000 OAs (prints figures)
	$(BIN)/python bench/bench_outcomes.py

bench: bench-geocode bench-address bench-segments bench-segments-cli bench-area bench-profile bench-outcomes ## run every benchmark (prints figures; slow)
	$(BIN)/python bench/bench_maps.py

clean: ## remove generated data and outputs (keeps .venv)
	rm -rf data outputs
