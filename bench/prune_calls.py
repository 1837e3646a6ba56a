"""prune_calls at 1,000,000 calls: total time, the longest batch (transaction, so lock) and the
worst latency of reports inserted meanwhile.

Run by hand (needs PostgreSQL at 127.0.0.1:5432, user postgres, trust auth):
    .venv/bin/python bench/prune_calls.py [--old 1000000] [--batch-size 5000]

It creates a throw-away database, migrates it, inserts (SQL generate_series) OLD calls older
than the workspace's 365 days, 50,000 calls between 40 and 300 days old whose transcripts the
30-day transcript retention clears, and 50,000 recent calls that stay. It times a dry run, then
runs calls_prune (the service prune_calls calls) while a second process inserts calls in a loop
on its own connection (the shape of POST /api/v1/calls: one INSERT … RETURNING id per report),
and prints the total time, every batch's duration (the goal: none over 1 s) and the inserter's
worst latency. The database is dropped at the end.
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

import _pg  # bench/_pg.py (the scripts run from bench/)
import psycopg

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "playbook_bench_prune"
DB_DSN = f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}"
MIDDLE = RECENT = 50_000
GOAL_SECONDS = 1.0

COLUMNS = (
    "workspace_id, number, source, external_id, caller, started_at, ended_at, step_key, "
    "step_name, job_name, outcome, actions, summary, next_steps, transcript, recording_url, "
    "idempotency_key, request_digest, created_at"
)
TRANSCRIPT = "Sona: Thanks for calling. How can I help?\nCaller: I would like to book a table. " * 6


def insert_sql(count: int, start: str, step: str) -> str:
    """`count` calls, started `start` ago and one `step` apart, going back in time."""
    return f"""
        INSERT INTO calls_call ({COLUMNS})
        SELECT %(ws)s, '+15550100000', 'live', 'bench-' || %(tag)s || '-' || g,
               '+1555555' || lpad((g %% 10000)::text, 4, '0'),
               now() - interval '{start}' - g * interval '{step}',
               now() - interval '{start}' - g * interval '{step}' + interval '2 minutes',
               'sona1', 'Sona', 'Book a table', 'resolved', '[]'::jsonb,
               'The caller booked a table for ' || (g %% 8 + 1) || ' people.', '[]'::jsonb,
               %(transcript)s, '', '', '', now()
        FROM generate_series(1, {count}) AS g
    """


def recreate_database():
    _pg.recreate_database(DB_NAME)


def drop_database():
    _pg.drop_database(DB_NAME)


def inserter(workspace_id: int, stop, results) -> None:
    """A second connection reporting calls in a loop, each its own transaction."""
    latencies, n = [], 0
    sql = (
        f"INSERT INTO calls_call ({COLUMNS}) VALUES (%s, '+15550100000', 'live', %s, "
        "'+15555550123', now(), now(), 'sona1', 'Sona', 'Book a table', 'resolved', '[]', "
        "'The caller booked a table.', '[]', 'Caller: hello', '', %s, '', now()) RETURNING id"
    )
    with psycopg.connect(DB_DSN, autocommit=True) as conn:
        while not stop.is_set():
            n += 1
            started = time.perf_counter()
            conn.execute(sql, (workspace_id, f"live-{n}", f"key-{n}")).fetchone()
            latencies.append(time.perf_counter() - started)
            time.sleep(0.005)
    results.put(latencies)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", type=int, default=1_000_000, help="Calls to delete.")
    parser.add_argument("--batch-size", type=int, default=5_000)
    args = parser.parse_args()

    recreate_database()
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from calls import services
    from calls.models import Call
    from workspaces.models import Workspace

    try:
        call_command("migrate", verbosity=0)
        ws = Workspace.objects.create(
            name="Bench", slug="bench", call_retention_days=365, transcript_retention_days=30
        )
        started = time.perf_counter()
        with connection.cursor() as cur:
            params = {"ws": ws.pk, "transcript": TRANSCRIPT}
            cur.execute(insert_sql(args.old, "366 days", "1 second"), {**params, "tag": "old"})
            cur.execute(insert_sql(MIDDLE, "40 days", "5 minutes"), {**params, "tag": "mid"})
            cur.execute(insert_sql(RECENT, "1 hour", "30 seconds"), {**params, "tag": "new"})
            cur.execute("VACUUM ANALYZE calls_call")
        total = Call.objects.count()
        print(f"Inserted {total:,} calls in {time.perf_counter() - started:.1f} s.")

        started = time.perf_counter()
        [dry] = services.calls_prune(workspace=ws, dry_run=True)
        print(
            f"Dry run: {dry.calls_deleted:,} calls and {dry.transcripts_cleared:,} transcripts "
            f"counted in {time.perf_counter() - started:.2f} s."
        )

        ctx = multiprocessing.get_context("spawn")
        stop, results = ctx.Event(), ctx.Queue()
        worker = ctx.Process(target=inserter, args=(ws.pk, stop, results))
        worker.start()
        time.sleep(1.0)  # the inserter is connected and running before the prune starts
        batches = []
        started = time.perf_counter()
        [result] = services.calls_prune(
            workspace=ws,
            batch_size=args.batch_size,
            on_batch=lambda kind, rows, seconds: batches.append((kind, rows, seconds)),
        )
        elapsed = time.perf_counter() - started
        stop.set()
        latencies = results.get(timeout=30)
        worker.join(timeout=30)

        for kind in ("delete", "transcripts"):
            times = [s for k, _, s in batches if k == kind]
            rows = sum(r for k, r, _ in batches if k == kind)
            if times:
                print(
                    f"{kind:>11}: {rows:,} rows in {len(times)} batches; batch median "
                    f"{statistics.median(times) * 1000:.0f} ms, longest {max(times) * 1000:.0f} ms"
                )
        longest = max(s for _, _, s in batches)
        print(
            f"Prune: {result.calls_deleted:,} calls deleted, {result.transcripts_cleared:,} "
            f"transcripts cleared in {elapsed:.1f} s "
            f"({result.calls_deleted / elapsed:,.0f} calls/s)."
        )
        verdict = "OK" if longest <= GOAL_SECONDS else "OVER"
        print(f"Longest batch (transaction, row locks held): {longest * 1000:.0f} ms [{verdict}]")
        latencies.sort()
        print(
            f"Concurrent inserts during the prune: {len(latencies):,}, median "
            f"{statistics.median(latencies) * 1000:.1f} ms, p99 "
            f"{latencies[int(len(latencies) * 0.99) - 1] * 1000:.1f} ms, worst "
            f"{latencies[-1] * 1000:.1f} ms"
        )
        left = Call.objects.filter(workspace=ws)
        print(
            f"Left: {left.count():,} calls ({left.exclude(transcript='').count():,} with a "
            "transcript)."
        )
    finally:
        connection.close()
        drop_database()


if __name__ == "__main__":
    main()
