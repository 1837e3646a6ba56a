"""Issue 22.4, pages flat in the number of jobs (PostgreSQL): the Calls list and a Sona step's
jobs panel with 10,000 jobs against the same pages with 10 jobs, and the jobs library search
against the plain library at 10,000 jobs. Prints milliseconds (median of RUNS), bytes, queries
and the ratios; goals: Calls list and panel <= 1.5x, search <= 2x.

Run by hand (needs PostgreSQL at 127.0.0.1:5432, user postgres, trust auth):
    cd bench && ../.venv/bin/python jobs_flat.py [--jobs 10000] [--keep]

It creates a throw-away database, migrates it (pg_trgm and the jobs' trigram indexes), seeds two
workspaces (10 jobs; --jobs jobs), each with a number, 3 jobs on its Sona step and 300 calls,
then drops the database (unless --keep).
"""

import argparse
import logging
import statistics
import time
from datetime import timedelta
from pathlib import Path

import _pg  # bench/_pg.py (the scripts run from bench/)

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "playbook_bench_jobs_flat"
RUNS = 15
CALLS = 300


def seed(slug: str, jobs: int, owner, index: int):
    from django.utils import timezone

    from callflows.services import phone_number_create, step_attach_job
    from calls.models import Call, Outcome, Source
    from jobs.models import Job
    from workspaces.models import Membership, Role, Workspace

    workspace = Workspace.objects.create(name=slug, slug=slug)
    Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    phone = phone_number_create(
        workspace=workspace, number=f"+1555010{index:04}", display_name=slug, user=owner
    )
    text = '1. Greet the caller.\n2. Ask: "How can I help?"\n3. Take a message.\n' * 10
    Job.objects.bulk_create(
        (
            Job(
                workspace=workspace,
                name=f"{slug} job {i:06}",
                description=f"Handles topic {i}.",
                trigger=f"Caller asks about topic {i}",
                instructions=text,
            )
            for i in range(jobs)
        ),
        batch_size=2000,
    )
    sona = phone.call_flow.steps.get(kind="sona")
    for job in Job.objects.filter(workspace=workspace).order_by("pk")[:3]:
        step_attach_job(step=sona, job=job, user=owner)
    some = list(Job.objects.filter(workspace=workspace).order_by("pk")[:10])
    now = timezone.now()
    Call.objects.bulk_create(
        Call(
            workspace=workspace,
            phone_number=phone,
            number=phone.number,
            source=Source.LIVE,
            caller="+15550001234",
            started_at=now - timedelta(minutes=i),
            job=some[i % len(some)],
            job_name=some[i % len(some)].name,
            outcome=Outcome.RESOLVED,
            summary=f"Call {i}",
        )
        for i in range(CALLS)
    )
    return workspace, phone, sona


def timed(client, url, runs=RUNS):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            # the search endpoint answers htmx only (opened as a page it redirects)
            htmx = {"HTTP_HX_REQUEST": "true"} if "job_q=" in url else {}
            response = client.get(url, **htmx)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), len(response.content), len(ctx.captured_queries)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    _pg.django_on(DB_NAME, ROOT)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from workspaces.models import User

    try:
        call_command("migrate", verbosity=0)
        owner = User.objects.create_user(email="owner@bench.test", password="x")
        sizes = {"few": 10, "many": args.jobs}
        seeded = {
            name: seed(f"bench-{name}", count, owner, i)
            for i, (name, count) in enumerate(sizes.items())
        }
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        logging.disable(logging.INFO)  # django-axes logs every login
        client = Client()
        client.force_login(owner)
        results = {}
        for name, (workspace, phone, sona) in seeded.items():
            session = client.session
            session["workspace_id"] = workspace.pk
            session.save()
            panel = reverse("callflows:step_jobs", args=[phone.pk, sona.pk])
            pages = {
                "calls": "/calls/",
                "calls, job search": f"{reverse('calls:job_options')}?job_q=job+0000",
                "panel": panel,
                "panel, search": f"{panel}?q=topic+99",
                "jobs": "/jobs/",
                "jobs, search": "/jobs/?q=topic+99",
            }
            for label, url in pages.items():
                results[name, label] = timed(client, url)
                ms, size, queries = results[name, label]
                print(
                    f"{sizes[name]:>6} jobs  {label:20} {ms:7.1f} ms  {size:8,} B  {queries} queries"
                )

        def ratio(a, b):
            return results[a][0] / results[b][0]

        print()
        print(
            f"Calls list  {args.jobs} vs 10 jobs: {ratio(('many', 'calls'), ('few', 'calls')):.2f}x"
        )
        print(
            f"Jobs panel  {args.jobs} vs 10 jobs: {ratio(('many', 'panel'), ('few', 'panel')):.2f}x"
        )
        print(
            f"Jobs search vs plain list at {args.jobs}: "
            f"{ratio(('many', 'jobs, search'), ('many', 'jobs')):.2f}x"
        )
    finally:
        connection.close()
        if not args.keep:
            _pg.drop_database(DB_NAME)


if __name__ == "__main__":
    main()
