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


def timed_call(fn, runs: int) -> tuple[float, float, int]:
    """fn() `runs` times: the median and max milliseconds, and the queries of one run."""
    import statistics
    import time

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times), len(ctx.captured_queries)


def small_vs_large(measure, small: int, large: int, keep: bool) -> dict:
    """measure(count, keep) -> {label: (median ms, max ms, queries)} at both sizes (the large
    database kept with `keep`); prints each label's ratio large / small."""
    figures = {}
    for count in (small, large):
        print(f"{count:,} calls:")
        figures[count] = measure(count, keep and count == large)
    print(f"\nratio {large:,} / {small:,} calls (median; queries):")
    for label, (small_ms, _, small_queries) in figures[small].items():
        large_ms, _, large_queries = figures[large][label]
        print(
            f"  {label:<16} {large_ms / small_ms:.2f}×  ({small_ms:.1f} ms → {large_ms:.1f} ms; "
            f"{small_queries} → {large_queries} queries)"
        )
    return figures
