"""Throughput of the runtime endpoints GET …/live, POST …/route and POST /api/v1/calls under
gunicorn.

Run by hand (needs PostgreSQL at 127.0.0.1:5432, user postgres, trust auth):
    .venv/bin/python bench/runtime_api.py [--seconds 10] [--concurrency 8]

It creates a throw-away database, seeds a large workspace (10,000 jobs; one number whose
published call flow has 20 Sona steps with 10 jobs each), starts gunicorn with the production
settings plus one trivial JSON view served with no middleware and no database
(bench/settings_bench.py, bench/trivial_urls.py, bench/wsgi_bench.py), loads both URLs from a
second process and compares them, with the default cache and with Redis (CACHE_URL). It also counts the endpoint's queries in-process.
Everything it started or created is stopped and dropped at the end.
"""

import argparse
import gzip
import http.client
import importlib.util
import json
import multiprocessing
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _pg  # bench/_pg.py (the scripts run from bench/)

ROOT = Path(__file__).resolve().parent.parent
# Overridable, so two people benching on one machine do not drop each other's database.
DB_NAME = os.environ.get("BENCH_DB_NAME", "playbook_bench_api")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
NUMBER = "+15550100000"
JOBS = 10_000
STEPS = 20
JOBS_PER_STEP = 10
PAGES = 20  # knowledge pages of 20,000 characters on the first step
TARGET = 0.80  # live rps must reach 80% of the trivial view's rps
ROUTE_TARGET = 0.50  # route rps must reach 50% of it (issue 10)
REPORT_TARGET = 0.50  # call reports: 50% of one plain INSERT + COMMIT (issue 22)
REPORT_QUERIES = 2  # at most, per new report (pinned in tests/calls/test_calls_api.py)
NEW_ID = b"%NEW_ID%"  # replaced by a fresh id in every request: every report inserts
ROUTE_BODY = json.dumps({"said": "I need to move my appointment to Friday afternoon"}).encode()
# 100,000 different sentences, so no two requests of a run share a decision.
ROUTE_NEW_BODIES = [
    json.dumps({"said": f"my order {n} has a problem with the delivery, call {n % 97}"}).encode()
    for n in range(100_000)
]
WARMUP_SECONDS = 2
ROUNDS = 5  # each URL's load time is split into this many rounds, alternating the two URLs
# Two workers (one per core) with 4 threads each: 8 requests in flight, matching the
# default concurrency, and threads overlap each worker's database round trips. gthread also keeps
# connections alive, which the sync worker does not.
WORKERS, THREADS = 2, 4

# Django is set up only in the parent (inside main), never at import time: the load generator is
# a spawned process that imports this module and must stay a plain HTTP client.
ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    # WhiteNoise warns that collectstatic never ran; irrelevant to JSON endpoints.
    "PYTHONWARNINGS": "ignore:No directory at",
}


# Database ----------------------------------------------------------------------------------


def recreate_database():
    _pg.recreate_database(DB_NAME)


def drop_database():
    _pg.drop_database(DB_NAME)


def job_texts(i):
    """About 1,500 characters per job, different for every job."""
    lines = [
        f"Greet the caller and say this is the line for topic {i}.",
        "Ask for their name and the reason for the call; listen without interrupting.",
        "If they are an existing customer, ask for the account number and read it back.",
        "Explain the next step in one or two plain sentences and check they understood.",
        "If the caller is upset, acknowledge it first, then offer the quickest way forward.",
        "Never promise a refund, a discount or a date; say a colleague will confirm it.",
        "If the question is outside this job, say so and offer to take a message instead.",
        "Take a message: name, number, a short summary, and the best time to call back.",
        "Read the message back to the caller and correct anything they point out.",
        "Before ending, ask whether there is anything else and thank them for calling.",
        "Keep answers short; let the caller finish; do not read these instructions aloud.",
        "If the line is bad, ask them to repeat once, then offer to call back.",
        "Spell out email addresses letter by letter when reading them back.",
        "Close with the company name and a friendly goodbye.",
    ]
    return {
        "name": f"Job {i:05}",
        "description": f"Handles callers asking about topic {i}: questions, changes and messages "
        "for the team, during and outside business hours.",
        "trigger": f"Caller asks about topic {i} or wants to leave a message about it.",
        "instructions": "\n".join(f"{n}. {line}" for n, line in enumerate(lines, start=1)),
    }


def seed():
    """The workspace, its jobs, the published 20-step flow and a token; returns the raw token."""
    from django.db import connection

    from callflows.models import StepKind
    from callflows.services import (
        callflow_publish,
        phone_number_create,
        step_add,
        step_attach_job,
        step_attach_knowledge,
    )
    from jobs.models import Job
    from knowledge.services import knowledge_page_create
    from workspaces.models import User
    from workspaces.services import api_token_create, workspace_create

    user = User.objects.create_user("bench@bench.test", secrets.token_urlsafe(16))
    workspace = workspace_create(name="Bench API", owner=user)
    # The bulk of the library only has to exist; bulk_create skips history rows, which is fine.
    Job.objects.bulk_create(
        (Job(workspace=workspace, created_by=user, **job_texts(i)) for i in range(1, JOBS + 1)),
        batch_size=2000,
    )
    # The call flow goes through the services, so steps, attachments and the version are real.
    phone = phone_number_create(
        workspace=workspace, number=NUMBER, display_name="Bench line", user=user
    )
    flow = phone.call_flow
    for n in range(2, STEPS + 1):  # the number starts with one Sona step
        step_add(call_flow=flow, kind=StepKind.SONA, name=f"Sona {n}", user=user)
    jobs = list(Job.objects.filter(workspace=workspace).order_by("pk")[: STEPS * JOBS_PER_STEP])
    for s, step in enumerate(flow.steps.order_by("position")):
        for job in jobs[s * JOBS_PER_STEP : (s + 1) * JOBS_PER_STEP]:
            step_attach_job(step=step, job=job, user=user)
    # The first step also quotes 20 knowledge pages of 20,000 characters (issue 9).
    first = flow.steps.order_by("position").first()
    for n in range(1, PAGES + 1):
        body = (f"Page {n}: opening hours, prices and policies. " * 500)[:20_000]
        page = knowledge_page_create(workspace=workspace, user=user, title=f"Page {n}", body=body)
        step_attach_knowledge(step=first, page=page, user=user)
    version = callflow_publish(call_flow=flow, user=user, note="bench")
    raw_token = api_token_create(workspace=workspace, name="Bench runtime", user=user).raw
    with connection.cursor() as cursor:
        # The report's baseline table: calls_call's columns, no index but the primary key.
        cursor.execute(
            "CREATE TABLE bench_call (LIKE calls_call INCLUDING DEFAULTS INCLUDING IDENTITY)"
        )
        cursor.execute("ALTER TABLE bench_call ADD PRIMARY KEY (id)")
        cursor.execute("ANALYZE")  # fresh tables: give the planner real statistics
    return raw_token, version.number


def count_queries(token):
    """Queries of one live request on a cache miss and on a hit (test Client, same database)."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from callflows import live

    client = Client(HTTP_HOST="localhost", headers={"Authorization": f"Bearer {token}"})
    counts = []
    cache.clear()
    live._bodies.clear()
    for _ in ("miss", "hit"):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/api/v1/numbers/{NUMBER}/live")
        assert response.status_code == 200, response.status_code
        counts.append(len(ctx.captured_queries))
    return counts


def report_body(step_key, job_id, started_at):
    """A realistic call report (about 2 KB with its transcript), NEW_ID as its external id."""
    ended_at = started_at + timedelta(minutes=3)
    return json.dumps(
        {
            "number": NUMBER,
            "external_id": "CA-%NEW_ID%",
            "caller": "+15555550142",
            "started_at": started_at.isoformat(),
            "ended_at": ended_at.isoformat(),
            "step": step_key,
            "job": job_id,
            "score": 0.87,
            "outcome": "sms_sent",
            "actions": [{"type": "send_sms", "status": "ok", "detail": "Opening hours sent."}],
            "summary": "The caller asked for the opening hours; Sona texted them. " * 4,
            "next_steps": ["Nothing to do.", "Check the SMS was delivered."],
            "transcript": "Caller: When are you open?\nSona: From 9 to 5, every day.\n" * 20,
            "recording_url": "https://recordings.example.test/CA-1.mp3",
        }
    ).encode()


def report_seed(token):
    """The report body for the bench's number: its first Sona step and first job, started now
    (after the seeded version was published, so that version is found for every report)."""
    from callflows.models import PhoneNumber

    flow = PhoneNumber.objects.get(number=NUMBER).call_flow
    step = flow.steps.order_by("position").first()
    job_id = step.step_jobs.order_by("position").values_list("job_id", flat=True).first()
    return report_body(step.key, job_id, datetime.now(UTC))


def count_report_queries(token, body):
    """Queries of a new report once the process is warm (the token leased, the version's step
    names kept: the first report reads them) and of its retry (test Client, same database)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost", headers={"Authorization": f"Bearer {token}"})
    first = client.post(
        "/api/v1/calls", body.replace(NEW_ID, b"warm-up"), content_type="application/json"
    )
    assert first.status_code == 201, (first.status_code, first.content[:300])
    sent = body.replace(NEW_ID, b"count-queries")
    counts = []
    for expected in (201, 200):
        with CaptureQueriesContext(connection) as ctx:
            response = client.post("/api/v1/calls", sent, content_type="application/json")
        assert response.status_code == expected, (response.status_code, response.content[:300])
        counts.append(len(ctx.captured_queries))
    return counts


def report_target(token, body):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return ("POST", "/api/v1/calls", headers, body, 201)


# gunicorn ----------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port, cache_url, log):
    env = {**os.environ, **ENV, "DJANGO_SETTINGS_MODULE": "bench.settings_bench"}
    env.pop("CACHE_URL", None)
    if cache_url:
        env["CACHE_URL"] = cache_url
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "bench.wsgi_bench",
        f"--workers={WORKERS}",
        "--worker-class=gthread",
        f"--threads={THREADS}",
        f"--bind=127.0.0.1:{port}",
        f"--chdir={ROOT}",
        f"--pythonpath={ROOT}",  # so `bench` (settings and URLs) is importable
        "--log-level=warning",
    ]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            if get(port, "/bench/trivial")[0] == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    stop(process)
    raise RuntimeError("gunicorn did not answer within 30 s")


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def get(port, path, headers=None, method="GET", body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        conn.close()


def live_headers(token):
    # Like a real runtime client: it accepts the pre-compressed body (both URLs send this).
    return {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}


def check_live(port, token):
    """The live response must be 200 JSON with every step and job; returns its size in bytes."""
    status, content_type, body = get(port, f"/api/v1/numbers/{NUMBER}/live", live_headers(token))
    assert status == 200, (status, body[:200])
    assert content_type == "application/json", content_type
    steps = json.loads(gzip.decompress(body))["steps"]
    assert len(steps) == STEPS, len(steps)
    assert all(len(step["jobs"]) == JOBS_PER_STEP for step in steps)
    assert len(steps[0]["knowledge"]) == PAGES
    return len(body)


def check_route(port, target):
    """The route answer must be 200 JSON naming a job of the first step; returns its size."""
    method, path, headers, body = target
    status, content_type, answer = get(port, path, headers, method=method, body=body)
    assert status == 200, (status, answer[:300])
    assert content_type == "application/json", content_type
    assert {"job", "runner_up", "ambiguous", "actions", "why"} <= set(json.loads(answer))
    return len(answer)


# Load generator (runs in a second process) -------------------------------------------------


def load(port, target, seconds, concurrency, expected_size):
    """`concurrency` keep-alive connections, one per thread, each sending requests back to back
    for `seconds`. A response counts as an error unless it is a 200 of the expected size."""
    method, path, headers, bodies = target[:4]
    status = target[4] if len(target) > 4 else 200
    bodies = bodies if isinstance(bodies, list) else [bodies]
    fresh = bodies[0] is not None and NEW_ID in bodies[0]
    deadline = time.perf_counter() + seconds

    def worker():
        turn = 0
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies, errors = [], 0
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                turn += 1
                sent = bodies[turn % len(bodies)]
                if fresh:  # a new external id: the report is a new call, never a replay
                    sent = sent.replace(NEW_ID, secrets.token_hex(12).encode())
                conn.request(method, path, body=sent, headers=headers)
                response = conn.getresponse()
                size = len(response.read())
                ok = response.status == status and expected_size in (None, size)
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()  # reconnects on the next request
            latencies.append((time.perf_counter() - start) * 1000)
            errors += not ok
        conn.close()
        return latencies, errors

    cpu, started = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(lambda _: worker(), range(concurrency)))
    return {
        "latencies": [ms for latencies, _ in results for ms in latencies],
        "errors": sum(errors for _, errors in results),
        "elapsed": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,  # CPU the generator itself used, all threads
    }


def summary(rounds):
    latencies = sorted(ms for r in rounds for ms in r["latencies"])
    elapsed = sum(r["elapsed"] for r in rounds)
    return {
        "requests": len(latencies),
        "errors": sum(r["errors"] for r in rounds),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p99": statistics.quantiles(latencies, n=100)[98],
        "client_cores": sum(r["cpu"] for r in rounds) / elapsed,
    }


def run(label, cache_url, token, args, report):
    """One gunicorn server, both URLs loaded in alternating rounds; returns the error count."""
    port = free_port()
    targets = {  # name: (method, path, headers, body)
        "trivial": ("GET", "/bench/trivial", {"Accept-Encoding": "gzip"}, None),
        "live": ("GET", f"/api/v1/numbers/{NUMBER}/live", live_headers(token), None),
        # For comparison: a client that does not accept gzip gets the full JSON.
        "identity": (
            "GET", f"/api/v1/numbers/{NUMBER}/live", {"Authorization": f"Bearer {token}"}, None
        ),
        # The router on the first Sona step (10 jobs), as the runtime asks it on a call: the
        # same sentence again and again (answered from the decision cache after the first)...
        "route": (
            "POST",
            f"/api/v1/numbers/{NUMBER}/route",
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            ROUTE_BODY,
        ),
        # ...and a different sentence every time: every request runs the router.
        "route-new": (
            "POST",
            f"/api/v1/numbers/{NUMBER}/route",
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            ROUTE_NEW_BODIES,
        ),
        # A finished call reported, a new external id every time: every request inserts.
        "report": report,
        # Its baseline: one psycopg INSERT + COMMIT of the same body (bench/wsgi_bench.py).
        "insert": ("POST", "/bench/insert", {"Content-Type": "application/json"}, report[3], 201),
    }  # fmt: skip
    # The baselines are always loaded: every ratio needs its own.
    keep = {"trivial", "insert", *args.only.split(",")} if args.only else set(targets)
    loaded = {name: t for name, t in targets.items() if name in keep}
    with tempfile.TemporaryFile() as log:
        server = start_gunicorn(port, cache_url, log)
        try:
            sizes = {
                "trivial": len(b'{"ok": true}'),
                "live": check_live(port, token),
                "identity": len(get(port, targets["identity"][1], targets["identity"][2])[2]),
                "route": check_route(port, targets["route"]),
                "route-new": None,  # sizes differ by sentence: status 200 is checked
                "report": None,  # ids differ: status 201 is checked
                "insert": None,
            }
            rounds = {name: [] for name in loaded}
            # spawn, not fork: the child must not inherit this process's Django connections.
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                for name, target in loaded.items():  # warm-up, results discarded
                    pool.apply(load, (port, target, WARMUP_SECONDS, args.concurrency, sizes[name]))
                # Short alternating rounds, so load from other processes on the machine hits
                # both URLs alike instead of skewing whichever ran during a busy moment.
                for _ in range(ROUNDS):
                    for name, target in loaded.items():
                        seconds = args.seconds / ROUNDS
                        rounds[name].append(
                            pool.apply(load, (port, target, seconds, args.concurrency, sizes[name]))
                        )
        finally:
            stop(server)
            log.seek(0)
            server_log = log.read().decode(errors="replace").strip()
    results = {name: summary(r) for name, r in rounds.items()}
    print(f"\ncache: {label}; live response {sizes['live']:,} bytes, 200 JSON, {STEPS} steps")
    print(f"  {'':8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'requests':>9}")
    for name, r in results.items():
        print(
            f"  {name:8} {r['rps']:8.0f} {r['p50']:8.1f} {r['p99']:8.1f} {r['errors']:7}"
            f" {r['requests']:9,}   (load generator used {r['client_cores']:.2f} CPU)"
        )
    ratios = [  # (path, its baseline, target or None, what it is)
        ("live", "trivial", TARGET, "live/trivial req/s"),
        ("route", "trivial", ROUTE_TARGET, "route/trivial req/s (one sentence repeated)"),
        (
            "route-new",
            "trivial",
            ROUTE_TARGET,
            "route-new/trivial req/s (a new sentence each time)",
        ),
        (
            "report",
            "insert",
            REPORT_TARGET,
            "report/insert req/s (POST /api/v1/calls, every one a new call, against one psycopg "
            "INSERT + COMMIT of the same body)",
        ),
        (
            "identity",
            "trivial",
            None,
            f"without gzip ({sizes['identity']:,} bytes) identity/trivial",
        ),
    ]
    for name, base, target, what in ratios:
        if name not in results:
            continue
        ratio = results[name]["rps"] / results[base]["rps"]
        verdict = (
            ""
            if target is None
            else f" (target >= {target:.0%}): " + ("PASS" if ratio >= target else "FAIL")
        )
        print(f"  {what}: {ratio:.0%}{verdict}")
    if server_log:
        print("  gunicorn log:\n    " + server_log.replace("\n", "\n    "))
    return sum(r["errors"] for r in results.values())


def clear_redis_entry():
    """Start the Redis run cold (bodies left by an earlier run), and tidy up after it."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


# Main --------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="load per URL (default 10)")
    parser.add_argument("--concurrency", type=int, default=8, help="connections (default 8)")
    parser.add_argument(
        "--only", default="", help="comma-separated paths to load, e.g. report,insert (default all)"
    )
    parser.add_argument("--no-redis", action="store_true", help="skip the run with Redis")
    args = parser.parse_args()

    os.environ.update(ENV)
    warnings.filterwarnings("ignore", "No directory at")
    os.environ.pop("CACHE_URL", None)  # in-process: the default local-memory cache
    sys.path.insert(0, str(ROOT))
    recreate_database()
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    errors = 0
    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        token, version = seed()
        print(
            f"database {DB_NAME}: {JOBS:,} jobs, number {NUMBER} with {STEPS} Sona steps x "
            f"{JOBS_PER_STEP} jobs and {PAGES} knowledge pages of 20,000 characters, "
            f"published version {version} "
            f"(seeded in {time.perf_counter() - started:.1f} s)"
        )
        miss, hit = count_queries(token)
        ok = "OK" if miss <= 3 and hit == 0 else "UNEXPECTED"  # same in both cache modes
        errors += ok != "OK"
        print(
            f"queries per live request (in-process, test Client; the same with Redis): body miss "
            f"{miss} (expected <= 3), body hit {hit} (expected 0: the lookup is leased, live.FRESH_SECONDS): {ok}"
        )
        print(
            f"gunicorn: {WORKERS} workers x {THREADS} threads (gthread) on {os.cpu_count()} CPUs;"
            f" load: 1 separate process, {args.concurrency} keep-alive connections,"
            f" {WARMUP_SECONDS} s warm-up + {args.seconds:g} s per URL in {ROUNDS} alternating"
            f" rounds; machine load average {os.getloadavg()[0]:.1f}"
        )
        report = report_target(token, report_seed(token))
        new, retry = count_report_queries(token, report[3])
        ok = "OK" if new <= REPORT_QUERIES and retry <= 4 else "UNEXPECTED"
        errors += ok != "OK"
        print(
            f"queries per call report (in-process, test Client): new call {new} "
            f"(expected <= {REPORT_QUERIES}), retry {retry} (expected <= 4): {ok}"
        )
        connections.close_all()  # gunicorn and the drop below need no idle connection of ours
        errors += run("local memory (default, one per worker)", None, token, args, report)
        if args.no_redis:
            pass
        elif importlib.util.find_spec("redis"):
            clear_redis_entry()
            try:
                errors += run(f"Redis ({REDIS_URL})", REDIS_URL, token, args, report)
            finally:
                clear_redis_entry()
        else:
            print(
                "\ncache: Redis: SKIPPED, the `redis` package is not installed in this "
                "environment (Django's Redis cache backend needs it); not installed by this script."
            )
    finally:
        connections.close_all()
        drop_database()
        print(f"\ndropped database {DB_NAME}")
    if errors:
        print(f"{errors} failures (unexpected query counts, or non-200 / wrong-size responses)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
