"""What is live is live within a second, in every process (callflows/live.py: FRESH_SECONDS).

The server runs as a separate process (gunicorn, 2 workers, production settings) on its own
database; changes are committed by management commands in other processes; then the live
endpoint is read through both workers. This is the only way to prove that no process keeps
serving what it remembered.
"""

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from callflows.live import FRESH_SECONDS

ROOT = Path(__file__).resolve().parent.parent
NUMBER = "+15555550100"  # the demo's "Main line", published with three jobs
OWNER = "owner@demo.test"
REDIS_URL = "redis://127.0.0.1:6379/15"
# The tests that flush REDIS_URL's database run one after another in one xdist worker.
ON_REDIS_15 = pytest.mark.xdist_group("redis-db-15")


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def database_url(tmp_path):
    """A database of its own, which the server and the commands share."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    params = connection.settings_dict
    name = f"playbook_fresh_{os.getpid()}"
    admin = psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=params["USER"],
        password=params["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}"')
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    try:
        yield f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


class Site:
    def __init__(self, env, tmp_path):
        self.env = env
        self.log = tmp_path / "access.log"
        self.port = None
        self.server = None
        self.token = None

    def manage(self, *args):
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def shell(self, code):
        return self.manage("shell", "--no-imports", "-c", code)

    def start(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--workers=2",
                "--worker-class=gthread",
                "--threads=4",
                f"--bind=127.0.0.1:{self.port}",
                f"--access-logfile={self.log}",
                "--access-logformat=%(p)s %(s)s",
                "--log-level=warning",
            ],
            cwd=ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.server.poll() is None, "gunicorn exited"
            try:
                if self.get()[0] in (200, 401, 404):
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("gunicorn did not answer within 30 s")

    def stop(self):
        if self.server:
            self.server.terminate()
            self.server.wait(timeout=15)

    def get(self, token=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(
                "GET",
                f"/api/v1/numbers/{NUMBER}/live",
                headers={"Authorization": f"Bearer {token or self.token}"},
            )
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            conn.close()

    def read_through_both_workers(self, token=None):
        """Answers to concurrent requests until both workers have answered some; returns all.
        Called right after a change another process committed, it waits out the lease first:
        what each worker looked up before the change may be used for FRESH_SECONDS, no longer."""
        time.sleep(FRESH_SECONDS + 0.05)
        for _ in range(20):
            logged = len(self.log.read_text().splitlines()) if self.log.exists() else 0
            with ThreadPoolExecutor(16) as pool:
                answers = list(pool.map(lambda _: self.get(token), range(32)))
            time.sleep(0.1)  # the access log is written after the response
            pids = {line.split()[0] for line in self.log.read_text().splitlines()[logged:]}
            if len(pids) >= 2:
                return answers
        raise AssertionError("only one gunicorn worker answered")


@pytest.fixture(params=["default cache", "redis"])
def site(request, database_url, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "PYTHONWARNINGS": "ignore",
        # Many revoked-token requests below; the limit itself: tests/callflows/test_api_throttle.py
        "API_BAD_TOKEN_LIMIT": "100000",
    }
    env.pop("CACHE_URL", None)
    if request.param == "redis":
        if not _redis_up():
            pytest.skip("needs Redis at 127.0.0.1:6379 (runs in CI)")
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        env["CACHE_URL"] = REDIS_URL
    site = Site(env, tmp_path)
    site.manage("migrate", "--noinput", "-v0")
    site.manage("demo")
    site.token = site.shell(
        "from workspaces.models import *; from workspaces.services import api_token_create;"
        f"u = User.objects.get(email='{OWNER}');"
        "print(api_token_create(workspace=Workspace.objects.get(slug='demo'), name='rt', user=u).raw)"
    ).split()[-1]
    site.start()
    yield site
    site.stop()


def _all(answers, check):
    assert all(status == 200 and check(body) for status, body in answers), answers[:2]


@pytest.mark.slow
@ON_REDIS_15
def test_changes_from_other_processes_are_served_within_a_second_by_every_worker(site, tmp_path):
    # Every worker has the demo's version 1 in memory.
    _all(site.read_through_both_workers(), lambda b: b["version"]["number"] == 1)
    first_job = site.read_through_both_workers()[0][1]["steps"]
    sona = next(s for s in first_job if s["kind"] == "sona")
    job = sona["jobs"][0]

    # A job edit (import_jobs, another process) is live within a second.
    import_file = tmp_path / "jobs.json"
    data = [
        {k: v for k, v in job.items() if k not in ("id", "actions")}
        | {"instructions": "Edited by import."}
    ]
    import_file.write_text(json.dumps(data))
    site.manage("import_jobs", "--workspace", "demo", "--user", OWNER, str(import_file))
    _all(
        site.read_through_both_workers(),
        lambda b: (
            next(s for s in b["steps"] if s["kind"] == "sona")["jobs"][0]["instructions"]
            == "Edited by import."
        ),
    )

    # A draft change published by publish_callflow is live within a second.
    site.shell(
        "from callflows.models import *; from callflows.services import step_detach_job;"
        "from workspaces.models import User;"
        f"s = Step.objects.get(call_flow__phone_number__number='{NUMBER}', kind='sona', name='Sona');"
        f"step_detach_job(step=s, job=s.jobs.get(pk={job['id']}), user=User.objects.get(email='{OWNER}'))"
    )
    site.manage("publish_callflow", "--number", NUMBER, "--user", OWNER, "--note", "fresh")
    _all(
        site.read_through_both_workers(),
        lambda b: (
            b["version"]["number"] == 2
            and job["id"] not in [j["id"] for s in b["steps"] for j in s.get("jobs", [])]
        ),
    )

    # A rollback is live within a second.
    site.manage("rollback_callflow", "--number", NUMBER, "--version", "1", "--user", OWNER)
    _all(
        site.read_through_both_workers(),
        lambda b: (
            b["version"]["number"] == 3
            and job["id"] in [j["id"] for s in b["steps"] for j in s.get("jobs", [])]
        ),
    )

    # A rename is live within a second.
    site.shell(
        "from callflows.models import PhoneNumber; from callflows.services import "
        "phone_number_rename; from workspaces.models import User;"
        f"phone_number_rename(phone_number=PhoneNumber.objects.get(number='{NUMBER}'), "
        f"display_name='Renamed line', user=User.objects.get(email='{OWNER}'))"
    )
    _all(site.read_through_both_workers(), lambda b: b["display_name"] == "Renamed line")

    # A deleted number is unknown within a second.
    site.shell(
        "from callflows.models import PhoneNumber; from callflows.services import "
        "phone_number_delete; from workspaces.models import User;"
        f"phone_number_delete(phone_number=PhoneNumber.objects.get(number='{NUMBER}'), "
        f"user=User.objects.get(email='{OWNER}'))"
    )
    answers = site.read_through_both_workers()
    assert {(status, body["error"]) for status, body in answers} == {
        (404, "Unknown phone number.")
    }, answers[:2]

    # A revoked token gets 401 within a second, in every worker.
    site.manage(
        "revoke_api_token", "--workspace", "demo", "--prefix", site.token[:10], "--user", OWNER
    )
    answers = site.read_through_both_workers()
    assert {status for status, _ in answers} == {401}, answers[:2]
