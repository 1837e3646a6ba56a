"""Settings shared by every environment. Values come from the environment (django-environ)."""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-only-key")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "simple_history",
    "django_htmx",
    "csp",
    "axes",
    "core",
    "workspaces",
    "jobs",
    "knowledge",
    "webhooks",
    "callflows",
    "calls",
    "outcomes",
]

MIDDLEWARE = [
    "config.requestid.RequestIdMiddleware",  # first: every later log line carries the id
    "django.middleware.security.SecurityMiddleware",
    "core.csp.PlaybookCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "workspaces.middleware.RefuseUnstorableTextMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "workspaces.middleware.CurrentWorkspaceMiddleware",
    # Last, as axes asks: turns a refused (locked) login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# The load balancer probes /healthz over plain HTTP, straight to the app: never redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "workspaces.context_processors.workspace",
                "outcomes.context_processors.alerts",
            ],
        },
    },
]

# SQLite file in the project folder unless DATABASE_URL says otherwise.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://playbook")}
if "redis" in CACHES["default"]["BACKEND"].lower():
    # A dead or unreachable Redis fails a request (and /healthz) within a second; no hang.
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": 1, "socket_timeout": 1}
    )

EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Playbook <noreply@playbook.local>")
# Links in emails sent outside a request (commands); pages use the request's own address.
PLAYBOOK_BASE_URL = env("PLAYBOOK_BASE_URL", default="http://127.0.0.1:8000")

AUTH_USER_MODEL = "workspaces.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: a locked (account, address) pair is refused before any password is hashed.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # the home page: the checklist, then how Sona is doing
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Job history: who changed what is set explicitly by the services.
SIMPLE_HISTORY_REVERT_DISABLED = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Each line of a request names its id (config/requestid.py; "-" outside a request).
    "filters": {"request_id": {"()": "config.requestid.RequestIdFilter"}},
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "line",
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# The LLM endpoint (core/llm.py): any OpenAI-compatible chat-completions API, shared by the
# optimizer, the router and Sona's mock-call replies. Unset LLM_BASE_URL: every feature stays on
# its built-in backend (a feature set to its LLM backend says so in a notice).
LLM_BASE_URL = env("LLM_BASE_URL", default="")
LLM_API_KEY = env("LLM_API_KEY", default="")
LLM_MODEL = env("LLM_MODEL", default="")  # "": gpt-4o-mini
LLM_TIMEOUT = env.float("LLM_TIMEOUT", default=20.0)

# Job instructions optimizer (jobs/optimizer): "builtin" works offline; "openai" calls the LLM
# endpoint and falls back to builtin when it fails. The OPTIMIZER_* names below, when set,
# override the LLM_* ones for the optimizer (older installs set only these).
OPTIMIZER_BACKEND = env("OPTIMIZER_BACKEND", default="builtin")
OPTIMIZER_BASE_URL = env("OPTIMIZER_BASE_URL", default="")
OPTIMIZER_API_KEY = env("OPTIMIZER_API_KEY", default="")
OPTIMIZER_MODEL = env("OPTIMIZER_MODEL", default="")
OPTIMIZER_TIMEOUT = env.float("OPTIMIZER_TIMEOUT", default=None)

# The router (calls/routing): job, clarify or none for what a caller says. "builtin" works
# offline and is deterministic (its thresholds are calibrated constants in calls/routing/engine.py,
# measured by bench/routing.py); "llm" asks the LLM endpoint and falls back to builtin, with a
# notice, on failure; a dotted path names another backend class. Both *_BACKEND settings are
# read by core/backends.py (short names in any case; `manage.py check` reports a bad one).
ROUTER_BACKEND = env("ROUTER_BACKEND", default="builtin")

# How often the Calls page and the home page ask for "N new calls" (static/js/poll.js), in
# seconds; a hidden tab does not ask.
NEW_CALLS_POLL_SECONDS = env.int("NEW_CALLS_POLL_SECONDS", default=15)

# Content-Security-Policy (django-csp, core/csp.py): only the app's own files. htmx is
# vendored in static/ and told not to inject its indicator <style> (base.html); no page has
# inline scripts, event handler attributes or style attributes. The admin gets one hash.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'"],  # htmx requests
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Client addresses (core/sources.py, read by django-ipware as django-axes does): how many
# reverse proxies stand in front of the app. 0 (the default): REMOTE_ADDR, X-Forwarded-For is
# ignored (anyone can write it). N: the N-th X-Forwarded-For entry from the right, the address
# the outermost proxy saw; then the app must be reachable only through those proxies. Counts are
# kept per source: an IPv4 address, or an IPv6 address's whole /64.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if env("TRUSTED_PROXIES", default=""):
    # The old setting (a list of proxy networks): refuse to start rather than count every
    # client as the proxy's address (one shared lockout and rate limit for everyone).
    raise ImproperlyConfigured("TRUSTED_PROXIES is gone: set TRUSTED_PROXY_COUNT instead.")

# Login brute-force protection (django-axes, database handler: holds across processes).
# 5 failures for one account from one source lock that pair for 15 minutes; a success resets.
# Besides, SIGNIN_SOURCE_FAILURE_LIMIT failures from one source across accounts (password
# spraying) lock the source for every account, for the same 15 minutes after its last failure;
# staff see and lift these in the admin (workspaces/signin.py).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # ip_address: the source
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # what AuthenticationForm (and the admin's) posts
AXES_USERNAME_CALLABLE = "workspaces.signin.axes_username"
AXES_CLIENT_IP_CALLABLE = "workspaces.signin.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "workspaces.signin.lockout_response"
AXES_HANDLER = "workspaces.signin.SigninHandler"
AXES_VERBOSE = False
SIGNIN_SOURCE_FAILURE_LIMIT = env.int("SIGNIN_SOURCE_FAILURE_LIMIT", default=20)

# Public sign-up (/accounts/signup/, workspaces/services/signup.py). Off: the page says sign-up
# is closed and the login page has no link to it (private installs: people join by invitation).
PLAYBOOK_PUBLIC_SIGNUP = env.bool("PLAYBOOK_PUBLIC_SIGNUP", default=True)
# Per source (core/sources.py) and hour: sign-ups, and requests for a new verification link,
# each counted in the cache like the API's bad tokens (Redis shares the counts between processes).
SIGNUP_SOURCE_LIMIT = env.int("SIGNUP_SOURCE_LIMIT", default=10)
# Per email address and hour: sign-up emails (verification links, "someone tried to sign up")
# sent to one address, whatever the source; past it, nothing is sent and the page says the same.
SIGNUP_EMAIL_LIMIT = env.int("SIGNUP_EMAIL_LIMIT", default=3)

# Runtime API: bad tokens per source and minute before 429 (callflows/throttle.py), counted in
# the cache by django-ratelimit. A valid token is never refused by it. Shared by every process
# with CACHE_URL=redis://… (production); with the default local-memory cache, per process.
API_BAD_TOKEN_LIMIT = env.int("API_BAD_TOKEN_LIMIT", default=30)
RATELIMIT_FAIL_OPEN = True  # the cache unreachable: a bad token gets its 401, not a 429

# Knowledge import from a web page (knowledge/fetch.py). Private, loopback and link-local
# addresses are refused so the import cannot reach internal services; tests turn this on to
# serve pages from 127.0.0.1.
# The address rule is core/netsafety.py's, for IPv6 forms that hide an IPv4 address too.
KNOWLEDGE_FETCH_ALLOW_PRIVATE = env.bool("KNOWLEDGE_FETCH_ALLOW_PRIVATE", default=False)
# Seconds for the whole fetch: DNS, connections, TLS, redirects, headers and body.
KNOWLEDGE_FETCH_DEADLINE = env.float("KNOWLEDGE_FETCH_DEADLINE", default=15.0)
# Seconds one socket operation may wait (a server gone silent), never past the deadline.
KNOWLEDGE_FETCH_TIMEOUT = env.float("KNOWLEDGE_FETCH_TIMEOUT", default=10.0)
KNOWLEDGE_FETCH_MAX_BYTES = env.int("KNOWLEDGE_FETCH_MAX_BYTES", default=5 * 1024 * 1024)

# Knowledge uploads, per request (knowledge/forms.py): files and their total size. Pages
# created per import, whatever the way in (knowledge.services.knowledge_import; the
# import_knowledge command may pass a larger --max-pages). Each PDF: pages and seconds to
# read its text (knowledge/sources.py).
KNOWLEDGE_UPLOAD_MAX_FILES = env.int("KNOWLEDGE_UPLOAD_MAX_FILES", default=20)
KNOWLEDGE_UPLOAD_MAX_BYTES = env.int("KNOWLEDGE_UPLOAD_MAX_BYTES", default=25 * 1024 * 1024)
KNOWLEDGE_IMPORT_MAX_PAGES = env.int("KNOWLEDGE_IMPORT_MAX_PAGES", default=200)
KNOWLEDGE_PDF_MAX_PAGES = env.int("KNOWLEDGE_PDF_MAX_PAGES", default=500)
KNOWLEDGE_PDF_DEADLINE = env.float("KNOWLEDGE_PDF_DEADLINE", default=20.0)
# Django's own count, a backstop above the form's (whose error names the limit); beyond it
# workspaces/middleware.py answers 400 with a page saying so.
DATA_UPLOAD_MAX_NUMBER_FILES = KNOWLEDGE_UPLOAD_MAX_FILES + 10

# Background work on Celery (config/celery.py). With a broker (redis://…), `make worker` runs a
# worker with beat; without one, tasks run in-process, eagerly, after the request's commit.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True  # tasks write their own results (ImportRun rows)
CELERY_TASK_ACKS_LATE = True  # a task lost with its worker runs again: tasks are idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {}  # filled by the tasks that are scheduled (see below)

# "Recently deleted" numbers, jobs and knowledge pages are restorable for this many days; then
# the daily purge_deleted task (callflows/tasks.py) deletes them for good.
DELETED_KEEP_DAYS = env.int("DELETED_KEEP_DAYS", default=30)
CELERY_BEAT_SCHEDULE["purge-deleted"] = {
    "task": "callflows.tasks.purge_deleted",
    "schedule": crontab(hour=3, minute=30),  # daily, 03:30 UTC
}

# Each task's total deadline (seconds): Celery's soft time limit on a worker, and checked
# between steps in eager mode too. The hard limit (the worker's child is killed) is 30 s later.
IMPORT_TIME_LIMITS = {"website": 60, "files": 300, "jobs": 300}
# Uploads larger than this in all, and jobs files of more jobs, are imported in the background
# (the page shows progress); smaller ones at once, in the request.
KNOWLEDGE_UPLOAD_BACKGROUND_BYTES = env.int(
    "KNOWLEDGE_UPLOAD_BACKGROUND_BYTES", default=1024 * 1024
)
JOBS_IMPORT_BACKGROUND_OVER = 1000
# Calls past each workspace's retention are pruned daily (calls/tasks.py, the prune_calls
# command's service).
CELERY_BEAT_SCHEDULE["calls.prune"] = {
    "task": "calls.tasks.prune_calls",
    "schedule": crontab(hour=3, minute=30),
}

# The Calls page's search reads a copy of the summaries (calls/search.py), made by this task
# of the calls created at least CALL_SEARCH_SETTLE_SECONDS ago: a new call is found within
# about their sum. Without a broker the Calls page makes the copy itself before it searches.
CALL_SEARCH_INDEX_SECONDS = env.int("CALL_SEARCH_INDEX_SECONDS", default=15)
CALL_SEARCH_SETTLE_SECONDS = env.int("CALL_SEARCH_SETTLE_SECONDS", default=10)
CELERY_BEAT_SCHEDULE["calls.index-summaries"] = {
    "task": "calls.tasks.index_call_summaries",
    "schedule": timedelta(seconds=CALL_SEARCH_INDEX_SECONDS),
}

# Webhooks (webhooks/): deliveries go only to public addresses (core/netsafety.py's rule, the
# knowledge import's), and endpoints must be https://. True allows private and loopback
# addresses and http:// (local testing against a server on 127.0.0.1); never in production.
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=False)
# Due deliveries (first tries whose queued task was lost, and retries) are picked every minute:
# retries are rows with a due time, not countdown tasks, so they survive worker restarts.
CELERY_BEAT_SCHEDULE["webhooks.deliver-due"] = {
    "task": "webhooks.tasks.deliver_due",
    "schedule": 60.0,
}
# Finished webhook messages (delivered or given up) and their delivery log are kept this many
# days, then deleted by the daily webhooks.tasks.prune.
WEBHOOK_LOG_DAYS = env.int("WEBHOOK_LOG_DAYS", default=30)
CELERY_BEAT_SCHEDULE["webhooks.prune"] = {
    "task": "webhooks.tasks.prune",
    "schedule": crontab(hour=4, minute=0),
}
# The alert rules are checked every ALERT_CHECK_SECONDS (outcomes/tasks.py; `manage.py
# check_alerts` runs the same check once).
ALERT_CHECK_SECONDS = env.int("ALERT_CHECK_SECONDS", default=600)
CELERY_BEAT_SCHEDULE["outcomes.check-alerts"] = {
    "task": "outcomes.tasks.check_alerts",
    "schedule": timedelta(seconds=ALERT_CHECK_SECONDS),
}
