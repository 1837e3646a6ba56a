"""A website import through a real broker (Redis) and a real Celery worker process.

The web request runs here (the test client, Celery's eager mode off); the worker is a
separate `celery -A config worker` process on the same PostgreSQL test database, consuming a
queue of its own. The page it imports is served here and held until the request has answered,
so the request cannot have waited for the fetch.
"""

import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from kombu import pools as kombu_pools

from config.celery import app as celery_app
from knowledge.models import KnowledgePage
from workspaces.models import ImportRun

ROOT = Path(__file__).resolve().parent.parent
# Redis database for the broker; the queue is this run's own, so parallel runs do not mix.
BROKER_URL = os.environ.get("PLAYBOOK_TEST_BROKER_URL", "redis://127.0.0.1:6379/14")
ARTICLE = (
    "<html><head><title>Opening hours</title></head><body><main><article><h1>Opening hours</h1>"
    + "<p>We are open Monday to Friday from 9 to 5 and on Saturday mornings.</p>" * 6
    + "</article></main></body></html>"
).encode()


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


class HeldPage:
    """A local web page that answers only once `release` is set; `arrived` tells when the
    worker asked for it."""

    def __init__(self):
        self.arrived, self.release = threading.Event(), threading.Event()
        held = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                held.arrived.set()
                held.release.wait(60)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(ARTICLE)))
                self.end_headers()
                self.wfile.write(ARTICLE)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hours"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _database_url() -> str:
    params = connection.settings_dict  # the test database, while the test runs
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    host, port = params["HOST"] or "127.0.0.1", params["PORT"] or 5432
    return f"postgres://{auth}@{host}:{port}/{params['NAME']}"


def _forget_connections():
    """Drop what the app built from its earlier settings: eager tasks run earlier in this
    process already made its producer pool and its queues (the default queue), which
    `conf.update` does not change."""
    # (Not app.close(): it also unregisters the app, and tasks then no longer find it.)
    kombu_pools.reset()  # kombu's process-wide pools, by broker URL: new ones on next use
    celery_app._pool = None
    celery_app.__dict__.pop("amqp", None)  # a cached property: rebuilt from conf when next used


@pytest.fixture
def worker(transactional_db, tmp_path):
    """A Celery worker process on this test database and a queue of its own; this process
    sends its tasks there (eager mode off). Stopped, and the app's settings restored, after."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the worker process must see the test database (runs in CI)")
    if not _redis_up():
        pytest.skip("needs Redis at 127.0.0.1:6379 (runs in CI)")
    queue = f"playbook-test-{os.getpid()}"
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": BROKER_URL,
        "KNOWLEDGE_FETCH_ALLOW_PRIVATE": "true",
        "PYTHONWARNINGS": "ignore",
    }
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                f"--queues={queue}",
                f"--hostname={queue}@%h",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    saved = {
        key: celery_app.conf[key]
        for key in ("broker_url", "task_always_eager", "task_default_queue")
    }
    celery_app.conf.update(broker_url=BROKER_URL, task_always_eager=False, task_default_queue=queue)
    _forget_connections()
    try:
        yield process, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        celery_app.conf.update(saved)
        _forget_connections()
        import redis

        keys = [queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"]
        redis.Redis.from_url(BROKER_URL).delete(*keys)


def _wait_for(check, seconds, what, log):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"{what} within {seconds} s; worker log:\n{log.read_text()[-3000:]}")


@pytest.mark.slow
def test_a_worker_process_imports_a_website_while_the_request_answered_at_once(
    worker, client, owner, settings
):
    process, log = worker
    settings.KNOWLEDGE_FETCH_ALLOW_PRIVATE = False  # this process never fetches
    page = HeldPage()
    try:
        client.force_login(owner)
        started = time.monotonic()
        response = client.post(reverse("knowledge:import_url"), {"url": page.url})
        took = time.monotonic() - started

        run = ImportRun.objects.get()
        assert response.status_code == 302, response.content[:500]
        assert response.url == reverse("knowledge:import_run", args=[run.pk])
        assert took < 2.0, f"the request took {took:.2f} s"
        # The page is still held: whatever happens next, the request did not wait for it.
        assert run.status in ("queued", "running"), run.error
        assert not KnowledgePage.objects.exists()
        assert "Waiting to start" in client.get(response.url).content.decode() or run.started_at

        # The worker (another process) fetches the page and marks the run running meanwhile.
        _wait_for(lambda: page.arrived.is_set(), 90, "the worker did not fetch the page", log)
        assert process.poll() is None
        run.refresh_from_db()
        assert (run.status, run.attempts) == ("running", 1)
        page.release.set()

        def finished():
            run.refresh_from_db()
            return run.is_finished

        _wait_for(finished, 60, "the run did not finish", log)
        assert (run.status, run.error, run.created_count) == ("done", "", 1), run.error
        created = KnowledgePage.objects.get()
        assert run.result_ids == [created.pk]
        assert (created.title, created.source_name, created.created_by) == (
            "Opening hours",
            page.url,
            owner,
        )
        body = client.get(response.url).content.decode()
        assert f'<a href="{created.get_absolute_url()}">Opening hours</a>' in body
        assert "import_website" in log.read_text()  # it went through the worker
    finally:
        page.close()
