import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
_pages = get_wsgi_application()  # sets Django up

from calls.runtime import warm_up  # noqa: E402
from config.handlers import RuntimeAPIHandler, application_with_api  # noqa: E402

# The router's model is loaded (memory-mapped) and run once now, before the first request: with
# gunicorn's preload_app (gunicorn.conf.py) in the master, so every worker shares its pages.
warm_up()

application = application_with_api(_pages, RuntimeAPIHandler())
