"""Production settings plus one extra URL (a trivial JSON view) for bench/runtime_api.py."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.trivial_urls"
