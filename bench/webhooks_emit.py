"""What webhooks add to every call report (PostgreSQL): webhooks.outbox.emit for a workspace
with no endpoint (one indexed query), with endpoints none of which wants the event, and with 3
subscribed endpoints (the query and one INSERT of 3 outbox rows), among 2,000 workspaces with 3
endpoints each. Prints median and p95 microseconds of RUNS emits inside a transaction.

Run by hand (needs PostgreSQL at 127.0.0.1:5432, user postgres, trust auth):
    .venv/bin/python bench/webhooks_emit.py [--workspaces 2000]

It creates a throw-away database (BENCH_DB_NAME, default playbook_bench_webhooks), migrates it,
seeds, measures, then drops it.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._pg import django_on, drop_database  # noqa: E402

DB_NAME = os.environ.get("BENCH_DB_NAME", "playbook_bench_webhooks")
RUNS = 2000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspaces", type=int, default=2000)
    args = parser.parse_args()
    django_on(DB_NAME, ROOT)
    try:
        run(args.workspaces)
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)


def run(count: int) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction

    from webhooks.models import WebhookEndpoint
    from webhooks.services import new_secret
    from workspaces.models import Workspace

    call_command("migrate", verbosity=0)
    spaces = Workspace.objects.bulk_create(
        Workspace(name=f"B{i}", slug=f"b{i}", time_zone="UTC") for i in range(count + 2)
    )
    none, other, busy = spaces[-2], spaces[-1], spaces[:-2]
    events = ["call.reported", "callflow.published", "alert.raised"]
    WebhookEndpoint.objects.bulk_create(
        WebhookEndpoint(
            workspace=w, url=f"https://h{w.pk}-{n}.example.com/", events=events, secret=new_secret()
        )
        for w in [*busy, other]
        for n in range(3)
    )
    WebhookEndpoint.objects.filter(workspace=other).update(events=["alert.raised"])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    from webhooks import outbox

    outbox.queue = lambda ids: None  # measure the writes, not the task queue
    data = {"id": 1, "number": "+15555550123", "summary": "x" * 200}
    for label, workspace in (
        ("no endpoint", none),
        ("endpoints, none for the event", other),
        ("3 subscribed endpoints", busy[len(busy) // 2]),
    ):
        times = []
        for _ in range(RUNS):
            with transaction.atomic():
                started = time.perf_counter()
                outbox.emit(workspace=workspace, event="call.reported", data=data)
                times.append((time.perf_counter() - started) * 1e6)
                transaction.set_rollback(True)
        times.sort()
        print(
            f"{label:32} median {statistics.median(times):7.0f} µs   "
            f"p95 {times[int(len(times) * 0.95)]:7.0f} µs"
        )


if __name__ == "__main__":
    main()
