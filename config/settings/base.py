"""Settings shared by every environment. Values come from the environment (django-environ)."""

from datetime import timedelta
from pathlib import Path

import environ

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
    "workspaces",
    "jobs",
    "knowledge",
    "callflows",
    "calls",
]

MIDDLEWARE = [
    "config.requestid.RequestIdMiddleware",  # first: every later log line carries the id
    "django.middleware.security.SecurityMiddleware",
    "workspaces.csp.PlaybookCSPMiddleware",
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
LOGIN_REDIRECT_URL = "jobs:list"
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

# The LLM endpoint (workspaces/llm.py): any OpenAI-compatible chat-completions API, shared by the
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
# notice, on failure; a dotted path names another backend.
ROUTER_BACKEND = env("ROUTER_BACKEND", default="builtin")

# Content-Security-Policy (django-csp, workspaces/csp.py): only the app's own files. htmx is
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

# Client addresses (workspaces/clients.py): REMOTE_ADDR, unless it is one of these reverse
# proxies (addresses or networks, e.g. "10.0.0.0/8"); then the right-most X-Forwarded-For hop
# that is not one of them. Empty (the default): X-Forwarded-For is ignored, it can be forged.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# Login brute-force protection (django-axes, database handler: holds across processes).
# 5 failures for one account from one address lock that pair for 15 minutes; a success resets.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # what AuthenticationForm (and the admin's) posts
AXES_USERNAME_CALLABLE = "workspaces.signin.axes_username"
AXES_CLIENT_IP_CALLABLE = "workspaces.signin.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "workspaces.signin.lockout_response"
AXES_VERBOSE = False

# Runtime API: bad tokens per client address and minute before 429 (callflows/throttle.py).
API_BAD_TOKEN_LIMIT = env.int("API_BAD_TOKEN_LIMIT", default=30)

# Knowledge import from a web page (knowledge/fetch.py). Private, loopback and link-local
# addresses are refused so the import cannot reach internal services; tests turn this on to
# serve pages from 127.0.0.1.
KNOWLEDGE_FETCH_ALLOW_PRIVATE = env.bool("KNOWLEDGE_FETCH_ALLOW_PRIVATE", default=False)
KNOWLEDGE_FETCH_TIMEOUT = env.float("KNOWLEDGE_FETCH_TIMEOUT", default=10.0)
KNOWLEDGE_FETCH_MAX_BYTES = env.int("KNOWLEDGE_FETCH_MAX_BYTES", default=5 * 1024 * 1024)

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
