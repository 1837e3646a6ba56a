"""Two website imports of a slow-drip page while people sign in: does the web stay quick?

Run by hand (needs PostgreSQL at 127.0.0.1:5432, user postgres, trust auth, and Redis):
    .venv/bin/python bench/slow_import.py [--drip-seconds 45] [--eager]

It creates a throw-away database, starts gunicorn with 2 sync workers (production settings)
and a Celery worker against Redis (BENCH_BROKER_URL), and serves a page on 127.0.0.1 that
drips 2 bytes every 3 s. It signs in, posts two "Import from website" forms for that page at
once, and meanwhile loads the login page about 20 times (one every 0.25 s). It prints how long
each POST took and the login page's latency (p50 and max) beside the goals (POST < 1 s, login
< 200 ms), then waits for the two imports and prints how they ended. --eager runs without a
broker or worker (the zero-setup mode, where the import runs in the request after its commit):
the "before" picture. Everything it started or created is stopped and dropped at the end.
"""

import argparse
import http.client
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import _pg  # bench/_pg.py (the scripts run from bench/)

ROOT = Path(__file__).resolve().parent.parent
# Overridable, so two people benching on one machine do not drop each other's database.
DB_NAME = os.environ.get("BENCH_DB_NAME", "playbook_bench_slow_import")
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/10")
EMAIL, PASSWORD = "owner@bench.test", secrets.token_urlsafe(16)
POST_GOAL, LOGIN_GOAL = 1.0, 0.200  # seconds
LOGIN_SAMPLES, LOGIN_EVERY = 20, 0.25
DRIP = b"Open 9 to 5, Monday to Friday. Call us on 555 0100 for bookings. "


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drip_server(seconds: float) -> ThreadingHTTPServer:
    """A plain-text page sent 2 bytes every 3 s for `seconds` (its Content-Length says so)."""
    body = (DRIP * 10)[: max(2, int(seconds / 3) * 2)]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for i in range(0, len(body), 2):
                    self.wfile.write(body[i : i + 2])
                    self.wfile.flush()
                    time.sleep(3)
            except OSError:
                pass  # the importer gave up

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Browser:
    """Just enough of a browser: cookies (Secure ones too, over plain HTTP) and CSRF."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def request(self, method, path, form=None, timeout=120):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode({**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";")[0]
        return response.status, response.getheader("Location", ""), text

    def sign_in(self):
        self.request("GET", "/accounts/login/")
        status, location, _ = self.request(
            "POST", "/accounts/login/", {"username": EMAIL, "password": PASSWORD}
        )
        assert status == 302, f"sign-in answered {status}"


def start(args, env, log_dir: Path, started: list):
    """gunicorn (and the worker), each appended to `started` at once so that the caller stops
    it whatever happens next; returns gunicorn's port once it answers."""
    port = free_port()
    started.append(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--workers=2",
                "--worker-class=sync",
                f"--bind=127.0.0.1:{port}",
                "--log-level=warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=open(log_dir / "gunicorn.log", "wb"),  # noqa: SIM115 (closed with the process)
            stderr=subprocess.STDOUT,
        )
    )
    if not args.eager:
        started.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--concurrency=2",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel=INFO",
                ],
                cwd=ROOT,
                env=env,
                stdout=open(log_dir / "worker.log", "wb"),  # noqa: SIM115 (closed with the process)
                stderr=subprocess.STDOUT,
            )
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if Browser(port).request("GET", "/accounts/login/", timeout=5)[0] == 200:
                return port
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer within 60 s (see {log_dir})")


def manage(env, *args):
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drip-seconds", type=float, default=45, help="how long the page drips")
    parser.add_argument("--eager", action="store_true", help="no broker, no worker (before)")
    args = parser.parse_args()

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "KNOWLEDGE_FETCH_ALLOW_PRIVATE": "true",  # the drip page is on 127.0.0.1
        "PYTHONWARNINGS": "ignore",
    }
    env.pop("CELERY_BROKER_URL", None)
    if not args.eager:
        env["CELERY_BROKER_URL"] = BROKER_URL
        import redis

        redis.Redis.from_url(BROKER_URL).flushdb()  # no task left by an earlier run

    _pg.recreate_database(DB_NAME)
    drip = drip_server(args.drip_seconds)
    started: list[subprocess.Popen] = []
    log_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"slow_import_{os.getpid()}"
    log_dir.mkdir(exist_ok=True)
    try:
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")  # as a deploy does (staticfiles/)
        manage(
            env,
            "shell",
            "--no-imports",
            "-c",
            "from workspaces.models import User; from workspaces.services import workspace_create;"
            f"u = User.objects.create_user('{EMAIL}', '{PASSWORD}');"
            "workspace_create(name='Bench imports', owner=u)",
        )
        port = start(args, env, log_dir, started)
        page = f"http://127.0.0.1:{drip.server_port}/hours"
        browsers = [Browser(port), Browser(port)]
        for browser in browsers:
            browser.sign_in()
            browser.request("GET", "/knowledge/import/")  # the form's CSRF cookie

        def post(browser):
            t0 = time.perf_counter()
            status, location, _ = browser.request("POST", "/knowledge/import/", {"url": page})
            return time.perf_counter() - t0, status, location

        def login_latencies():
            times = []
            for _ in range(LOGIN_SAMPLES):
                t0 = time.perf_counter()
                try:
                    status = Browser(port).request("GET", "/accounts/login/", timeout=60)[0]
                except OSError:
                    status = "no answer"
                times.append((time.perf_counter() - t0, status))
                time.sleep(LOGIN_EVERY)
            return times

        mode = "eager (no broker, no worker)" if args.eager else f"Celery worker on {BROKER_URL}"
        print(f"2 gunicorn sync workers; imports: {mode}; page drips 2 bytes / 3 s")
        begun = time.perf_counter()
        with ThreadPoolExecutor(3) as pool:
            sampler = pool.submit(login_latencies)
            time.sleep(0.05)  # the posts start while the sampler runs
            posts = list(pool.map(post, browsers))
            logins = sampler.result()
        for n, (took, status, location) in enumerate(posts, start=1):
            verdict = "ok" if took < POST_GOAL else "MISSED"
            print(
                f"POST {n}: {took:.3f} s (status {status} -> {location or '-'})"
                f"   goal < {POST_GOAL:.0f} s: {verdict}"
            )
        seconds = sorted(t for t, _ in logins)
        p50, worst = statistics.median(seconds), seconds[-1]
        statuses = sorted({str(s) for _, s in logins})
        verdict = "ok" if worst < LOGIN_GOAL else "MISSED"
        print(
            f"login page meanwhile ({len(logins)} requests, statuses {', '.join(statuses)}): "
            f"p50 {p50 * 1000:.0f} ms, max {worst * 1000:.0f} ms"
            f"   goal < {LOGIN_GOAL * 1000:.0f} ms: {verdict}"
        )

        # How the imports ended (their pages, as the owner would see them).
        for n, ((_, _, location), browser) in enumerate(zip(posts, browsers, strict=True), 1):
            if not re.search(r"/knowledge/imports/\d+/", location):
                continue
            text = ""
            while time.perf_counter() - begun < args.drip_seconds + 90:
                text = browser.request("GET", location)[2]
                if 'hx-trigger="every' not in text:
                    break
                time.sleep(1)
            part = re.search(r'id="import-status"[^>]*>(.*?)<a href="/knowledge/">', text, re.S)
            said = " ".join(re.sub(r"<[^>]+>", " ", part.group(1) if part else "?").split())
            print(f"import {n}, {time.perf_counter() - begun:.0f} s after the POSTs: {said[:200]}")
    finally:
        for process in reversed(started):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        drip.shutdown()
        drip.server_close()
        _pg.drop_database(DB_NAME)


if __name__ == "__main__":
    main()
