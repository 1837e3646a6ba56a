import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
_pages = get_wsgi_application()  # sets Django up

from django.urls import get_resolver  # noqa: E402

from calls.runtime import warm_up  # noqa: E402
from config.handlers import RuntimeAPIHandler, application_with_api  # noqa: E402

# The router's model is loaded (memory-mapped) and run once now, before the first request: with
# gunicorn's preload_app (gunicorn.conf.py) in the master, so every worker shares its pages. The
# URL patterns are imported too (every view and the API's schemas), not by each worker's first
# request.
warm_up()
get_resolver().check()  # imports every URL module (and so every view)

application = application_with_api(_pages, RuntimeAPIHandler())
