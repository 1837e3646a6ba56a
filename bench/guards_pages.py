"""Cost of the guard rails on the editor pages (PostgreSQL): the job editor with its action
picker (members by name, numbers by display name), the business-hours step page with its
time-zone datalist (on its own page and in the panel beside the call flow diagram), the
workspace settings with theirs, and the number page with its live API URL. Prints median and max
milliseconds of RUNS, query counts, and page weight (HTML bytes, gzipped bytes).

Run by hand (needs PostgreSQL at 127.0.0.1:5432, user postgres, trust auth):
    .venv/bin/python bench/guards_pages.py [--members 200] [--numbers 50]

It creates a throw-away database, migrates it, seeds one workspace, measures, then drops it.
"""

import argparse
import gzip
import logging
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = os.environ.get("BENCH_DB_NAME", "playbook_bench_guards")
SERVER_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
RUNS = 15


def database(action):
    with psycopg.connect(SERVER_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        if action == "create":
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--numbers", type=int, default=50)
    args = parser.parse_args()

    database("create")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from callflows import services
    from callflows.models import StepKind
    from tests.factories import JobFactory, MembershipFactory, PhoneNumberFactory
    from workspaces.models import Role

    try:
        call_command("migrate", verbosity=0)
        owner = MembershipFactory(role=Role.OWNER).user
        workspace = owner.memberships.get().workspace
        for i in range(args.members):
            MembershipFactory(workspace=workspace, role=Role.MEMBER, user__full_name=f"Member {i}")
        for _ in range(args.numbers):
            PhoneNumberFactory(workspace=workspace)
        phone = services.phone_number_create(
            workspace=workspace, number="+15555550100", display_name="Main line", user=owner
        )
        hours = services.step_add(
            call_flow=phone.call_flow, kind=StepKind.BUSINESS_HOURS, name="Hours", user=owner
        )
        closed = [
            {"date": f"2026-{m:02d}-{d:02d}", "name": "Closed"}
            for m in range(1, 13)
            for d in (1, 15)
        ]
        services.step_update(
            step=hours,
            name="Hours",
            settings={**hours.settings, "closed_dates": closed},
            user=owner,
        )
        job = JobFactory(workspace=workspace)
        logging.disable(logging.INFO)
        client = Client()
        client.force_login(owner)
        cases = [
            (
                f"job editor ({args.members + 1} members, {args.numbers + 1} numbers)",
                f"/jobs/{job.pk}/edit/",
            ),
            ("business-hours step (24 closed dates)", f"/numbers/{phone.pk}/steps/{hours.pk}/"),
            ("number page (live API URL)", f"/numbers/{phone.pk}/"),
            (
                "number page, business hours open beside the diagram",
                f"/numbers/{phone.pk}/?step={hours.pk}",
            ),
            ("settings page (time-zone list)", "/workspace/settings/"),
            ("tokens page (live API URL)", "/workspace/tokens/"),
        ]
        print(
            f"{'page':<52} {'median ms':>9} {'max ms':>7} {'queries':>7} {'HTML kB':>8} {'gzip kB':>8}"
        )
        for label, url in cases:
            times = []
            for _ in range(RUNS):
                with CaptureQueriesContext(connection) as queries:
                    start = time.perf_counter()
                    response = client.get(url)
                    times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            body = response.content
            print(
                f"{label:<52} {statistics.median(times):>9.1f} {max(times):>7.1f} "
                f"{len(queries):>7} {len(body) / 1024:>8.1f} {len(gzip.compress(body)) / 1024:>8.1f}"
            )
    finally:
        connection.close()
        database("drop")


if __name__ == "__main__":
    main()
