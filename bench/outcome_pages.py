"""Time the job page and the number page, which lead with the before/after comparison and show
the outcomes per version (outcomes/selectors.py, read from the daily rollups), and
GET /api/v1/outcomes, at two numbers of calls in one workspace (PostgreSQL), and print the
ratio: the goal is flat (≈1.0×) from 10k to 1M calls, with the same query counts.

Run by hand (needs PostgreSQL at 127.0.0.1:5432, user postgres, trust auth):
    .venv/bin/python bench/outcome_pages.py [--small 10000] [--large 1000000] [--keep]

For each size it creates a throw-away database, migrates it, seeds the calls as
bench/calls_pages.py does (3 numbers, 10 jobs each created 90 days ago and edited 25, 15 and 5
days ago, about a year of calls, newest now, one generate_series INSERT), then gives each call
the job version and the call flow version live when it started (so every version has calls and
the comparison has two sides), rebuilds the rollups, times the pages and the outcomes' own
reads (outcomes/selectors.py, without the rest of the page), then drops the database (unless
--keep).

`extra()` lists more reads to time at each size, as (label, function(workspace, phone, job));
the alerts (`check_alerts`) are timed there once they exist. Run it from the project folder
(this file's name is also the app's: the app must come first on the path).
"""

import argparse
import logging
import time
from pathlib import Path

import _pg  # bench/_pg.py (the scripts run from bench/)
import calls_pages  # bench/calls_pages.py: the seed and the timer

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "playbook_ho_bench_outcomes"
RUNS = 15

# Each call's versions as they were when it started: the job's history row then (its four rows
# date from 90, 25, 15 and 5 days ago: calls before its creation count on its first), the call
# flow version 1 before its second publish, 12 days ago, and 2 since; and its number's Sona step.
VERSIONS = """
UPDATE calls_call c SET
    job_history_id = h.ids[CASE
        WHEN c.started_at >= now() - interval '5 days' THEN 4
        WHEN c.started_at >= now() - interval '15 days' THEN 3
        WHEN c.started_at >= now() - interval '25 days' THEN 2
        ELSE 1 END],
    version_number = CASE WHEN c.started_at < now() - interval '12 days' THEN 1 ELSE 2 END,
    step_key = s.key
FROM
    (SELECT id, array_agg(history_id ORDER BY history_id) AS ids
     FROM jobs_historicaljob GROUP BY id) h,
    (SELECT f.phone_number_id, s.key FROM callflows_step s
     JOIN callflows_callflow f ON f.id = s.call_flow_id WHERE s.kind = 'sona') s
WHERE h.id = c.job_id AND s.phone_number_id = c.phone_number_id
"""


def extra() -> list:
    """More reads to time: (label, function(workspace, phone, job)). Called once Django is set
    up: before, `outcomes` would name this file. (bench/alerts.py times the check alone.)"""
    from outcomes.alerts import check_alerts

    return [("check_alerts", lambda workspace, phone, job: check_alerts(workspace=workspace))]


def _second_publish(owner, phones):
    """A second version of each number (a renamed step), published 12 days ago."""
    from django.db import connection

    from callflows.models import StepKind
    from callflows.services import callflow_publish, step_update

    for phone in phones:
        step = phone.call_flow.steps.get(kind=StepKind.SONA)
        step_update(step=step, name="Front desk", settings=step.settings, user=owner)
        callflow_publish(call_flow=phone.call_flow, user=owner)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE callflows_callflowversion SET published_at = now() - "
            "(CASE WHEN number = 1 THEN 90 ELSE 12 END) * interval '1 day'"
        )


def measure(count: int, keep: bool) -> dict[str, tuple[float, float, int]]:
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client

    from callflows.models import PhoneNumber
    from calls import rollups
    from outcomes import selectors
    from workspaces.services import api_token_create

    _pg.recreate_database(DB_NAME)
    connections.close_all()
    try:
        call_command("migrate", verbosity=0)
        owner, workspace, phone, job = calls_pages.seed(count)
        phones = list(PhoneNumber.objects.filter(workspace=workspace).order_by("pk"))
        _second_publish(owner, phones)
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(VERSIONS)
            cursor.execute("ANALYZE calls_call")
        print(f"  versions given to the calls in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        rows = rollups.rebuild(workspace)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE calls_dailyoutcome")
        print(f"  rebuilt {rows:,} rollup rows in {time.perf_counter() - start:.1f} s")
        client = Client()
        client.force_login(owner)
        token = api_token_create(workspace=workspace, name="bench", user=owner).raw
        api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        phone = PhoneNumber.objects.get(pk=phone.pk)
        results = {}
        job_outcomes = selectors.job_outcomes(workspace=workspace, job=job)
        number_outcomes = selectors.number_outcomes(workspace=workspace, phone_number=phone)
        for label, outcomes in (("job", job_outcomes), ("number", number_outcomes)):
            comparison = outcomes.comparison
            print(f"  {label}: {comparison.sentence if comparison else 'no comparison'}")
        for label, url, c in (
            ("job page", f"/jobs/{job.pk}/", client),
            ("number page", f"/numbers/{phone.pk}/", client),
            ("API job", f"/api/v1/outcomes?job={job.pk}", api),
            ("API number", f"/api/v1/outcomes?number=%2B{phone.number[1:]}", api),
        ):
            median, worst, queries, _ = calls_pages.timed(c, url)
            print(f"  {label:<13} {median:>8.1f} ms median {worst:>8.1f} max {queries:>3} queries")
            results[label] = (median, worst, queries)
        reads = [
            ("job outcomes", lambda: selectors.job_outcomes(workspace=workspace, job=job)),
            (
                "number outc.",
                lambda: selectors.number_outcomes(workspace=workspace, phone_number=phone),
            ),
        ]
        reads += [(label, lambda fn=fn: fn(workspace, phone, job)) for label, fn in extra()]
        for label, fn in reads:
            median, worst, queries = _pg.timed_call(fn, RUNS)
            print(f"  {label:<13} {median:>8.1f} ms median {worst:>8.1f} max {queries:>3} queries")
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
