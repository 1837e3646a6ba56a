"""Time `check_alerts` (the alert check Celery beat runs every 10 minutes) at two numbers of calls
in one workspace (PostgreSQL), each rule on its own too, and print the ratio: the goal is flat
(≈1.0×) from 10k to 1M calls.

Run by hand (needs PostgreSQL at 127.0.0.1:5432, user postgres, trust auth):
    .venv/bin/python bench/alerts.py [--small 10000] [--large 1000000] [--keep]

For each size it creates a throw-away database, migrates it, seeds the calls as
bench/calls_pages.py does (3 numbers, 10 jobs with edits, about a year of calls, newest now, a
quarter of them with a failed transfer), points the calls at the numbers' real Sona step, attaches
the jobs to the steps and publishes (so every rule has live steps, jobs and versions to read),
rebuilds the rollups, then times the check (the first run raises the alerts; the timed runs find
them standing). A second Sona step with no calls shows the step rule's worst case: a step without
recent calls walks the number's calls of the look-back (30 days) on its index.
"""

import argparse
import logging
import time
from pathlib import Path

import _pg  # bench/_pg.py (the scripts run from bench/)
import calls_pages  # bench/calls_pages.py: the seed

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "playbook_bench_alerts"
RUNS = 25


def prepare(owner, workspace, *, empty_step: bool):
    """Calls on the real Sona step of each number; the jobs attached; published again."""
    from django.db import connection

    from callflows.models import PhoneNumber, StepKind
    from callflows.services import callflow_publish, step_add, step_attach_job
    from calls import rollups
    from jobs.models import Job

    jobs = list(Job.objects.filter(workspace=workspace).order_by("pk"))
    for phone in PhoneNumber.objects.filter(workspace=workspace).order_by("pk"):
        flow = phone.call_flow
        sona = flow.steps.get(kind=StepKind.SONA)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE calls_call SET step_key = %s, step_name = %s WHERE phone_number_id = %s",
                [sona.key, sona.name, phone.pk],
            )
        for job in jobs:
            step_attach_job(step=sona, job=job, user=owner)
        if empty_step:
            step_add(call_flow=flow, kind=StepKind.SONA, name="After hours", user=owner)
        callflow_publish(call_flow=flow, user=owner)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE calls_call")
    start = time.perf_counter()
    rollups.rebuild(workspace)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE calls_dailyoutcome")
    print(f"  prepared (steps, jobs, publish, rollups) in {time.perf_counter() - start:.1f} s")


def measure(count: int, keep: bool, empty_step: bool) -> dict[str, tuple[float, float, int]]:
    from django.db import connections
    from django.utils import timezone

    from outcomes import alerts
    from outcomes.models import Alert, AlertRule

    _pg.recreate_database(DB_NAME)
    connections.close_all()
    try:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        owner, workspace, _, _ = calls_pages.seed(count)
        prepare(owner, workspace, empty_step=empty_step)
        first = alerts.check_alerts(workspace=workspace)
        print(f"  first check raised {len(first.raised)} alert(s):")
        for alert in first.raised:
            print(f"    {alert.message}")
        results = {}
        median, worst, queries = _pg.timed_call(
            lambda: alerts.check_alerts(workspace=workspace), RUNS
        )
        print(
            f"  {'check_alerts':<16} {median:>8.1f} ms median {worst:>8.1f} max {queries:>3} queries"
        )
        results["check_alerts"] = (median, worst, queries)
        rules = {r.kind: r for r in AlertRule.objects.filter(workspace=workspace)}
        # as in the check: the open alerts stand (a standing breach reads no calls for links)
        standing = set(Alert.objects.open().values_list("rule_id", "subject"))
        for kind, check in alerts.CHECKS.items():
            rule = rules[kind]

            def one(check=check, rule=rule):
                ctx = alerts._Context(workspace, timezone.now())
                ctx.open_keys = standing
                check(ctx, rule)

            median, worst, queries = _pg.timed_call(one, RUNS)
            print(f"  {kind:<16} {median:>8.1f} ms median {worst:>8.1f} max {queries:>3} queries")
            results[kind] = (median, worst, queries)
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
    parser.add_argument(
        "--empty-step",
        action="store_true",
        help="add a second Sona step without calls to each number (the step rule's worst case)",
    )
    args = parser.parse_args()

    _pg.django_on(DB_NAME, ROOT)
    logging.disable(logging.INFO)

    _pg.small_vs_large(
        lambda count, keep: measure(count, keep, args.empty_step), args.small, args.large, args.keep
    )


if __name__ == "__main__":
    main()
