import pytest
from django.core.cache import cache
from django.urls import reverse

from callflows import live as live_module
from callflows import services
from callflows.models import CallFlow, StepJob, StepKind
from jobs import services as job_services
from jobs.models import Job
from tests.factories import (
    JobFactory,
    PhoneNumberFactory,
    SonaStepFactory,
    WorkspaceFactory,
    owner_of,
)
from workspaces.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_caches():
    cache.clear()
    live_module._bodies.clear()


@pytest.fixture
def token(workspace, owner):
    return api_token_create(workspace=workspace, name="runtime", user=owner).raw


def live(client, number, token, **headers):
    return client.get(
        reverse("api:live", args=[number]), HTTP_AUTHORIZATION=f"Bearer {token}", **headers
    )


def test_live_config_shape(client, workspace, owner, phone, sona, token):
    job = JobFactory(workspace=workspace, name="Booking", instructions="Book it.")
    services.step_attach_job(step=sona, job=job, user=owner)
    services.step_add(call_flow=phone.call_flow, kind=StepKind.VOICEMAIL, name="VM", user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    response = live(client, "+15555550123", token)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = response.json()
    assert data["number"] == "+15555550123" and data["workspace"]["slug"] == workspace.slug
    assert data["version"]["number"] == 1 and data["version"]["published_at"]
    assert [s["kind"] for s in data["steps"]] == ["sona", "voicemail"]
    assert data["steps"][0]["jobs"] == [
        {
            "id": job.pk,
            "name": "Booking",
            "description": job.description,
            "trigger": job.trigger,
            "instructions": "Book it.",
            "actions": [],
        }
    ]
    assert "jobs" not in data["steps"][1]


def test_draft_changes_hidden_until_published_job_edits_live_at_once(
    client, workspace, owner, phone, sona, token
):
    a, b = JobFactory.create_batch(2, workspace=workspace)
    services.step_attach_job(step=sona, job=a, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    assert [j["id"] for j in live(client, phone.number, token).json()["steps"][0]["jobs"]] == [a.pk]
    services.step_attach_job(step=sona, job=b, user=owner)  # draft only
    assert [j["id"] for j in live(client, phone.number, token).json()["steps"][0]["jobs"]] == [a.pk]
    job_services.job_update(job=a, user=owner, data={"instructions": "Edited text."})
    assert (
        live(client, phone.number, token).json()["steps"][0]["jobs"][0]["instructions"]
        == "Edited text."
    )
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    assert [j["id"] for j in live(client, phone.number, token).json()["steps"][0]["jobs"]] == [
        a.pk,
        b.pk,
    ]


def test_etag_and_304(client, owner, phone, token):
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    first = live(client, phone.number, token)
    etag = first["ETag"]
    again = live(client, phone.number, token, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag and not again.content
    assert live(client, phone.number, token, HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_errors(client, workspace, owner, phone, token):
    assert live(client, phone.number, token).json() == {
        "error": "This phone number has no published call flow yet."
    }
    assert live(client, "+19999999999", token).status_code == 404
    for bad in ["", "nope", "pb_wrong"]:
        response = live(client, phone.number, bad)
        assert response.status_code == 401 and "token" in response.json()["error"]
    assert client.get(reverse("api:live", args=[phone.number])).status_code == 401


def test_other_workspace_token_gets_404_without_detail(client, owner, phone, token):
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    foreign_ws = WorkspaceFactory()
    foreign = api_token_create(workspace=foreign_ws, name="x", user=owner_of(foreign_ws)).raw
    response = live(client, phone.number, foreign)
    assert response.status_code == 404 and response.json() == {"error": "Unknown phone number."}
    assert live(client, phone.number, token).status_code == 200  # cached entry still scoped


def test_revoked_token(client, workspace, owner, phone):
    new = api_token_create(workspace=workspace, name="x", user=owner)
    token_obj, raw = new.token, new.raw
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    assert live(client, phone.number, raw).status_code == 200
    api_token_revoke(token=token_obj, user=owner)
    assert live(client, phone.number, raw).status_code == 401


def test_token_stored_hashed(workspace, owner):
    new = api_token_create(workspace=workspace, name="x", user=owner)
    token, raw = new.token, new.raw
    assert raw not in token.key_hash and len(token.key_hash) == 64 and raw.startswith(token.prefix)


def test_new_number_not_stuck_as_unknown_in_cache(client, workspace, owner, token):
    assert live(client, "+15555550199", token).status_code == 404
    phone = services.phone_number_create(
        workspace=workspace, number="+15555550199", display_name="New", user=owner
    )
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    assert live(client, "+15555550199", token).status_code == 200


def test_deleted_job_change_and_rollback_clear_cache(client, workspace, owner, phone, sona, token):
    a, b = JobFactory.create_batch(2, workspace=workspace)
    services.step_attach_job(step=sona, job=a, user=owner)
    v1 = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.step_detach_job(step=sona, job=a, user=owner)
    services.step_attach_job(step=sona, job=b, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    assert [j["id"] for j in live(client, phone.number, token).json()["steps"][0]["jobs"]] == [b.pk]
    services.callflow_rollback(call_flow=phone.call_flow, version=v1, user=owner)
    data = live(client, phone.number, token).json()
    assert data["version"]["number"] == 3 and [j["id"] for j in data["steps"][0]["jobs"]] == [a.pk]


def _big_flow(workspace, owner, jobs_in_library):
    Job.objects.bulk_create(
        Job(workspace=workspace, name=f"Job {i}", instructions="Steps " * 50)
        for i in range(jobs_in_library)
    )
    phone = PhoneNumberFactory(workspace=workspace)
    flow = CallFlow.objects.create(phone_number=phone)
    jobs = list(workspace.jobs.order_by("pk")[:10])
    for i in range(20):
        step = SonaStepFactory(call_flow=flow, position=i + 1)
        StepJob.objects.bulk_create(
            StepJob(step=step, job=job, position=p) for p, job in enumerate(jobs, 1)
        )
    services.callflow_publish(call_flow=flow, user=owner)
    return phone, len(jobs)


@pytest.mark.parametrize("library", [1, 10_000])
@pytest.mark.usefixtures("long_lease")
def test_query_counts_miss_3_hit_0(
    client,
    workspace,
    owner,
    token,
    library,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    phone, per_step = _big_flow(workspace, owner, library)
    with django_assert_num_queries(3):  # token with the number's generation, number, its jobs
        response = live(client, phone.number, token)
    assert (
        len(response.json()["steps"]) == 20
        and len(response.json()["steps"][19]["jobs"]) == per_step
    )
    with django_assert_num_queries(
        0
    ):  # warm: the lookup is leased (live.FRESH_SECONDS), the body known
        assert live(client, phone.number, token).content == response.content
    # A bad token: the lookup alone; its failure is counted in the cache
    # (tests/callflows/test_api_throttle.py).
    with django_assert_max_num_queries(1):
        assert live(client, phone.number, "pb_nope").status_code == 401
    with django_assert_num_queries(1):  # a malformed number looks unknown
        assert live(client, "+1555\x00", token).json() == {"error": "Unknown phone number."}


def test_gzip_representation(client, owner, phone, token):
    import gzip
    import json

    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    plain = live(client, phone.number, token)
    zipped = live(client, phone.number, token, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert zipped["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped["Vary"]
    assert json.loads(gzip.decompress(zipped.content)) == plain.json()
    assert zipped["ETag"] != plain["ETag"]
    for etag in (plain["ETag"], zipped["ETag"]):
        assert (
            live(
                client, phone.number, token, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=etag
            ).status_code
            == 304
        )


def test_expired_body_is_rebuilt(client, owner, phone, token):
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    first = live(client, phone.number, token)
    live_module._bodies.clear()  # another process: nothing in its memory
    cache.clear()  # and expired in the shared cache
    again = live(client, phone.number, token)
    assert again.status_code == 200 and again.content == first.content


def test_etag_changes_after_a_job_edit(client, workspace, owner, phone, sona, token):
    job = JobFactory(workspace=workspace, instructions="Old.")
    services.step_attach_job(step=sona, job=job, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    before = live(client, phone.number, token)
    job_services.job_update(job=job, user=owner, data={"instructions": "New."})
    after = live(client, phone.number, token, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert after.json()["steps"][0]["jobs"][0]["instructions"] == "New."


def test_every_live_change_moves_the_generation(workspace, owner, phone, sona):
    def generation():
        phone.refresh_from_db()
        return phone.live_generation

    job, other = JobFactory.create_batch(2, workspace=workspace)
    services.step_attach_job(step=sona, job=job, user=owner)
    steps = [
        lambda: services.callflow_publish(call_flow=phone.call_flow, user=owner),
        lambda: job_services.job_update(job=job, user=owner, data={"instructions": "Edited."}),
        lambda: services.phone_number_rename(phone_number=phone, display_name="X", user=owner),
        lambda: setattr(workspace, "name", "Renamed business") or workspace.save(),
        lambda: services.callflow_rollback(
            call_flow=phone.call_flow, version=phone.call_flow.versions.get(number=1), user=owner
        ),
    ]
    for i, change in enumerate(steps):
        if i == 4:  # something to roll back from
            services.step_attach_job(step=sona, job=other, user=owner)
            services.callflow_publish(call_flow=phone.call_flow, user=owner)
        before = generation()
        change()
        assert generation() > before, i
    before = generation()
    job_services.job_update(job=other, user=owner, data={"instructions": "Not live any more."})
    assert generation() == before  # a job the live version does not use changes nothing


def test_rollback_keeps_the_draft_step_rows(workspace, owner, phone, sona):
    v1 = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.step_update(step=sona, name="Renamed", settings=sona.settings, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.callflow_rollback(call_flow=phone.call_flow, version=v1, user=owner)
    sona_after = phone.call_flow.steps.get(key=sona.key)
    assert sona_after.pk == sona.pk and sona_after.name == "Sona"
