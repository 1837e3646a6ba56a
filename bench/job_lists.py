"""Time the job library page (10,000 jobs) and the admin job list (100,000 jobs).

Run by hand against the database you want to measure, e.g.
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/playbook_bench .venv/bin/python bench/job_lists.py
It creates (once) a workspace "bench" with the jobs it needs and prints milliseconds and queries.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from jobs.models import Job  # noqa: E402
from workspaces.models import Membership, Role, User, Workspace  # noqa: E402

LIBRARY_JOBS = 10_000
ADMIN_JOBS = 100_000


def seed(workspace, count):
    have = Job.objects.filter(workspace=workspace).count()
    text = '1. Greet the caller.\n2. Ask: "How can I help?"\n3. Take a message.\n' * 10
    batch = [
        Job(
            workspace=workspace,
            name=f"{workspace.slug} job {i:06}",
            trigger="Caller asks",
            instructions=text,
        )
        for i in range(have, count)
    ]
    Job.objects.bulk_create(batch, batch_size=2000)


def timed(client, url, runs=15):
    times, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(ctx.captured_queries)
    return statistics.median(times), max(times), queries


def main():
    call_command("migrate", verbosity=0)
    user = User.objects.filter(email="bench@bench.test").first() or User.objects.create_superuser(
        "bench@bench.test", "bench"
    )
    small, _ = Workspace.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    big, _ = Workspace.objects.get_or_create(slug="bench-big", defaults={"name": "Bench big"})
    Membership.objects.get_or_create(user=user, workspace=small, defaults={"role": Role.OWNER})
    seed(small, LIBRARY_JOBS)
    seed(big, ADMIN_JOBS - LIBRARY_JOBS)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE jobs_job")
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    reset_queries()
    print(f"database: {connection.vendor}; jobs in table: {Job.objects.count():,}")
    for label, url in [
        (f"library, {LIBRARY_JOBS:,} jobs, page 1", "/jobs/"),
        ("library, sorted by last change, page 200", "/jobs/?sort=-updated&page=200"),
        ("library, search 'job 00999'", "/jobs/?q=job+00999"),
        ("library, search in instructions", "/jobs/?q=take+a+message"),
        (f"admin job list, {ADMIN_JOBS:,} jobs", "/admin/jobs/job/"),
        ("admin job list, search", "/admin/jobs/job/?q=job+00999"),
        ("admin job list, page 500", "/admin/jobs/job/?p=500"),
    ]:
        median, worst, queries = timed(client, url)
        print(f"{label:45} median {median:7.1f} ms   max {worst:7.1f} ms   {queries} queries")


if __name__ == "__main__":
    main()
