# Two commands: `make run` and `make test` (see README.md).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := tesseract-ocr tesseract-ocr-spa tesseract-ocr-eng poppler-utils ghostscript qpdf softhsm2 chromium wrk ffmpeg dovecot-imapd nginx redis-server
export PORTAL_DATA_DIR ?= var

.PHONY: run test fuzz-ocr system-packages install lint clean assets

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): setup.cfg pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[test]'
	touch $(STAMP)

install: system-packages $(STAMP) assets

# Browser libraries from the npm registry, copied into app/static/vendor (not committed).
# axe-core stays in node_modules: only the accessibility tests read it, users never get it.
ASSETS := app/static/vendor/pdfjs/pdf.min.mjs app/static/vendor/uppy/uppy.min.js node_modules/axe-core/axe.min.js
assets: $(ASSETS) $(STAMP)
	$(VENV)/bin/portal compress-assets

$(ASSETS) &: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p app/static/vendor/pdfjs app/static/vendor/uppy
	cp node_modules/pdfjs-dist/build/pdf.min.mjs node_modules/pdfjs-dist/build/pdf.worker.min.mjs app/static/vendor/pdfjs/
	cp node_modules/uppy/dist/uppy.min.js node_modules/uppy/dist/uppy.min.css app/static/vendor/uppy/
	touch $(ASSETS)

# Debian packages the portal needs (OCR, PDF tools, HSM for the seal, Chromium for browser tests,
# wrk for bench/pages.py, Dovecot as the IMAP server the mail-in tests poll, nginx and Redis for
# the production topology the tests start: tests/topology).
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "Installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "Missing system packages (install as root):$$missing"; fi; \
	fi
	@command -v npm >/dev/null 2>&1 || { [ "$$(id -u)" = "0" ] && apt-get install -y -qq nodejs npm; } || echo "npm is missing: install nodejs and npm"

run: install
	$(VENV)/bin/portal init
	$(VENV)/bin/portal run

test: install
	$(VENV)/bin/portal init >/dev/null
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy storage signing ocr workflows previews app/services
	$(VENV)/bin/pytest -n auto --ignore=tests/topology
	@echo "== the production topology (one process: it starts its own servers) =="
	$(VENV)/bin/pytest tests/topology -q -n 0
	@if [ -n "$$PORTAL_TEST_DATABASE_URL" ]; then \
	  echo "== database tests again on PostgreSQL =="; \
	  PORTAL_TEST_BACKEND=postgres $(VENV)/bin/pytest tests/api tests/services tests/web -m "not browser" -q -n auto; \
	fi

# The OCR tests on a newly drawn corpus (`make test` reads the fixed one): one seed for every
# worker, printed first so that a failing draw can be replayed and kept as a test.
fuzz-ocr: $(STAMP)
	@seed=$$($(PY) -c 'import random; print(random.SystemRandom().randrange(2**32))'); \
	echo "OCR corpus seed: $$seed (replay: OCR_TEST_SEED=$$seed $(VENV)/bin/pytest tests/ocr)"; \
	OCR_TEST_SEED=$$seed $(VENV)/bin/pytest tests/ocr -n auto

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

clean:
	rm -rf $(VENV) var
