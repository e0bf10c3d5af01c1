# Common tasks. `make book` and `make test` are the README's two commands.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Where the datasets live; CI points this at a copy of the offline mirror.
export GNNCOURSE_DATA ?= $(HOME)/.cache/gnncourse/data
# `make notebooks` writes the outputs with this CPU's best kernels; `make test` re-executes
# the chapters under other kernels, so every test run is a cross-machine run.
CHECK_KERNELS ?= default
# The package's docstring examples run as tests too (`--doctest-modules` on these paths).
DOCTESTS := gnncourse benchmarks/_timing.py

.PHONY: help install book test unit browser notebooks tolerances bench translations clean

help:  ## list the tasks
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/.installed  ## create .venv with the package and everything to build and test

book: install  ## build the book into _build/html, executing every chapter, and its translations (_build/html/zh_CN)
	$(BIN)/python tools/build_book.py
	$(BIN)/python tools/build_book.py --language all

test: install  ## everything CI checks: book builds (no second execution), unit tests, nbval
	$(BIN)/python tools/build_book.py --no-execute
	$(BIN)/python tools/build_book.py --language all
	ATEN_CPU_CAPABILITY=$(CHECK_KERNELS) $(BIN)/python -m pytest tests $(DOCTESTS) chapters --doctest-modules --nbval-lax --nbval-sanitize-with tools/nbval_sanitize.cfg --nbval-cell-timeout 600

unit: install  ## the package's unit tests only (not the browser test of the built book)
	$(BIN)/python -m pytest tests $(DOCTESTS) --doctest-modules -m "not browser"

browser: install  ## render the book and its translations, open every page in headless Chromium; screenshots in _build/screenshots
	$(BIN)/python tools/build_book.py --no-execute
	$(BIN)/python tools/build_book.py --language all
	$(BIN)/python -m pytest tests/test_browser.py -m browser

notebooks: install  ## re-execute every chapter in place (after editing one), then `make test`
	env -u ATEN_CPU_CAPABILITY $(BIN)/python tools/run_notebooks.py chapters/*.ipynb

tolerances: install  ## re-measure the checked numbers over seeds 0-4 x 2 kernel settings (slow)
	$(BIN)/python tools/measure_spread.py --jobs 2 chapters/*.ipynb

bench: install  ## the speed benchmarks: ratios against a reference measured in the same run
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

translations: install  ## refresh the translations' catalogues (locales/*/LC_MESSAGES/*.po) from the English text
	$(BIN)/python tools/build_book.py --gettext
	$(BIN)/sphinx-intl update --pot-dir _build/gettext --locale-dir locales --line-width -1

clean:  ## remove build output (never touches notebooks or data)
	rm -rf _build _config.noexec.yml _config.*.yml .pytest_cache
	find locales -name "*.mo" -delete
