"""Throw-away PostgreSQL databases for the benches (127.0.0.1:5432, user postgres, trust)."""

import psycopg

SERVER_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def recreate_database(name: str) -> None:
    with psycopg.connect(SERVER_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    with psycopg.connect(SERVER_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def django_on(name: str, root) -> None:
    """A fresh database `name` and Django set up on it (test settings), for a page bench."""
    import os
    import sys

    recreate_database(name)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("PYTHONWARNINGS", "ignore:No directory at")
    sys.path.insert(0, str(root))
    import django

    django.setup()
