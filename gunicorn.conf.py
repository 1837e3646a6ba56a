"""gunicorn's settings, read from the project folder: `gunicorn config.wsgi`.

preload_app: config/wsgi.py is imported once in the master, which loads the router's model
(calls/runtime.warm_up); the forked workers share its memory-mapped weights and answer the first
route as fast as the rest. Workers, bind and timeouts: gunicorn's own flags or GUNICORN_CMD_ARGS.
"""

preload_app = True

# The access log, with each request's id (config/requestid.py sets the X-Request-ID header).
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms id=%({x-request-id}o)s "%(a)s"'
