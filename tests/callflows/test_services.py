import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from callflows import services, snapshots
from callflows.models import (
    CallFlow,
    CallFlowVersion,
    PhoneNumber,
    PublishedJob,
    Step,
    StepJob,
    StepKind,
)
from callflows.services.publish import _create_version
from jobs import services as job_services
from jobs.models import Job
from tests.conftest import attach, postgres_only
from tests.factories import (
    JobFactory,
    MembershipFactory,
    PhoneNumberFactory,
    SonaStepFactory,
)
from workspaces.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone_number():
    return "+1 (555) 010-0000"  # as typed: `phone` is stored as +15550100000


def attached_ids(step):
    return list(
        StepJob.objects.filter(step=step).order_by("position").values_list("job_id", flat=True)
    )


# Phone numbers ----------------------------------------------------------------------------


def test_phone_number_is_normalized_and_gets_a_flow(phone):
    assert phone.number == "+15550100000"
    assert phone.call_flow.steps.get().kind == StepKind.SONA
    assert phone.call_flow.live_version is None


@pytest.mark.parametrize(
    "raw", ["", "555-0100", "+0123456789", "+1555abc0100", "+1234567890123456"]
)
def test_invalid_numbers_are_refused(workspace, owner, raw):
    with pytest.raises(ValidationError) as exc:
        services.phone_number_create(workspace=workspace, number=raw, display_name="X", user=owner)
    expected = f"“{raw}” is not a phone number" if raw else "Enter a phone number"
    assert exc.value.message_dict["number"][0].startswith(expected)
    assert not PhoneNumber.objects.exists()


def test_number_unique_across_workspaces(phone, owner):
    elsewhere = MembershipFactory(user=owner, role=Role.ADMIN).workspace
    with pytest.raises(ValidationError, match="already in use"):
        services.phone_number_create(
            workspace=elsewhere, number="+15550100000", display_name="X", user=owner
        )
    assert PhoneNumber.objects.count() == 1


def test_rename_and_delete(phone, owner):
    with pytest.raises(ValidationError):
        services.phone_number_rename(phone_number=phone, display_name="  ", user=owner)
    services.phone_number_rename(phone_number=phone, display_name="Support", user=owner)
    phone.refresh_from_db()
    assert phone.display_name == "Support"
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.phone_number_delete(phone_number=phone, user=owner)
    # Soft: in Recently deleted with its versions, out of every live list.
    assert not PhoneNumber.objects.live().exists() and PhoneNumber.objects.deleted().get() == phone
    assert CallFlowVersion.objects.filter(call_flow__phone_number=phone).count() == 1


# Steps ---------------------------------------------------------------------------------


def test_add_move_remove_steps(phone, owner):
    flow = phone.call_flow
    greeting = services.step_add(call_flow=flow, kind=StepKind.GREETING, name="Hello", user=owner)
    assert greeting.settings == {"message": "Thanks for calling."}
    services.step_move(step=greeting, offset=-1, user=owner)
    assert [s.name for s in flow.steps.order_by("position")] == ["Hello", "Sona"]
    services.step_move(step=greeting, offset=-1, user=owner)  # already first: no change
    services.step_remove(step=greeting, user=owner)
    assert [(s.position, s.name) for s in flow.steps.all()] == [(1, "Sona")]


@pytest.mark.parametrize(
    ("kind", "settings", "field", "message"),
    [
        ("greeting", {"message": ""}, "message", "required"),
        ("greeting", {"message": "x" * 1001}, "message", "at most 1,000"),
        ("forward", {"number": "12345"}, "number", "“12345” is not a phone number"),
        ("ring_users", {"members": [], "timeout": 20}, "members", "at least one"),
        ("ring_users", {"members": [999999], "timeout": 20}, "members", "Only members"),
        ("ring_users", {"members": "{owner}", "timeout": 500}, "timeout", "between 5 and 120"),
        (
            "business_hours",
            {"timezone": "Mars/Olympus", "hours": {}},
            "timezone",
            "not a known time zone",
        ),
        (
            "business_hours",
            {"timezone": "UTC", "hours": {"mon": [["17:00", "09:00"]]}},
            "hours",
            "before the closing",
        ),
        (
            "business_hours",
            {"timezone": "UTC", "hours": {"mon": [["9am", "5pm"]]}},
            "hours",
            "HH:MM",
        ),
        (
            "business_hours",
            {"timezone": "UTC", "hours": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}},
            "hours",
            "overlap",
        ),
        (
            "business_hours",
            {"timezone": "UTC", "hours": {}, "open_step": "nope"},
            "open_step",
            "another step",
        ),
        ("bogus", {}, "kind", "Choose a step kind"),
    ],
)
def test_step_settings_are_validated_per_kind(phone, owner, kind, settings, field, message):
    if settings.get("members") == "{owner}":
        settings = {**settings, "members": [owner.pk]}
    before = list(phone.call_flow.steps.values_list("pk", flat=True))
    with pytest.raises(ValidationError) as exc:
        services.step_add(
            call_flow=phone.call_flow, kind=kind, name="Step", user=owner, settings=settings
        )
    assert message in " ".join(exc.value.message_dict[field])
    assert list(phone.call_flow.steps.values_list("pk", flat=True)) == before


def test_business_hours_branch_and_removed_target(phone, owner, sona):
    hours = services.step_add(
        call_flow=phone.call_flow, kind=StepKind.BUSINESS_HOURS, name="Hours", user=owner
    )
    voicemail = services.step_add(
        call_flow=phone.call_flow, kind=StepKind.VOICEMAIL, name="VM", user=owner
    )
    settings = {**hours.settings, "open_step": sona.key, "closed_step": voicemail.key}
    hours = services.step_update(step=hours, name="Hours", settings=settings, user=owner)
    assert hours.settings["closed_step"] == voicemail.key
    services.step_remove(step=voicemail, user=owner)
    hours.refresh_from_db()
    assert hours.settings["closed_step"] == "" and hours.settings["open_step"] == sona.key


# Attaching jobs ----------------------------------------------------------------------------


def test_attach_in_order_and_eleventh_refused(workspace, owner, sona):
    jobs = JobFactory.create_batch(11, workspace=workspace)
    attach(sona, jobs[:10], owner)
    assert attached_ids(sona) == [j.pk for j in jobs[:10]]
    with pytest.raises(ValidationError, match="A Sona step can have at most 10 jobs"):
        services.step_attach_job(step=sona, job=jobs[10], user=owner)
    assert attached_ids(sona) == [j.pk for j in jobs[:10]]


def test_step_can_attach_is_the_same_rule_as_attaching(workspace, owner, phone, sona):
    jobs = JobFactory.create_batch(10, workspace=workspace)
    attach(sona, jobs[:9], owner)
    assert services.step_can_attach(sona) and services.step_can_attach(sona).reason == ""
    attach(sona, jobs[9:], owner)
    full = services.step_can_attach(sona)
    assert not full and full.reason.startswith("A Sona step can have at most 10 jobs")
    # A caller that already counted the attachments saves the query; the rule is the same.
    assert services.step_can_attach(sona, attached_count=9)
    assert not services.step_can_attach(sona, attached_count=10)
    greeting = services.step_add(
        call_flow=phone.call_flow, kind=StepKind.GREETING, name="Hello", user=owner
    )
    assert services.step_can_attach(greeting).reason == "Jobs can only be attached to a Sona step."


def test_step_create_job_attaches_and_says_when_it_could_not(workspace, owner, sona):
    created = services.step_create_job(
        step=sona, user=owner, data={"name": "New", "instructions": "1. Do it."}
    )
    assert created.attach_error is None and attached_ids(sona) == [created.job.pk]
    attach(sona, JobFactory.create_batch(9, workspace=workspace), owner)
    late = services.step_create_job(
        step=sona, user=owner, data={"name": "Late", "instructions": "1. Kept."}
    )
    # The job stays in the library, so no text is lost; the refusal is returned, not raised.
    assert Job.objects.get(pk=late.job.pk).instructions == "1. Kept."
    assert "at most 10 jobs" in " ".join(late.attach_error.messages)
    assert late.job.pk not in attached_ids(sona) and len(attached_ids(sona)) == 10


def test_attach_each_job_once_same_workspace_not_deleted(workspace, owner, sona):
    job = JobFactory(workspace=workspace)
    services.step_attach_job(step=sona, job=job, user=owner)
    with pytest.raises(ValidationError, match="already attached"):
        services.step_attach_job(step=sona, job=job, user=owner)
    with pytest.raises(ValidationError, match="another workspace"):
        services.step_attach_job(step=sona, job=JobFactory(), user=owner)
    deleted = JobFactory(workspace=workspace, deleted_at="2026-01-01T00:00:00Z")
    with pytest.raises(ValidationError, match="deleted"):
        services.step_attach_job(step=sona, job=deleted, user=owner)
    assert attached_ids(sona) == [job.pk]


def test_only_sona_steps_take_jobs(phone, owner, workspace):
    greeting = services.step_add(
        call_flow=phone.call_flow, kind=StepKind.GREETING, name="Hi", user=owner
    )
    with pytest.raises(ValidationError, match="only be attached to a Sona step"):
        services.step_attach_job(step=greeting, job=JobFactory(workspace=workspace), user=owner)


def test_detach_and_reorder(workspace, owner, sona):
    a, b, c = JobFactory.create_batch(3, workspace=workspace)
    attach(sona, [a, b, c], owner)
    services.step_move_job(step=sona, job=c, offset=-1, user=owner)
    assert attached_ids(sona) == [a.pk, c.pk, b.pk]
    services.step_detach_job(step=sona, job=a, user=owner)
    assert attached_ids(sona) == [c.pk, b.pk]
    assert list(StepJob.objects.filter(step=sona).values_list("position", flat=True)) == [1, 2]
    with pytest.raises(ValidationError, match="not attached"):
        services.step_detach_job(step=sona, job=a, user=owner)


def test_database_never_holds_an_eleventh_job(workspace):
    step = SonaStepFactory(call_flow__phone_number__workspace=workspace)
    jobs = JobFactory.create_batch(11, workspace=workspace)
    StepJob.objects.bulk_create(
        StepJob(step=step, job=j, position=i) for i, j in enumerate(jobs[:10], 1)
    )
    for position in (11, 0, 5):
        with pytest.raises(IntegrityError), transaction.atomic():
            StepJob.objects.create(step=step, job=jobs[10], position=position)
    with pytest.raises(IntegrityError), transaction.atomic():
        StepJob.objects.create(step=step, job=jobs[0], position=10)


@postgres_only()
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_attaches_end_with_exactly_ten(workspace, owner):
    step = SonaStepFactory(call_flow__phone_number__workspace=workspace)
    jobs = JobFactory.create_batch(29, workspace=workspace)
    attach(step, jobs[:9], owner)
    barrier = threading.Barrier(20)
    outcomes = []

    def worker(job):
        try:
            barrier.wait()
            services.step_attach_job(step=step, job=job, user=owner)
            outcomes.append("ok")
        except ValidationError as exc:
            outcomes.append(exc.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs[9:]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1
    refusals = [o for o in outcomes if o != "ok"]
    assert len(refusals) == 19 and all(
        o.startswith("A Sona step can have at most 10 jobs") for o in refusals
    )
    assert sorted(StepJob.objects.filter(step=step).values_list("position", flat=True)) == list(
        range(1, 11)
    )


# Publish and rollback ----------------------------------------------------------------------


def test_publish_freezes_attachments_not_text(workspace, owner, phone, sona):
    job = JobFactory(workspace=workspace, instructions="Old text.")
    services.step_attach_job(step=sona, job=job, user=owner)
    version = services.callflow_publish(call_flow=phone.call_flow, user=owner, note="First")
    assert (version.number, version.note, version.published_by) == (1, "First", owner)
    assert version.snapshot["steps"][0]["jobs"] == [job.pk]
    assert PublishedJob.objects.get(version=version).job == job
    services.step_detach_job(step=sona, job=job, user=owner)  # draft only
    version.refresh_from_db()
    assert version.snapshot["steps"][0]["jobs"] == [job.pk]
    phone.call_flow.refresh_from_db()
    assert snapshots.callflow_draft_changes(phone.call_flow) == [
        {"kind": "detached", "step": "Sona", "jobs": [job.pk]}
    ]


def test_double_publish_makes_one_version(phone, owner):
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    with pytest.raises(ValidationError, match="Nothing to publish"):
        services.callflow_publish(call_flow=phone.call_flow, user=owner)
    assert CallFlowVersion.objects.count() == 1


def test_versions_are_immutable(phone, owner):
    version = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    version.note = "changed"
    with pytest.raises(ValueError, match="immutable"):
        version.save()


def test_failure_part_way_leaves_live_version(workspace, owner, phone, sona, monkeypatch):
    job = JobFactory(workspace=workspace)
    first = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.step_attach_job(step=sona, job=job, user=owner)

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    # Fail after the version row is written, while its job rows are being written.
    monkeypatch.setattr(PublishedJob.objects, "bulk_create", explode)
    with pytest.raises(RuntimeError):
        services.callflow_publish(call_flow=phone.call_flow, user=owner)
    phone.call_flow.refresh_from_db()
    assert phone.call_flow.live_version == first
    assert CallFlowVersion.objects.count() == 1


def test_publish_refuses_a_step_over_ten(workspace, owner, phone, sona):
    # A draft can only get 11 jobs by bypassing everything; publish still refuses it.
    StepJob.objects.bulk_create(
        StepJob(step=sona, job=j, position=i)
        for i, j in enumerate(JobFactory.create_batch(10, workspace=workspace), 1)
    )
    snapshot = snapshots.build_snapshot(phone.call_flow)
    snapshot["steps"][0]["jobs"].append(JobFactory(workspace=workspace).pk)
    with pytest.raises(ValidationError, match="at most 10 jobs"), transaction.atomic():
        _create_version(phone.call_flow, snapshot, user=owner, note="")
    assert not CallFlowVersion.objects.exists()


def test_rollback_restores_exactly_that_versions_attachments(workspace, owner, phone, sona):
    a, b, c = JobFactory.create_batch(3, workspace=workspace)
    attach(sona, [a, b], owner)
    v1 = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.step_detach_job(step=sona, job=a, user=owner)
    services.step_attach_job(step=sona, job=c, user=owner)
    services.step_add(call_flow=phone.call_flow, kind=StepKind.VOICEMAIL, name="VM", user=owner)
    v2 = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    v3 = services.callflow_rollback(call_flow=phone.call_flow, version=v1, user=owner)
    assert (v3.number, v3.rolled_back_from, v3.snapshot) == (3, 1, v1.snapshot)
    phone.call_flow.refresh_from_db()
    assert phone.call_flow.live_version == v3
    # The draft had no unpublished changes, so it follows the rollback.
    sona = Step.objects.get(call_flow=phone.call_flow, kind=StepKind.SONA)
    assert attached_ids(sona) == [a.pk, b.pk]
    assert snapshots.callflow_draft_changes(phone.call_flow) == []
    with pytest.raises(ValidationError, match="already live"):
        services.callflow_rollback(call_flow=phone.call_flow, version=v3, user=owner)
    assert v2.snapshot != v3.snapshot


def test_rollback_keeps_a_dirty_draft(workspace, owner, phone, sona):
    a = JobFactory(workspace=workspace)
    v1 = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.step_attach_job(step=sona, job=a, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.step_add(
        call_flow=phone.call_flow, kind=StepKind.VOICEMAIL, name="Unpublished", user=owner
    )
    services.callflow_rollback(call_flow=phone.call_flow, version=v1, user=owner)
    assert phone.call_flow.steps.filter(name="Unpublished").exists()
    assert attached_ids(sona) == [a.pk]
    assert snapshots.callflow_draft_changes(phone.call_flow)


def test_rollback_of_foreign_version_refused(phone, owner, workspace):
    other = services.phone_number_create(
        workspace=workspace, number="+15550100001", display_name="B", user=owner
    )
    foreign = services.callflow_publish(call_flow=other.call_flow, user=owner)
    with pytest.raises(ValidationError, match="another call flow"):
        services.callflow_rollback(call_flow=phone.call_flow, version=foreign, user=owner)


def test_publish_queries_constant(workspace, owner, django_assert_max_num_queries):
    def flow_with(steps):
        phone = PhoneNumberFactory(workspace=workspace)
        flow = CallFlow.objects.create(phone_number=phone)
        for i in range(steps):
            step = SonaStepFactory(call_flow=flow, position=i + 1)
            StepJob.objects.bulk_create(
                StepJob(step=step, job=j, position=p)
                for p, j in enumerate(JobFactory.create_batch(10, workspace=workspace), 1)
            )
        return flow

    small, large = flow_with(1), flow_with(20)
    # incl. live generation, audit, the saved test cases (calls app's publish gate) and the
    # workspace's webhook endpoints (webhooks.outbox.emit)
    with django_assert_max_num_queries(16) as small_queries:
        services.callflow_publish(call_flow=small, user=owner)
    with django_assert_max_num_queries(len(small_queries.captured_queries)):
        services.callflow_publish(call_flow=large, user=owner)
    assert PublishedJob.objects.filter(version__call_flow=large).count() == 200


# Jobs and live versions ----------------------------------------------------------------------


def test_live_job_cannot_be_deleted_error_names_numbers(workspace, owner, phone, sona):
    job = JobFactory(workspace=workspace, name="Booking")
    services.step_attach_job(step=sona, job=job, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    with pytest.raises(ValidationError) as exc:
        job_services.job_delete(job=job, user=owner)
    assert "live call flow of Main line (+1 555-010-0000)" in exc.value.messages[0]
    job.refresh_from_db()
    assert not job.is_deleted and attached_ids(sona) == [job.pk]
    with pytest.raises(Exception), transaction.atomic():  # the database protects it too
        Job.objects.filter(pk=job.pk).delete()


def test_deleting_a_draft_only_job_detaches_it(workspace, owner, sona):
    a, b = JobFactory.create_batch(2, workspace=workspace)
    attach(sona, [a, b], owner)
    job_services.job_delete(job=a, user=owner)
    assert attached_ids(sona) == [b.pk]
    assert list(StepJob.objects.filter(step=sona).values_list("position", flat=True)) == [1]


def test_deleting_a_draft_only_job_says_which_drafts_it_left(workspace, owner, phone, sona, client):
    """As for knowledge pages: the notices name the numbers as "Name (number)", and the job
    page shows them (issue 21: the job side used to drop them)."""
    job = JobFactory(workspace=workspace, name="Booking")
    attach(sona, [job], owner)
    result = job_services.job_delete(job=job, user=owner)
    assert result.document.is_deleted
    assert result.notices == [
        f"“Booking” was removed from the draft call flow of Main line ({phone.number})."
    ]
    other = JobFactory(workspace=workspace, name="Other")
    attach(sona, [other], owner)
    client.force_login(owner)
    response = client.post(reverse("jobs:delete", args=[other.pk]), follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert f"“Other” was removed from the draft call flow of Main line ({phone.number})." in shown


def test_job_no_longer_live_can_be_deleted(workspace, owner, phone, sona):
    job = JobFactory(workspace=workspace)
    services.step_attach_job(step=sona, job=job, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.step_detach_job(step=sona, job=job, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    job_services.job_delete(job=job, user=owner)
    job.refresh_from_db()
    assert job.is_deleted


def test_delete_confirmation_says_what_happens(owner_client, workspace, owner, phone, sona):
    from django.urls import reverse

    draft_only, live = JobFactory.create_batch(2, workspace=workspace)
    services.step_attach_job(step=sona, job=live, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.step_attach_job(step=sona, job=draft_only, user=owner)
    page = owner_client.get(reverse("jobs:delete", args=[draft_only.pk]))
    assert "Deleting it also removes it from these drafts" in page.text
    assert 'class="danger"' in page.text
    page = owner_client.get(reverse("jobs:delete", args=[live.pk]))
    assert "cannot be deleted" in page.text and 'class="danger"' not in page.text
    response = owner_client.post(reverse("jobs:delete", args=[live.pk]), follow=True)
    assert "is used by the live call flow of Main line (+1 555-010-0000)" in response.text
    live.refresh_from_db()
    assert not live.is_deleted
