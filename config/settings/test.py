"""Test run: fast hashing, plain static storage; the database comes from DATABASE_URL."""

from .base import *  # noqa: F403
from .base import STORAGES

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tasks run in-process, after the commit, whatever the environment says; the one test that
# goes through a real broker and worker (tests/test_worker.py) sets the Celery app's conf.
CELERY_TASK_ALWAYS_EAGER = True
# A call is copied into the search index as soon as the Calls page searches (no worker in
# tests); tests/calls/test_summary_search.py checks the real wait.
CALL_SEARCH_SETTLE_SECONDS = 0
