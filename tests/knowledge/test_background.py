"""Website imports and large uploads run as background work (knowledge/tasks.py) recorded on
an ImportRun: the request answers at once with a page that shows the progress and then the
pages created, or the error. Tasks run eagerly here, after the commit; tests/test_worker.py
runs one through Redis and a real worker process."""

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from knowledge import services, tasks
from knowledge.models import KnowledgePage
from tests.factories import MembershipFactory
from workspaces.imports import MAX_ATTEMPTS
from workspaces.models import AuditEvent, ImportFile, ImportRun, Membership, Role

pytestmark = pytest.mark.django_db

ARTICLE = (
    "<html><head><title>Prices</title></head><body><main><article><h1>Our prices</h1>"
    + "<p>The emergency call-out fee is $149 and includes the first hour of work.</p>" * 6
    + "</article></main></body></html>"
).encode()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(ARTICLE)))
        self.end_headers()
        self.wfile.write(ARTICLE)

    def log_message(self, *args):
        pass


@pytest.fixture
def site(settings):
    """A web page on this machine, which the import may fetch (private addresses allowed)."""
    settings.KNOWLEDGE_FETCH_ALLOW_PRIVATE = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _import(client, url, capture, *, execute=True):
    with capture(execute=execute):
        response = client.post(reverse("knowledge:import_url"), {"url": url})
    return response


def _run():
    return ImportRun.objects.get()


def test_the_post_answers_at_once_and_the_task_runs_after_the_commit(
    owner_client, owner, site, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(reverse("knowledge:import_url"), {"url": f"{site}/prices"})
    run = _run()
    # Answered before any fetch: the run waits, nothing is imported yet.
    assert response.status_code == 302
    assert response.url == reverse("knowledge:import_run", args=[run.pk])
    assert (run.status, run.kind, run.url, run.created_by) == (
        "queued",
        "website",
        f"{site}/prices",
        owner,
    )
    assert not KnowledgePage.objects.exists() and len(callbacks) == 1

    callbacks[0]()  # the commit: in eager mode, the task runs now
    run.refresh_from_db()
    page = KnowledgePage.objects.get()
    assert (run.status, run.created_count, run.result_ids) == ("done", 1, [page.pk])
    assert (run.done, run.total, run.error) == (1, 1, "")
    assert run.started_at <= run.finished_at and run.attempts == 1
    assert (page.created_by, page.source_name) == (owner, f"{site}/prices")

    body = owner_client.get(response.url).content.decode()
    assert "1 page created." in body
    assert f'<a href="{page.get_absolute_url()}">{page.title}</a>' in body
    assert "hx-trigger" not in body  # finished: no more polling


def test_the_page_polls_while_queued_or_running_and_works_without_script(
    owner_client, workspace, owner
):
    run = ImportRun.objects.create(
        workspace=workspace, created_by=owner, kind="website", url="https://example.com/"
    )
    url = reverse("knowledge:import_run", args=[run.pk])
    body = owner_client.get(url).content.decode()
    assert "Waiting to start" in body and "https://example.com/" in body
    assert f'hx-get="{url}" hx-trigger="every 1s"' in body
    assert f'<a href="{url}">check again</a>' in body  # without JavaScript: reload
    assert 'aria-live="polite"' in body

    ImportRun.objects.filter(pk=run.pk).update(status="running")
    partial = owner_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith("{#") is False and "<h1>" not in partial
    assert "Importing" in partial and 'id="import-status"' in partial


def test_a_failure_is_shown_in_words_and_nothing_is_imported(
    owner_client, settings, django_capture_on_commit_callbacks
):
    settings.KNOWLEDGE_FETCH_ALLOW_PRIVATE = False
    response = _import(owner_client, "http://127.0.0.1:9/", django_capture_on_commit_callbacks)
    run = _run()
    assert run.status == "failed" and "private, loopback or link-local" in run.error
    assert run.finished_at is not None and not KnowledgePage.objects.exists()
    body = owner_client.get(response.url).content.decode()
    assert "Failed" in body and "Nothing was imported. http://127.0.0.1:9/: the address" in body
    assert "Traceback" not in body and "hx-trigger" not in body


def test_an_unexpected_error_is_recorded_without_a_traceback(
    owner_client, site, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broken(url):
        raise KeyError("internal detail")

    monkeypatch.setattr(services, "extract_url", broken)
    with caplog.at_level(logging.ERROR, logger="workspaces.imports"):
        response = _import(owner_client, f"{site}/prices", django_capture_on_commit_callbacks)
    run = _run()
    assert run.status == "failed"
    assert run.error.startswith("Something went wrong on our side.")
    assert f"import #{run.pk}" in run.error and "internal detail" not in run.error
    assert "internal detail" in caplog.text  # the log has it for the developers
    body = owner_client.get(response.url).content.decode()
    assert "internal detail" not in body and "KeyError" not in body


def test_the_deadline_between_steps_holds_in_eager_mode(
    owner_client, site, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_TIME_LIMITS = {**settings.IMPORT_TIME_LIMITS, "website": -1}
    _import(owner_client, f"{site}/prices", django_capture_on_commit_callbacks)
    run = _run()
    assert (run.status, run.error) == (
        "failed",
        "The import took longer than -1 seconds and was stopped.",
    )
    assert not KnowledgePage.objects.exists()


def test_a_worker_soft_time_limit_is_recorded(
    owner_client, site, monkeypatch, django_capture_on_commit_callbacks
):
    def slow(url):
        raise SoftTimeLimitExceeded  # what Celery raises in a task past its soft_time_limit

    monkeypatch.setattr(services, "extract_url", slow)
    _import(owner_client, f"{site}/prices", django_capture_on_commit_callbacks)
    run = _run()
    assert run.status == "failed" and run.error.startswith("The import took longer than 60 sec")
    assert not KnowledgePage.objects.exists()


def test_the_tasks_have_a_total_deadline():
    assert tasks.import_website.soft_time_limit == 60
    assert tasks.import_website.time_limit == 90
    assert tasks.import_files.soft_time_limit == 300


def test_running_the_task_twice_creates_the_pages_once(
    owner_client, site, django_capture_on_commit_callbacks
):
    _import(owner_client, f"{site}/prices", django_capture_on_commit_callbacks)
    run = _run()
    tasks.import_website.delay(run.pk)  # delivered again
    tasks.import_website(run.pk)
    assert KnowledgePage.objects.count() == 1
    assert AuditEvent.objects.filter(action="knowledge.imported").count() == 1
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("done", 1)


def test_a_task_redelivered_while_running_does_not_duplicate(workspace, owner, site):
    # The worker that started it was lost (the run says running); the broker delivers it again.
    run = ImportRun.objects.create(
        workspace=workspace,
        created_by=owner,
        kind="website",
        url=f"{site}/prices",
        status="running",
        attempts=1,
        started_at=timezone.now(),
    )
    tasks.import_website(run.pk)
    tasks.import_website(run.pk)
    run.refresh_from_db()
    assert (run.status, run.attempts, KnowledgePage.objects.count()) == ("done", 2, 1)


def test_a_run_lost_too_often_is_stopped(workspace, owner, site):
    run = ImportRun.objects.create(
        workspace=workspace,
        created_by=owner,
        kind="website",
        url=f"{site}/prices",
        status="running",
        attempts=MAX_ATTEMPTS,
    )
    tasks.import_website(run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "interrupted 3 times" in run.error
    assert not KnowledgePage.objects.exists()


def test_a_broker_that_refuses_the_task_fails_the_run_not_the_request(
    owner_client, site, monkeypatch, django_capture_on_commit_callbacks
):
    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(tasks.import_website, "delay", down)
    response = _import(owner_client, f"{site}/prices", django_capture_on_commit_callbacks)
    assert response.status_code == 302
    run = _run()
    assert run.status == "failed" and "Background work is not available" in run.error


def test_the_task_acts_as_the_importing_user_and_obeys_their_role(
    owner_client, owner, workspace, site, django_capture_on_commit_callbacks
):
    # Demoted to member between the request and the worker: refused, recorded, nothing made.
    with django_capture_on_commit_callbacks() as callbacks:
        owner_client.post(reverse("knowledge:import_url"), {"url": f"{site}/prices"})
    Membership.objects.filter(user=owner, workspace=workspace).update(role=Role.MEMBER)
    callbacks[0]()
    run = _run()
    assert run.status == "failed" and run.error
    assert not KnowledgePage.objects.exists()
    assert AuditEvent.objects.filter(action="write.refused", actor=owner).exists()


def test_another_workspaces_run_is_404(owner_client, other_workspace):
    user = MembershipFactory(workspace=other_workspace).user
    run = ImportRun.objects.create(
        workspace=other_workspace, created_by=user, kind="website", url="https://example.com/"
    )
    assert owner_client.get(reverse("knowledge:import_run", args=[run.pk])).status_code == 404


def test_a_jobs_run_has_no_knowledge_page(owner_client, workspace, owner):
    run = ImportRun.objects.create(workspace=workspace, created_by=owner, kind="jobs")
    assert owner_client.get(reverse("knowledge:import_run", args=[run.pk])).status_code == 404


def test_a_member_cannot_start_an_import(member_client):
    response = member_client.post(reverse("knowledge:import_url"), {"url": "https://example.com/"})
    assert response.status_code == 403 and not ImportRun.objects.exists()


# Uploads ------------------------------------------------------------------------------------


def _big_text(name="manual.txt", paragraphs=60):
    text = "\n\n".join(f"Section {n}. " + "fact " * 3800 for n in range(paragraphs))
    return SimpleUploadedFile(name, text.encode(), "text/plain")


def test_uploads_over_a_megabyte_go_to_the_background(
    owner_client, owner, django_capture_on_commit_callbacks
):
    files = [_big_text(), SimpleUploadedFile("hours.md", b"# Hours\n\n9 to 5", "text/markdown")]
    assert files[0].size > 1024 * 1024
    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(reverse("knowledge:upload"), {"files": files})
    run = _run()
    assert response.url == reverse("knowledge:import_run", args=[run.pk])
    assert (run.kind, run.status, run.total) == ("files", "queued", 2)
    assert list(run.files.values_list("name", flat=True)) == ["manual.txt", "hours.md"]
    assert not KnowledgePage.objects.exists()

    callbacks[0]()
    run.refresh_from_db()
    assert (run.status, run.done, run.total) == ("done", 2, 2)
    assert run.created_count == KnowledgePage.objects.count() > 2
    assert not ImportFile.objects.exists()  # the bytes are not kept
    body = owner_client.get(response.url).content.decode()
    assert f"{run.created_count} pages created." in body and "manual (part 1 of 60)</a>" in body
    assert f"And {run.created_count - 50} more." in body  # the first 50 are listed


def test_a_bad_file_in_a_large_upload_fails_the_run_naming_the_file(
    owner_client, django_capture_on_commit_callbacks
):
    files = [_big_text(), SimpleUploadedFile("photo.png", b"\x89PNG")]
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("knowledge:upload"), {"files": files})
    run = _run()
    assert run.status == "failed" and run.error.startswith("photo.png: only .txt")
    assert not KnowledgePage.objects.exists() and not ImportFile.objects.exists()


def test_small_uploads_stay_in_the_request(owner_client):
    files = [SimpleUploadedFile("hours.md", b"# Hours\n\n9 to 5", "text/markdown")]
    response = owner_client.post(reverse("knowledge:upload"), {"files": files})
    assert response.status_code == 302 and KnowledgePage.objects.count() == 1
    assert not ImportRun.objects.exists()


# The database's own rules --------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "website", "url": ""},
        {"kind": "files", "status": "failed", "finished_at": timezone.now()},  # no error
        {"kind": "files", "status": "done"},  # not finished
        {"kind": "files", "status": "queued", "finished_at": timezone.now()},
        {"kind": "files", "done": 2, "total": 1},
        {"kind": "mystery"},
    ],
)
def test_the_database_refuses_an_impossible_run(workspace, owner, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        ImportRun.objects.create(workspace=workspace, created_by=owner, **fields)
