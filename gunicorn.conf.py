"""gunicorn's settings, read from the project folder: `gunicorn config.wsgi`.

preload_app: config/wsgi.py is imported once in the master, which loads the router's model
(calls/runtime.warm_up); the forked workers share its memory-mapped weights and answer the first
route as fast as the rest.

Workers × threads (gthread): one worker per core, 4 threads each. A request mostly waits on
PostgreSQL or Redis, so threads overlap those waits, while one process per core uses every core
for the router's numpy work (BLAS is held to one thread per request).
- 2 cores: 2 workers × 4 threads (the default here: WEB_CONCURRENCY unset on a 2-core machine).
- 8 cores: 8 workers × 4 threads; give PostgreSQL max_connections ≥ 8 × 4 + the Celery workers
  (or put PgBouncer in front).
WEB_CONCURRENCY (workers) and GUNICORN_THREADS override; so do gunicorn's own flags and
GUNICORN_CMD_ARGS. Each worker adds about 60 MB beyond the shared model.
"""

import os

preload_app = True
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 2)
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
timeout = 30  # a request may wait on a 20 s LLM call (LLM_TIMEOUT); longer work goes to Celery
graceful_timeout = 30
max_requests = 10_000  # recycle workers now and then, staggered, against slow leaks
max_requests_jitter = 1_000

# The access log, with each request's id (config/requestid.py sets the X-Request-ID header).
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms id=%({x-request-id}o)s "%(a)s"'
