"""Time `manage.py import_jobs` on 10,000-record files.

Run by hand (needs PostgreSQL at 127.0.0.1:5432, user postgres, trust auth):
    .venv/bin/python bench/import_jobs.py [--records 10000]

It creates a throw-away database (BENCH_DB, default playbook_bench_import), imports 10,000 new
jobs, re-imports them all changed (10,000 updates, each carrying its exported revision), then
imports a 10,000-record file whose last record is bad (refused, nothing changes). It prints
seconds and queries for each and drops the database at the end. Goals: new < 15 s, refusal < 5 s.
"""

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = os.environ.get("BENCH_DB", "playbook_bench_import")
SERVER_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
STEPS = [
    "Greet the caller and say the business name.",
    'Ask: "What is your name and the best number to reach you?"',
    "If the caller refuses, say you can still help and continue.",
    "Ask what the call is about and repeat it back in one sentence.",
    "If they ask for prices, read them from the knowledge page; never guess.",
    "Offer the next free appointment slot and confirm the date and time.",
    "Tell the caller someone will call back within one business day.",
    "Thank the caller and end the call.",
]


def admin_db(sql):
    with psycopg.connect(SERVER_DSN, autocommit=True) as conn:
        conn.execute(sql)


class QueryCounter:
    """Counts queries without DEBUG's query log (which would slow the run down)."""

    count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def records(count, *, version):
    steps = [f"{i}. {step} (v{version})" for i, step in enumerate(STEPS * 3, start=1)]
    return [
        {
            "name": f"Bench job {i:05}",
            "description": f"Imported job number {i} for the benchmark.",
            "trigger": f"Caller asks about topic {i}.",
            "instructions": "\n".join(steps),
            **({"revision": version - 1} if version > 1 else {}),
        }
        for i in range(count)
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    count = parser.parse_args().records

    admin_db(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
    admin_db(f'CREATE DATABASE "{DB_NAME}"')
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")  # DEBUG off
    sys.path.insert(0, str(ROOT))
    try:
        run(count)
    finally:
        from django.db import connections

        connections.close_all()
        admin_db(f'DROP DATABASE IF EXISTS "{DB_NAME}"')


def run(count):
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.db import connection

    from jobs.models import Job
    from workspaces.models import Membership, Role, User, Workspace

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench@bench.test", "bench")
    workspace = Workspace.objects.create(slug="bench", name="Bench")
    Membership.objects.create(user=user, workspace=workspace, role=Role.OWNER)

    bad = records(count, version=3)
    bad[-1]["instructions"] = "x" * 10_001
    cases = [
        (f"{count:,} new jobs", records(count, version=1), True),
        (f"{count:,} updates (re-import, all changed)", records(count, version=2), True),
        (f"{count:,} records, last one bad (refused)", bad, False),
    ]
    print(f"database: {connection.vendor} ({DB_NAME})")
    with tempfile.TemporaryDirectory() as folder:
        for label, data, should_pass in cases:
            path = Path(folder) / "jobs.json"
            path.write_text(json.dumps(data), encoding="utf-8")
            history_before = Job.history.count()
            queries = QueryCounter()
            start = time.perf_counter()
            with connection.execute_wrapper(queries):
                try:
                    call_command(
                        "import_jobs",
                        str(path),
                        "--workspace",
                        "bench",
                        "--user",
                        user.email,
                        stdout=io.StringIO(),
                    )
                    outcome = "imported"
                except CommandError as exc:
                    outcome = f"refused: {str(exc)[:70]}"
            seconds = time.perf_counter() - start
            added = Job.history.count() - history_before
            assert (added == count) == should_pass, (label, added)
            print(
                f"{label:45} {seconds:6.2f} s  {queries.count:4} queries  +{added} history rows  {outcome}"
            )


if __name__ == "__main__":
    main()
