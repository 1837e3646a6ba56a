import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
_pages = get_wsgi_application()  # sets Django up

from config.handlers import RuntimeAPIHandler, application_with_api  # noqa: E402

application = application_with_api(_pages, RuntimeAPIHandler())
