"""Time the job page's and the number page's 30-day charts (read from the daily rollups) at two
numbers of calls in one workspace (PostgreSQL), and print the ratio: the goal is flat (≈1.0×)
from 10k to 1M calls. Also times `rebuild_rollups` (the migration's fill) at each size.

Run by hand (needs PostgreSQL at 127.0.0.1:5432, user postgres, trust auth):
    .venv/bin/python bench/rollups.py [--small 10000] [--large 1000000] [--keep]

For each size it creates a throw-away database, migrates it, seeds the calls as
bench/calls_pages.py does (3 numbers, 10 jobs with edits, about a year of calls, newest now, one
generate_series INSERT, so no rollup rows), rebuilds the rollups, times the pages, then drops
the database (unless --keep).
"""

import argparse
import logging
import time
from pathlib import Path

import _pg  # bench/_pg.py (the scripts run from bench/)
import calls_pages  # bench/calls_pages.py: the seed and the timer

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "playbook_bench_rollups"


def measure(count: int, keep: bool) -> dict[str, tuple[float, float, int]]:
    from django.db import connection, connections
    from django.test import Client

    from calls import rollups
    from calls.models import DailyOutcome
    from calls.selectors import activity

    _pg.recreate_database(DB_NAME)
    connections.close_all()
    try:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        owner, workspace, phone, job = calls_pages.seed(count)
        start = time.perf_counter()
        rows = rollups.rebuild(workspace)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE calls_dailyoutcome")
        print(f"  rebuilt {rows:,} rollup rows in {time.perf_counter() - start:.1f} s")
        assert DailyOutcome.objects.count() == rows
        client = Client()
        client.force_login(owner)
        results = {}
        pages = (
            ("job page", f"/jobs/{job.pk}/", activity.job_activity(workspace=workspace, job=job)),
            (
                "number page",
                f"/numbers/{phone.pk}/",
                activity.number_activity(workspace=workspace, phone_number=phone),
            ),
        )
        for label, url, chart in pages:
            median, worst, queries, _ = calls_pages.timed(client, url)
            total = chart.total
            print(
                f"  {label:<12} {median:>8.1f} ms median {worst:>8.1f} max {queries:>3} queries"
                f" ({total:,} calls in its chart)"
            )
            results[label] = (median, worst, queries)
        return results
    finally:
        connections.close_all()
        if not keep:
            _pg.drop_database(DB_NAME)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the last database afterwards")
    args = parser.parse_args()

    _pg.django_on(DB_NAME, ROOT)
    logging.disable(logging.INFO)  # django-axes logs every login

    _pg.small_vs_large(measure, args.small, args.large, args.keep)


if __name__ == "__main__":
    main()
