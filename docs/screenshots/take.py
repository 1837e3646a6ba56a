"""Screenshots of 12 main pages of the demo at a laptop (1280x800) and a phone (390x844) size.

Run by hand from the repository's root (not part of the test suite):

    .venv/bin/python docs/screenshots/take.py before     # or: after

It needs nothing running: it creates a temporary SQLite database, migrates it, loads the demo
(`manage.py demo --password ...`), embeds the router's job vectors, starts
`manage.py runserver` on a free port of 127.0.0.1 in a child process, logs in as
owner@demo.test with Playwright (Debian's chromium, /usr/bin/chromium, headless) and saves one
viewport-only PNG per page and size into `docs/screenshots/<label>/`, named
`<nn>-<page>-<width>.png` (e.g. `01-home-1280.png`, `01-home-390.png`). The server and the
database are removed at the end. It prints, per page and size, whether the page is wider than
the window (sideways scrolling).

Options:
    --full-page      whole-page screenshots instead of the viewport only (larger PNGs)
    --port N         serve on 127.0.0.1:N (default: a free port)
    --keep-server    leave the server running at the end (for a look by hand); stop it with
                     the process id printed
    names...         after the label, only these pages (e.g. `take.py after home calls-list`)

With DARK=1 in the environment the browser asks for the dark theme (prefers-color-scheme) and
the names end in `-dark` (`01-home-1280-dark.png`).

Ids (a job, the Main line's call flow, its Sona step, a call) are read from the demo's own
links, as tests/e2e/test_layout.py does, so the script follows the demo as it changes.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SCHEME = "dark" if os.environ.get("DARK") else "light"  # DARK=1: the dark theme
HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
DEMO_EMAIL = "owner@demo.test"  # calls/management/commands/demo.py
DEMO_PASSWORD = "screenshots-demo-pass"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SIZES = {1280: {"width": 1280, "height": 800}, 390: {"width": 390, "height": 844}}
NAMES = [
    "home",
    "jobs-list",
    "job",
    "job-editor",
    "knowledge",
    "numbers",
    "callflow-editor",
    "test-sona",
    "calls-list",
    "call",
    "alerts",
    "members",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env: dict, *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def wait_for(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit code {server.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our http:// URL)
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"no answer from {url} after {seconds:.0f} s")


def pages(page, base: str) -> list[tuple[str, str]]:
    """(name, path) of the 12 pages, ids read from the demo's own links."""
    page.goto(f"{base}/numbers/")
    editor = page.get_by_role("link", name="Call flow of Main line").get_attribute("href")
    page.goto(base + editor)
    test_sona = page.locator("form:has(button:text-is('Test Sona'))").first.get_attribute("action")
    page.goto(f"{base}/jobs/")
    job = page.locator("main table a").first.get_attribute("href")
    page.goto(f"{base}/calls/")
    call = page.locator("main table a[href^='/calls/']").first.get_attribute("href")
    paths = [
        "/",
        "/jobs/",
        job,
        f"{job}edit/",
        "/knowledge/",
        "/numbers/",
        editor,
        test_sona,
        "/calls/",
        call,
        "/alerts/",
        "/workspace/members/",
    ]
    return list(zip(NAMES, paths, strict=True))


def log_in(page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def shoot(base: str, out: Path, only: list[str], full_page: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for width, viewport in SIZES.items():
            page = browser.new_page(viewport=viewport, color_scheme=SCHEME)
            log_in(page, base)
            for number, (name, path) in enumerate(pages(page, base), start=1):
                if only and name not in only:
                    continue
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                suffix = "-dark" if SCHEME == "dark" else ""
                file = out / f"{number:02d}-{name}-{width}{suffix}.png"
                page.screenshot(path=file, full_page=full_page)
                note = f"{wide}px wider than the window" if wide > 0 else "fits"
                print(f"{file.name:32} {path:40} {note}")
            page.close()
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("label", help="folder under docs/screenshots/: before or after")
    parser.add_argument("names", nargs="*", help="only these pages (default: all)")
    parser.add_argument("--full-page", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keep-server", action="store_true")
    args = parser.parse_intermixed_args()
    unknown = set(args.names) - set(NAMES)
    if unknown:
        parser.error(f"unknown page(s) {sorted(unknown)}; pages: {', '.join(NAMES)}")

    workdir = Path(tempfile.mkdtemp(prefix="playbook-shots-"))
    port = args.port or free_port()
    host = f"127.0.0.1:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "PLAYBOOK_BASE_URL": f"http://{host}",
        "CELERY_BROKER_URL": "",  # background work in-process
    }
    server = None
    keep = False
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "demo", "--password", DEMO_PASSWORD, "--host", host)
        manage(env, "embed_jobs")
        server = subprocess.Popen(  # noqa: S603 (our manage.py, no shell)
            [PYTHON, "manage.py", "runserver", "--noreload", host],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://{host}"
        wait_for(f"{base}/accounts/login/", server)
        shoot(base, HERE / args.label, args.names, args.full_page)
        if args.keep_server:
            print(f"server: {base} (process {server.pid}; {DEMO_EMAIL} / {DEMO_PASSWORD})")
            keep = True
    finally:
        if server is not None and not keep:
            server.terminate()
            server.wait(timeout=10)
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
