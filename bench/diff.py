"""Time the word diff (Compare, conflict page, admin history) on 10,000-character texts.

Run by hand (needs PostgreSQL at 127.0.0.1:5432, user postgres, trust auth):
    .venv/bin/python bench/diff.py

It prints the time of word_diff on two realistic 10,000-character texts (different paragraphs,
shuffled sentences), then creates a throw-away database (BENCH_DB, default playbook_bench_diff)
with one job that has 6 versions of 10,000-character instructions, renders its admin history
page through the Django test client as a staff user, and drops the database.
Goals: the pair under 100 ms, the admin history page under 1 s.
"""

import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = os.environ.get("BENCH_DB", "playbook_bench_diff")
SERVER_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
VERSIONS = 6
SENTENCES = [
    "Greet the caller and say the name of the business.",
    "Ask for the caller's full name and the best number to reach them.",
    "If the caller refuses to give a number, say that is fine and continue.",
    "Ask what the call is about and repeat it back in one sentence.",
    "If they ask about prices, read them from the price list; never guess a price.",
    "Offer the next free appointment and confirm the date, time and address.",
    "If the caller is upset, apologise once and offer to transfer them to a manager.",
    "Tell the caller someone will call back within one business day.",
    "Send the booking confirmation by text message when the caller agrees.",
    "Thank the caller for calling and end the call politely.",
]


def text(rng: random.Random, length: int = 10_000) -> str:
    """Numbered paragraphs of shuffled instructions, cut to `length` characters."""
    paragraphs, n = [], 1
    while sum(map(len, paragraphs)) < length:
        picked = rng.sample(SENTENCES, rng.randint(3, 6))
        paragraphs.append(f"{n}. " + " ".join(picked))
        n += 1
    return "\n\n".join(paragraphs)[:length]


def revised(rng: random.Random, old: str) -> str:
    """Half the old sentences, shuffled, then new paragraphs: a heavy but realistic edit."""
    sentences = re.split(r"(?<=\.) ", old)
    rng.shuffle(sentences)
    return (" ".join(sentences[: len(sentences) // 2]) + "\n\n" + text(rng))[:10_000]


def admin_db(sql):
    with psycopg.connect(SERVER_DSN, autocommit=True) as conn:
        conn.execute(sql)


def timed(fn, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main():
    admin_db(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
    admin_db(f'CREATE DATABASE "{DB_NAME}"')
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
    # local: admin pages need static files without a collectstatic manifest.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    sys.path.insert(0, str(ROOT))
    try:
        run()
    finally:
        from django.db import connections

        connections.close_all()
        admin_db(f'DROP DATABASE IF EXISTS "{DB_NAME}"')


def run():
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from core.diff import word_diff
    from jobs import services
    from workspaces.models import User, Workspace
    from workspaces.permissions import staff_support

    rng = random.Random(7)
    old = text(rng)
    new = revised(rng, old)
    median, worst = timed(lambda: word_diff(old, new), runs=20)
    print(
        f"word_diff, {len(old):,} vs {len(new):,} characters: median {median:.1f} ms, max {worst:.1f} ms"
    )

    call_command("migrate", verbosity=0)
    staff = User.objects.create_superuser("bench@bench.test", "bench")
    workspace = Workspace.objects.create(slug="bench", name="Bench")
    with staff_support(staff):  # support staff write through the admin's explicit path
        job = services.job_create(
            workspace=workspace, user=staff, data={"name": "Long job", "instructions": old}
        )
        for _ in range(VERSIONS - 1):
            old = revised(rng, old)
            job = services.job_update(job=job, user=staff, data={"instructions": old})
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    url = f"/admin/jobs/job/{job.pk}/history/"

    def page():
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    median, worst = timed(page, runs=10)
    print(
        f"admin history, {job.history.count()} versions of 10,000 characters: median {median:.0f} ms, max {worst:.0f} ms"
    )


if __name__ == "__main__":
    main()
