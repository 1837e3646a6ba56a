"""POST /api/v1/calls (report a finished call) and GET /api/v1/calls/<id>: validation, scoping,
idempotency and replay, the version live at the call's start, and the query budget."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from callflows import services as cf
from callflows.models import StepKind
from calls.models import Call, Source
from jobs import services as js
from tests.conftest import postgres_only
from tests.factories import CallFactory, JobFactory, PhoneNumberFactory, WorkspaceFactory, owner_of
from workspaces.models import AuditEvent
from workspaces.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db

TEXTS = {"name": "Opening hours", "instructions": "1. Tell the caller the opening hours."}


@pytest.fixture
def line(workspace, owner, phone, sona):
    """A published number with one job on its Sona step, and a runtime token."""
    job = js.job_create(workspace=workspace, user=owner, data=TEXTS)
    cf.step_attach_job(step=sona, job=job, user=owner)
    version = cf.callflow_publish(call_flow=phone.call_flow, user=owner)
    token = api_token_create(workspace=workspace, name="runtime", user=owner)
    return type(
        "Line",
        (),
        {"phone": phone, "sona": sona, "job": job, "version": version, "token": token},
    )


def body(line, **changes):
    now = timezone.now()
    data = {
        "number": line.phone.number,
        "external_id": "CA-0001",
        "caller": "+15555550142",
        "started_at": now.isoformat(),  # after the fixture published version 1
        "ended_at": (now + timedelta(seconds=1)).isoformat(),
        "step": line.sona.key,
        "job": line.job.pk,
        "score": 0.82,
        "outcome": "sms_sent",
        "actions": [{"type": "send_sms", "status": "ok", "detail": "Opening hours sent."}],
        "summary": "The caller asked when the restaurant opens; Sona texted the hours.",
        "next_steps": ["Nothing to do."],
        "transcript": "Caller: When are you open?\nSona: 9 to 5.",
        "recording_url": "https://recordings.example.test/CA-0001.mp3",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}  # `...` leaves a field out


def report(client, token, data, *, raw=None, **headers):
    return client.post(
        reverse("calls_api:calls"),
        data=raw if raw is not None else json.dumps(data),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **headers,
    )


def read(client, token, pk, method="get"):
    url = reverse("calls_api:call", args=[pk])
    return getattr(client, method)(url, HTTP_AUTHORIZATION=f"Bearer {token}")


# A report is stored -------------------------------------------------------------------------


def test_a_report_is_stored_and_answered_with_the_call(client, line):
    data = body(line)
    response = report(client, line.token.raw, data)
    assert response.status_code == 201, response.json()
    call = Call.objects.get()
    answer = response.json()
    assert answer["id"] == call.pk
    assert (call.source, call.workspace, call.phone_number, call.number) == (
        "live",
        line.phone.workspace,
        line.phone,
        line.phone.number,
    )
    assert (call.external_id, call.caller, call.outcome, call.score) == (
        "CA-0001",
        "+15555550142",
        "sms_sent",
        0.82,
    )
    assert (call.step_key, call.step_name, call.version_number) == (line.sona.key, "Sona", 1)
    assert (call.job, call.job_name) == (line.job, "Opening hours")
    assert call.job_history_id == line.job.history.latest("history_date").history_id
    assert call.actions == data["actions"] and call.next_steps == ["Nothing to do."]
    assert call.idempotency_key == "CA-0001" and len(call.request_digest) == 64
    assert answer["step"] == {"key": line.sona.key, "name": "Sona"}
    assert (answer["version"], answer["job"], answer["job_version"]) == (
        1,
        line.job.pk,
        call.job_history_id,
    )
    assert answer["recording_url"] == data["recording_url"]
    # GET answers the same body.
    assert read(client, line.token.raw, call.pk).json() == answer


def test_a_report_writes_no_audit_event(client, line):
    """A report is data the runtime sends on every call, not a configuration change."""
    before = AuditEvent.objects.count()
    assert report(client, line.token.raw, body(line)).status_code == 201
    assert AuditEvent.objects.count() == before


def test_the_versions_live_at_the_start_of_the_call_are_found(client, line, owner):
    first_history = line.job.history.latest("history_date").history_id
    started = timezone.now()
    js.job_update(job=line.job, user=owner, data={"description": "Edited after the call."})
    cf.step_add(call_flow=line.phone.call_flow, kind=StepKind.VOICEMAIL, name="VM", user=owner)
    cf.callflow_publish(call_flow=line.phone.call_flow, user=owner)
    data = body(line, started_at=started.isoformat(), ended_at=timezone.now().isoformat())
    answer = report(client, line.token.raw, data).json()
    assert (answer["version"], answer["job_version"]) == (1, first_history)
    # Started after both changes: version 2 and the edited job.
    later = body(line, external_id="CA-0002", started_at=timezone.now().isoformat())
    later["ended_at"] = later["started_at"]
    answer = report(client, line.token.raw, later).json()
    assert answer["version"] == 2
    assert answer["job_version"] == line.job.history.latest("history_date").history_id
    assert answer["job_version"] != first_history


def test_a_named_job_version_and_a_soft_deleted_job_are_accepted(client, line, owner, workspace):
    named = line.job.history.earliest("history_date").history_id
    js.job_update(job=line.job, user=owner, data={"description": "Newer."})
    answer = report(client, line.token.raw, body(line, job_version=named)).json()
    assert answer["job_version"] == named
    gone = js.job_create(workspace=workspace, user=owner, data={**TEXTS, "name": "Gone"})
    js.job_delete(job=gone, user=owner)  # the call may predate the deletion
    response = report(client, line.token.raw, body(line, external_id="CA-2", job=gone.pk))
    assert response.status_code == 201, response.json()
    assert response.json()["job_name"] == "Gone"


def test_a_call_without_step_or_job_and_an_anonymous_caller(client, line):
    data = body(line, step=None, job=None, score=None, caller="anonymous", actions=[])
    data.pop("recording_url")
    answer = report(client, line.token.raw, data).json()
    assert (answer["step"], answer["job"], answer["caller"], answer["recording_url"]) == (
        None,
        None,
        "anonymous",
        "",
    )


def test_national_numbers_are_read_in_the_workspace_country(client, line):
    data = body(line, number="(555) 555-0123", caller="555 555 0142")
    answer = report(client, line.token.raw, data).json()
    assert (answer["number"], answer["caller"]) == ("+15555550123", "+15555550142")


def test_a_step_removed_from_the_draft_is_still_known_from_its_version(client, line, owner):
    """The call may have been answered by an older version whose step the draft no longer has."""
    extra = cf.step_add(call_flow=line.phone.call_flow, kind=StepKind.SONA, name="Late", user=owner)
    cf.callflow_publish(call_flow=line.phone.call_flow, user=owner)
    cf.step_remove(step=extra, user=owner)
    cf.callflow_publish(call_flow=line.phone.call_flow, user=owner)
    old = timezone.now() - timedelta(days=1)  # before every version: the draft or any version
    data = body(
        line, step=extra.key, started_at=old.isoformat(), ended_at=old.isoformat(), job=None
    )
    answer = report(client, line.token.raw, data).json()
    assert answer["step"] == {"key": extra.key, "name": "Late"}


def test_unknown_fields_are_ignored(client, line):
    response = report(client, line.token.raw, body(line, sentiment="happy", extra={"a": 1}))
    assert response.status_code == 201
    assert "sentiment" not in response.json()


# Idempotency --------------------------------------------------------------------------------


def test_the_same_report_again_answers_the_first_call(client, line):
    data = body(line)
    first = report(client, line.token.raw, data)
    # The same JSON with its keys in another order is the same report.
    again = report(client, line.token.raw, None, raw=json.dumps(dict(reversed(data.items()))))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Call.objects.count() == 1


def test_the_same_key_with_another_body_is_a_conflict(client, line):
    data = body(line)
    first = report(client, line.token.raw, data).json()
    response = report(client, line.token.raw, {**data, "summary": "Something else."})
    assert response.status_code == 409
    assert "already used for a different report" in response.json()["error"]
    assert list(Call.objects.values_list("pk", "summary")) == [(first["id"], data["summary"])]


def test_the_idempotency_key_header_wins_over_external_id(client, line):
    key = {"HTTP_IDEMPOTENCY_KEY": "retry-7f3a"}
    data = body(line)
    first = report(client, line.token.raw, data, **key)
    assert first.status_code == 201
    assert Call.objects.get().idempotency_key == "retry-7f3a"
    assert report(client, line.token.raw, data, **key).status_code == 200
    other = report(client, line.token.raw, {**data, "external_id": "CA-9"}, **key)
    assert other.status_code == 409
    # The same external_id under a new key with another body: still one call per external id.
    clash = report(client, line.token.raw, {**data, "summary": "x"}, HTTP_IDEMPOTENCY_KEY="new")
    assert clash.status_code == 409
    assert Call.objects.count() == 1


def test_keys_are_per_workspace(client, line, other_workspace):
    other_owner = owner_of(other_workspace)
    other_phone = cf.phone_number_create(
        workspace=other_workspace, number="+15555550777", display_name="Other", user=other_owner
    )
    other_token = api_token_create(workspace=other_workspace, name="r", user=other_owner).raw
    assert report(client, line.token.raw, body(line)).status_code == 201
    data = body(line, number=other_phone.number, step=None, job=None)
    assert report(client, other_token, data).status_code == 201
    assert Call.objects.count() == 2


@postgres_only()
@pytest.mark.django_db(transaction=True)
def test_two_identical_reports_at_once_make_one_call(line):
    """Both pass the key check before either inserts; the unique constraint decides."""
    from django.test import Client

    from calls.services import reports

    data = body(line)
    answers = []
    barrier = threading.Barrier(2)
    real_existing = reports._existing

    def existing_then_wait(*args, **kwargs):
        found = real_existing(*args, **kwargs)
        if found is None:
            try:
                barrier.wait(timeout=5)  # both threads found nothing, then both insert
            except threading.BrokenBarrierError:
                pass
        return found

    def send():
        try:
            answers.append(report(Client(), line.token.raw, data))
        finally:
            connection.close()

    reports._existing = existing_then_wait
    try:
        threads = [threading.Thread(target=send) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    finally:
        reports._existing = real_existing
    assert sorted(r.status_code for r in answers) == [200, 201]
    assert answers[0].json() == answers[1].json()
    assert Call.objects.count() == 1


# Validation ---------------------------------------------------------------------------------

NOW = timezone.now()
INVALID = [
    ({"number": ...}, "number", "Field required"),
    ({"number": "not a number"}, "number", "is not a phone number"),
    ({"external_id": ""}, "external_id", "at least 1 character"),
    ({"external_id": "x" * 101}, "external_id", "at most 100 characters"),
    ({"external_id": 17}, "external_id", "valid string"),
    ({"caller": "+1555"}, "caller", "is not a phone number"),
    ({"caller": "1-800-FLOWERS"}, "caller", "is not a phone number"),
    ({"started_at": "yesterday"}, "started_at", "valid datetime"),
    ({"started_at": "2026-01-31T14:05:00"}, "started_at", "timezone"),
    ({"started_at": 1767225600}, "started_at", "ISO 8601"),
    ({"ended_at": ...}, "ended_at", "Field required"),
    ({"step": "nosuchstep"}, "step", "Not a Sona step"),
    ({"step": "x" * 13}, "step", "at most 12 characters"),
    ({"job": "1"}, "job", "valid integer"),
    ({"job": True}, "job", "valid integer"),
    ({"job": 0}, "job", "greater than or equal to 1"),
    ({"job": 10**20}, "job", "less than or equal to"),
    ({"job": None, "job_version": 1}, "job_version", "Name the job too"),
    ({"job_version": 10**9}, "job_version", "Not a history version of this job"),
    ({"score": 1.5}, "score", "less than or equal to 1"),
    ({"score": -0.1}, "score", "greater than or equal to 0"),
    ({"outcome": "Resolved"}, "outcome", "Input should be"),
    ({"actions": [{"type": "email", "status": "ok"}]}, "actions[0].type", "send_sms"),
    ({"actions": [{"type": "send_sms", "status": "sent"}]}, "actions[0].status", "'ok'"),
    ({"actions": [{"type": "send_sms", "status": "ok", "detail": "x" * 501}]}, "actions[0].detail", "500"),
    ({"actions": [{"type": "send_sms", "status": "ok"}] * 21}, "actions", "at most 20"),
    ({"actions": {"type": "send_sms"}}, "actions", "valid list"),
    ({"summary": "x" * 5_001}, "summary", "at most 5000 characters"),
    ({"next_steps": ["x"] * 21}, "next_steps", "at most 20"),
    ({"next_steps": ["x" * 501]}, "next_steps[0]", "at most 500 characters"),
    ({"next_steps": "Call back"}, "next_steps", "valid list"),
    ({"transcript": "x" * 100_001}, "transcript", "at most 100000 characters"),
    ({"recording_url": "ftp://host/file.mp3"}, "recording_url", "pattern"),
    ({"recording_url": "javascript:alert(1)"}, "recording_url", "pattern"),
    ({"recording_url": "https://h/" + "x" * 500}, "recording_url", "at most 500"),
    ({"summary": "bad \x00 byte"}, "summary", "cannot be stored"),
    ({"next_steps": ["lone \ud800"]}, "next_steps", "cannot be stored"),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "field", "message"), INVALID)
def test_an_invalid_report_is_refused_with_field_errors(client, line, changes, field, message):
    response = report(client, line.token.raw, body(line, **changes))
    assert response.status_code == 400, response.json()
    answer = response.json()
    assert answer["error"] == "Invalid request."
    assert message in str(answer["fields"][field]), answer
    assert not Call.objects.exists()


def test_times_more_than_a_day_ahead_or_reversed_are_refused(client, line):
    ahead = timezone.now() + timedelta(days=1, minutes=1)
    response = report(client, line.token.raw, body(line, ended_at=ahead.isoformat()))
    assert response.json()["fields"] == {
        "ended_at": "Is more than a day in the future: check the runtime's clock."
    }
    # A clock some hours ahead (set in the wrong zone) is not refused: the call is real.
    start = timezone.now() + timedelta(hours=20)
    data = body(
        line, started_at=start.isoformat(), ended_at=(start + timedelta(minutes=3)).isoformat()
    )
    assert report(client, line.token.raw, data).status_code == 201
    Call.objects.all().delete()
    start = timezone.now() - timedelta(minutes=1)
    reversed_ = body(
        line,
        started_at=start.isoformat(),
        ended_at=(start - timedelta(seconds=1)).isoformat(),
    )
    response = report(client, line.token.raw, reversed_)
    assert response.json()["fields"] == {"ended_at": "Is before started_at."}
    # A clock a little ahead is fine.
    skewed = (timezone.now() + timedelta(minutes=2)).isoformat()
    response = report(client, line.token.raw, body(line, ended_at=skewed))
    assert response.status_code == 201
    assert Call.objects.count() == 1


@pytest.mark.parametrize("raw", ["", "[]", '"call"', "{", '{"score": NaN}', "\xff"])
def test_a_body_that_is_no_json_object_is_refused(client, line, raw):
    response = report(client, line.token.raw, None, raw=raw)
    assert response.status_code == 400
    assert response.json()["fields"] == {"body": "Send a JSON object."}


def test_a_job_of_another_workspace_is_refused(client, line, other_workspace):
    foreign = JobFactory(workspace=other_workspace)
    response = report(client, line.token.raw, body(line, job=foreign.pk))
    assert response.json()["fields"] == {"job": "No job with this id in the workspace."}
    assert not Call.objects.exists()


def test_a_version_of_another_job_is_refused(client, line, workspace, owner):
    other = js.job_create(workspace=workspace, user=owner, data={**TEXTS, "name": "Other"})
    version = other.history.latest("history_date").history_id
    response = report(client, line.token.raw, body(line, job_version=version))
    assert response.json()["fields"] == {"job_version": "Not a history version of this job."}


def test_a_too_large_body_is_413(client, line):
    response = report(client, line.token.raw, body(line, padding="x" * 300_000))
    assert response.status_code == 413
    assert "larger than 256 KB" in response.json()["error"]
    assert not Call.objects.exists()


def test_a_too_long_idempotency_key_is_refused(client, line):
    response = report(client, line.token.raw, body(line), HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["fields"]


@pytest.mark.parametrize("key", ["retry\x00one", "retry-\ud800"])
def test_an_idempotency_key_no_database_stores_is_refused(client, line, key):
    """A NUL or a lone surrogate would fail the INSERT (or be stored mangled): refused, 400."""
    response = report(client, line.token.raw, body(line), HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["fields"]
    assert not Call.objects.exists()


# Tokens and scoping -------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "pb_wrong", "Bearer"])
def test_a_bad_token_is_401_and_nothing_is_stored(client, line, token):
    response = report(client, token, body(line))
    assert response.status_code == 401
    assert response.json() == {"error": "Missing, unknown or revoked API token."}
    assert read(client, token, CallFactory(phone_number=line.phone).pk).status_code == 401
    assert Call.objects.count() == 1  # the factory's


def test_a_revoked_token_is_401(client, line, owner):
    api_token_revoke(token=line.token.token, user=owner)
    assert report(client, line.token.raw, body(line)).status_code == 401


def test_too_many_bad_tokens_is_429(client, line, settings):
    settings.API_BAD_TOKEN_LIMIT = 2
    statuses = [report(client, "pb_bad", body(line)).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    assert read(client, "pb_bad", 1).status_code == 429
    assert report(client, line.token.raw, body(line)).status_code == 201  # a good token passes


def test_100_bad_tokens_do_not_lock_the_runtime_out(client, line):
    """Guessers behind the runtime's proxy or NAT share its source: their bad tokens are
    refused, never its valid one, on every runtime endpoint."""
    number = line.phone.number
    live_url = reverse("api:live", args=[number])
    route_url = reverse("calls_api:route", args=[number])
    bad = [f"pb_guess{i}" for i in range(60)] + ["", "nonsense", "pb_\u00e9", "Basic"] * 10
    statuses = [
        client.get(live_url, HTTP_AUTHORIZATION=f"Bearer {token}").status_code for token in bad[:34]
    ] + [report(client, token, body(line)).status_code for token in bad[34:67]]
    statuses += [
        client.post(
            route_url, "{}", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {t}"
        ).status_code
        for t in bad[67:]
    ]
    assert len(statuses) == 100 and statuses[-1] == 429
    auth = {"HTTP_AUTHORIZATION": f"Bearer {line.token.raw}"}
    assert client.get(live_url, **auth).status_code == 200
    said = json.dumps({"said": "When are you open?"})
    assert client.post(route_url, said, content_type="application/json", **auth).status_code == 200
    created = report(client, line.token.raw, body(line))
    assert created.status_code == 201
    assert read(client, line.token.raw, created.json()["id"]).status_code == 200


def test_another_workspaces_number_is_404_like_an_unknown_one(client, line, other_workspace):
    foreign = PhoneNumberFactory(workspace=other_workspace, number="+15555550888")
    for number in (foreign.number, "+15555550999"):
        response = report(client, line.token.raw, body(line, number=number))
        assert response.status_code == 404
        assert response.json() == {"error": "Unknown phone number."}
    assert not Call.objects.exists()


def test_another_workspaces_call_is_404_whatever_the_method(client, line, other_workspace):
    foreign = CallFactory(phone_number=PhoneNumberFactory(workspace=other_workspace))
    for method in ("get", "post", "delete"):
        response = read(client, line.token.raw, foreign.pk, method)
        assert response.status_code == 404
        assert response.json() == {"error": "Unknown call."}
    own = CallFactory(phone_number=line.phone, source=Source.MOCK)
    assert read(client, line.token.raw, own.pk, "delete").status_code == 405
    # one call asked for by its id is read whatever its source, which says what it is
    assert read(client, line.token.raw, own.pk).json()["source"] == "mock"


def test_the_report_url_takes_only_post(client, line):
    response = client.get(reverse("calls_api:calls"), HTTP_AUTHORIZATION=f"Bearer {line.token.raw}")
    assert response.status_code == 405


# Query budget -------------------------------------------------------------------------------


def _grow(workspace, phone, n):
    """More calls, jobs and versions in the workspace: the budget must not depend on them."""
    for i in range(n):
        CallFactory(phone_number=phone, external_id=f"old-{n}-{i}", idempotency_key=f"old-{n}-{i}")
        JobFactory(workspace=workspace)
    WorkspaceFactory()


@pytest.mark.parametrize("size", [1, 30])
def test_a_report_costs_at_most_six_queries(
    client, line, workspace, django_assert_max_num_queries, size
):
    _grow(workspace, line.phone, size)
    data = body(line, external_id=f"new-{size}")
    # token, key, number/version/step/job, insert, its day's rollup row (calls/rollups.py), the
    # workspace's webhook endpoints (webhooks.outbox.emit: none here)
    with django_assert_max_num_queries(6):
        assert report(client, line.token.raw, data).status_code == 201
    with django_assert_max_num_queries(3):  # a retry: token, key, the stored call
        assert report(client, line.token.raw, data).status_code == 200
    newest = Call.objects.latest("pk").pk
    with django_assert_max_num_queries(2):  # GET: token, call
        assert read(client, line.token.raw, newest).status_code == 200
