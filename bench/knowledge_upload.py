"""Time uploading and splitting a 10 MB text file into knowledge pages (goal: under 5 s).

Run by hand:
    .venv/bin/python bench/knowledge_upload.py            # SQLite in memory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME .venv/bin/python bench/knowledge_upload.py

It migrates the database named by DATABASE_URL (use a throw-away one), makes a workspace and an
owner, then POSTs a 10 MB Markdown file (sections with headings and paragraphs) to the
"Upload files" page through Django's test client: multipart parsing, extraction, splitting,
validation and saving every page with its history row and one audit event. Prints seconds,
pages and queries.
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from knowledge.models import KnowledgePage  # noqa: E402
from workspaces.models import Membership, Role, User, Workspace  # noqa: E402

SIZE = 10 * 1024 * 1024


def ten_megabytes() -> bytes:
    section = (
        "## Service area {n}\n\n"
        + "We serve the whole county, including weekends. The emergency fee is $149. " * 8
        + "\n\n"
        + "Parking is free behind the shop; the entrance is on Main Street. " * 6
        + "\n\n"
    )
    parts, size, n = [], 0, 0
    while size < SIZE - 2000:
        text = section.replace("{n}", str(n)).encode()
        parts.append(text)
        size += len(text)
        n += 1
    return b"".join(parts)[: SIZE - 1]


def main() -> None:
    call_command("migrate", verbosity=0)
    workspace = Workspace.objects.create(name="Bench", slug=f"bench-{int(time.time())}")
    owner = User.objects.create_user(email=f"{workspace.slug}@example.test", password="x")
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(owner)
    data = ten_megabytes()
    upload = SimpleUploadedFile("service-guide.md", data, "text/markdown")
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.post(reverse("knowledge:upload"), {"files": [upload]})
        seconds = time.perf_counter() - started
    assert response.status_code == 302, response.content[:500]
    pages = KnowledgePage.objects.filter(workspace=workspace).count()
    print(
        f"{connection.vendor}: {len(data) / 1024 / 1024:.1f} MB -> {pages} pages "
        f"in {seconds:.2f} s ({len(queries)} queries); goal < 5 s"
    )


if __name__ == "__main__":
    main()
