"""Time the Calls pages at 1,000,000 calls in one workspace (PostgreSQL): the list's page 1 and
page 5,000 (keyset cursors), filtered lists, a summary search (with or without the trigram
index), the job page and the number page. Prints milliseconds (median and max of RUNS) and
query counts; goal: each under 150 ms with a constant query count.

Run by hand (needs PostgreSQL at 127.0.0.1:5432, user postgres, trust auth):
    .venv/bin/python bench/calls_pages.py [--calls 1000000] [--keep]

It creates a throw-away database, migrates it, seeds one workspace (3 numbers, 10 jobs with
edits in the last 30 days) and inserts the calls with one generate_series INSERT (about a year
of calls, newest now), then drops the database (unless --keep).
"""

import argparse
import logging
import statistics
import time
from datetime import timedelta
from pathlib import Path

import _pg  # bench/_pg.py (the scripts run from bench/)

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "playbook_bench_calls"
RUNS = 15
GOAL_MS = 150
ADMIN_GOAL_MS = 300
PAGE_SIZE_HINT = 50


def drop_database():
    _pg.drop_database(DB_NAME)


INSERT = """
INSERT INTO calls_call (
    workspace_id, phone_number_id, number, source, external_id, caller, started_at, ended_at,
    version_number, step_key, step_name, job_id, job_name, job_history_id, score, outcome,
    actions, summary, next_steps, transcript, recording_url, idempotency_key, request_digest,
    created_at
)
SELECT
    %(workspace)s,
    (%(phones)s::int[])[1 + g %% 3],
    (%(numbers)s::text[])[1 + g %% 3],
    CASE WHEN g %% 20 = 0 THEN 'mock' ELSE 'live' END,
    'ext-' || g,
    '+1555' || lpad((g %% 10000000)::text, 7, '0'),
    now() - (g * %(spacing)s) * interval '1 second',
    now() - (g * %(spacing)s - 95) * interval '1 second',
    1, 's1', 'Sona',
    (%(jobs)s::int[])[1 + (g / 3) %% 10],
    (%(job_names)s::text[])[1 + (g / 3) %% 10],
    (%(history)s::int[])[1 + (g / 3) %% 10],
    0.5 + (g %% 50) / 100.0,
    (ARRAY['resolved','resolved','resolved','message_taken','transferred','sms_sent',
           'voicemail','caller_hung_up','no_job_matched','failed'])[1 + (g * 7) %% 10],
    CASE WHEN g %% 4 = 0 THEN '[{"type": "send_sms", "status": "ok"}]'::jsonb
         WHEN g %% 4 = 1 THEN '[{"type": "transfer_call", "status": "failed", "detail": "busy"}]'::jsonb
         ELSE '[]'::jsonb END,
    'The caller asked about topic ' || (g %% 997) || ' and order ' || g
      || CASE WHEN g %% 5000 = 0 THEN ' and wanted a refund for a broken blender.'
              ELSE '; Sona answered from the knowledge pages and confirmed the details.' END,
    '["Call the customer back", "Check the order"]'::jsonb,
    CASE WHEN g %% 10 = 0 THEN repeat('Caller: hello. Sona: hi, how can I help? ', 40) ELSE '' END,
    '', '', '',
    now()
FROM generate_series(1, %(count)s) AS g
"""


def seed(count: int):
    from django.db import connection

    from callflows.models import PhoneNumber
    from callflows.services import callflow_publish, phone_number_create
    from jobs.models import Job
    from jobs.services import job_create, job_update
    from workspaces.models import Membership, Role, User, Workspace

    owner = User.objects.create_user(email="owner@bench.test", password="x", full_name="Owner")
    workspace = Workspace.objects.create(name="Bench", slug="bench")
    Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    phones = [
        phone_number_create(
            workspace=workspace, number=f"+1555010000{i}", display_name=f"Line {i}", user=owner
        )
        for i in range(3)
    ]
    for phone in phones:
        callflow_publish(call_flow=phone.call_flow, user=owner)
    jobs = []
    for i in range(10):
        data = {"name": f"Job {i}", "trigger": f"Topic {i}", "instructions": "1. Help."}
        job = job_create(workspace=workspace, user=owner, data=data)
        for edit in range(3):  # edits 25, 15 and 5 days ago
            job = job_update(job=job, user=owner, data={**data, "instructions": f"{edit}. Help."})
        jobs.append(job)
    with connection.cursor() as cursor:
        # spread the history: created 90 days ago, edited 25, 15 and 5 days ago
        for job in jobs:
            ids = list(job.history.order_by("history_id").values_list("history_id", flat=True))
            for history_id, days in zip(ids, (90, 25, 15, 5), strict=True):
                cursor.execute(
                    "UPDATE jobs_historicaljob SET history_date = now() - %s * interval '1 day' "
                    "WHERE history_id = %s",
                    [days, history_id],
                )
        cursor.execute(
            "UPDATE callflows_callflowversion SET published_at = now() - interval '12 days'"
        )
        history = [job.history.latest("history_id").history_id for job in jobs]
        start = time.perf_counter()
        cursor.execute("DROP INDEX IF EXISTS callsearch_summary_trgm")
        cursor.execute(
            INSERT,
            {
                "workspace": workspace.pk,
                "phones": [p.pk for p in phones],
                "numbers": [p.number for p in phones],
                "jobs": [j.pk for j in jobs],
                "job_names": [j.name for j in jobs],
                "history": history,
                "spacing": 365 * 86400 / count,
                "count": count,
            },
        )
        inserted = time.perf_counter() - start
        # the search index as the worker leaves it: every call's summary copied (calls/search.py)
        cursor.execute(
            "INSERT INTO calls_callsearch (call_id, workspace_id, summary) "
            "SELECT id, workspace_id, summary FROM calls_call"
        )
        cursor.execute(
            "CREATE INDEX callsearch_summary_trgm ON calls_callsearch "
            "USING gin ((UPPER(summary::text)) gin_trgm_ops)"
        )
        cursor.execute("ANALYZE calls_call")
        cursor.execute("ANALYZE calls_callsearch")
    print(
        f"seeded {count:,} calls in {inserted:.1f} s "
        f"(+ search copy and its trigram index {time.perf_counter() - start - inserted:.1f} s)"
    )
    return (
        owner,
        workspace,
        PhoneNumber.objects.get(pk=phones[0].pk),
        Job.objects.get(pk=jobs[0].pk),
    )


def timed(client, url, runs=RUNS):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            if response.streaming:
                b"".join(response.streaming_content)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(ctx.captured_queries)
    return statistics.median(times), max(times), queries, response


def explain(sql_queryset) -> str:
    plan = sql_queryset.explain()
    used = [
        name
        for name in (
            "callsearch_summary_trgm",
            "call_recent",
            "call_job_recent",
            "call_number_recent",
            "call_outcome_recent",
            "call_mock_recent",
            "call_started",  # every workspace's newest first (the admin's; one workspace here)
        )
        if name in plan
    ]
    return ", ".join(used) or "no index"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    _pg.django_on(DB_NAME, ROOT)
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from calls.models import Call
    from calls.selectors import log

    try:
        call_command("migrate", verbosity=0)
        owner, workspace, phone, job = seed(args.calls)
        logging.disable(logging.INFO)  # django-axes logs every login
        client = Client()
        client.force_login(owner)

        everything = log.calls_filtered(workspace=workspace, filters=log.CallFilters())
        page_size = log.LIST_PAGE_SIZE
        # the last row of page 5,000 (or as deep as a smaller run goes)
        deep_row = min(5_000 * page_size, args.calls - 2 * page_size) - 1
        deep = everything.only("pk", "started_at")[deep_row]
        deep_cursor = log.cursor_encode(deep)
        # a cursor followed from page 1, a few pages deep, to check the links chain
        first = log.call_page(everything)
        third = log.call_page(everything, after=log.call_page(everything, after=first.older).older)
        today = timezone.localdate()
        week_ago = today - timedelta(days=7)
        cases = [
            ("list, page 1", "/calls/"),
            ("list, page 3 (followed)", f"/calls/?after={third.older}"),
            ("list, page 5,001 (cursor after row 250,000)", f"/calls/?after={deep_cursor}"),
            ("list, page 5,001 'Newer' link", f"/calls/?before={deep_cursor}"),
            ("list, job filter", f"/calls/?job={job.pk}"),
            ("list, job filter, page 5,001", f"/calls/?job={job.pk}&after={deep_cursor}"),
            ("list, outcome=failed", "/calls/?outcome=failed"),
            ("list, source=mock", "/calls/?source=mock"),
            ("list, source=all", "/calls/?source=all"),
            ("list, job filter, source=all", f"/calls/?job={job.pk}&source=all"),
            (
                "list, number + last 7 days",
                f"/calls/?number={phone.pk}&date_from={week_ago}&date_to={today}",
            ),
            ("list, search 'refund' (rare: 1 in 5,000)", "/calls/?q=refund"),
            ("list, search 'topic 42 ' (1 in 1,000)", "/calls/?q=topic+42+"),
            ("list, search 'knowledge' (common)", "/calls/?q=knowledge"),
            ("list, outcome + search 'refund'", "/calls/?outcome=resolved&q=refund"),
            ("job page (30-day chart)", f"/jobs/{job.pk}/"),
            ("number page (30-day chart)", f"/numbers/{phone.pk}/"),
            (
                "CSV export, one day of one job",
                f"/calls/export.csv?job={job.pk}&date_from={today}&date_to={today}",
            ),
        ]
        # Support staff: admin Calls over every workspace (issue 22: under 300 ms at 1M calls).
        from workspaces.models import User

        staff = User.objects.create_superuser("staff@bench.test", "bench-password-1")
        staff_client = Client()
        staff_client.force_login(staff)
        some = everything.only("external_id", "caller")[1000]
        admin_cases = [
            ("admin Calls, page 1", "/admin/calls/call/"),
            ("admin Calls, page 100", "/admin/calls/call/?p=100"),
            ("admin Calls, exact external id", f"/admin/calls/call/?q={some.external_id}"),
            ("admin Calls, outcome filter", "/admin/calls/call/?outcome__exact=failed"),
        ]
        total = Call.objects.filter(workspace=workspace).count()
        print(f"{total:,} calls in the workspace; {page_size} per page; {RUNS} runs each")
        print(
            f"deep cursor: after row {deep_row + 1:,} (page {(deep_row + 1) // page_size + 1:,})\n"
        )
        print(f"{'page':<46} {'median ms':>10} {'max ms':>8} {'queries':>8}  goal")
        for label, url in cases:
            median, worst, queries, _ = timed(client, url)
            verdict = "ok" if median < GOAL_MS else "OVER"
            print(f"{label:<46} {median:>10.1f} {worst:>8.1f} {queries:>8}  {verdict}")
        for label, url in admin_cases:
            median, worst, queries, _ = timed(staff_client, url)
            verdict = "ok" if median < ADMIN_GOAL_MS else "OVER"
            print(
                f"{label:<46} {median:>10.1f} {worst:>8.1f} {queries:>8}  goal {ADMIN_GOAL_MS}: {verdict}"
            )

        print("\nindexes the planner picks (EXPLAIN):")
        for label, filters in [
            ("no filter (real calls)", log.CallFilters()),
            ("source=mock", log.CallFilters(source="mock")),
            ("source=all", log.CallFilters(source=log.ALL_SOURCES)),
            ("job", log.CallFilters(job_id=job.pk)),
            ("job, source=mock", log.CallFilters(job_id=job.pk, source="mock")),
            ("search 'refund'", log.CallFilters(search="refund")),
            ("search 'knowledge'", log.CallFilters(search="knowledge")),
            (
                "outcome + search 'refund'",
                log.CallFilters(outcome="resolved", search="refund"),
            ),
        ]:
            qs = log.calls_filtered(workspace=workspace, filters=filters)[:51]
            print(f"  {label:<28} {explain(qs)}")
        deep_qs = log._older_than(everything, *log.cursor_decode(deep_cursor))[:51]
        print(f"  {'page 5,001 (cursor)':<28} {explain(deep_qs)}")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database()


if __name__ == "__main__":
    main()
