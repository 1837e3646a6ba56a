"""Real concurrent transactions on PostgreSQL: the rules hold when requests race."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F

from callflows import services
from callflows.models import CallFlowVersion, PublishedJob, StepJob
from jobs import services as job_services
from jobs.models import Job
from tests.conftest import postgres_only
from tests.factories import JobFactory, SonaStepFactory
from workspaces.documents import Deleted

pytestmark = [postgres_only(), pytest.mark.django_db(transaction=True)]


def race(*calls):
    """Run the calls at the same moment, each in its own thread and connection; return what
    each returned or the messages of the ValidationError it raised."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            outcomes[i] = call()
        except ValidationError as exc:
            outcomes[i] = exc.messages
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_publish_and_delete_never_make_a_deleted_job_live(workspace, owner):
    step = SonaStepFactory(call_flow__phone_number__workspace=workspace)
    flow = step.call_flow
    for round_ in range(15):
        job = JobFactory(workspace=workspace, name=f"Racing {round_}")
        services.step_attach_job(step=step, job=job, user=owner)
        published, deleted = race(
            lambda: services.callflow_publish(call_flow=flow, user=owner),
            lambda job=job: job_services.job_delete(job=job, user=owner),
        )
        job.refresh_from_db()
        # A refused side says why; both may succeed only when the delete came first entirely
        # (the job was then detached before the snapshot was taken).
        if not isinstance(published, CallFlowVersion):
            assert job.is_deleted and (
                "was deleted since" in " ".join(published)
                or published == [services.NOTHING_TO_PUBLISH]
            ), published
        if not isinstance(deleted, Deleted):  # a delete returns Deleted(job, notices)
            assert not job.is_deleted and "is used by the live call flow" in " ".join(deleted)
        if isinstance(published, CallFlowVersion) and job.is_deleted:
            assert not published.published_jobs.filter(job=job).exists()
        # The invariant: no live version names a deleted job.
        assert not PublishedJob.objects.filter(
            version__call_flow__live_version=F("version"), job__deleted_at__isnull=False
        ).exists()


def test_two_publishes_at_once_make_one_version(workspace, owner):
    step = SonaStepFactory(call_flow__phone_number__workspace=workspace)
    services.step_attach_job(step=step, job=JobFactory(workspace=workspace), user=owner)
    outcomes = race(*[lambda: services.callflow_publish(call_flow=step.call_flow, user=owner)] * 2)
    assert CallFlowVersion.objects.filter(call_flow=step.call_flow).count() == 1
    assert sum(isinstance(o, CallFlowVersion) for o in outcomes) == 1
    assert [services.NOTHING_TO_PUBLISH] in outcomes


def test_concurrent_attaches_with_room_all_succeed_in_order(workspace, owner):
    """Without the step lock both would take position 9 and one would fail: the lock matters
    even when the step has room."""
    step = SonaStepFactory(call_flow__phone_number__workspace=workspace)
    jobs = JobFactory.create_batch(10, workspace=workspace)
    for job in jobs[:8]:
        services.step_attach_job(step=step, job=job, user=owner)
    outcomes = race(
        *[
            lambda job=job: services.step_attach_job(step=step, job=job, user=owner)
            for job in jobs[8:]
        ]
    )
    assert all(isinstance(o, StepJob) for o in outcomes), outcomes
    assert sorted(StepJob.objects.filter(step=step).values_list("position", flat=True)) == list(
        range(1, 11)
    )


def test_job_edits_racing_on_shared_numbers_do_not_deadlock(workspace, owner):
    """Two edits of jobs both live on the same numbers bump those numbers' generations; the
    rows are locked in one order, so neither edit fails."""
    jobs = JobFactory.create_batch(2, workspace=workspace)
    for _ in range(3):
        step = SonaStepFactory(call_flow__phone_number__workspace=workspace)
        for job in jobs:
            services.step_attach_job(step=step, job=job, user=owner)
        services.callflow_publish(call_flow=step.call_flow, user=owner)
    for n in range(5):
        outcomes = race(
            *[
                lambda job=job: job_services.job_update(
                    job=job, user=owner, data={"instructions": f"Round {n} for {job.pk}."}
                )
                for job in jobs
            ]
        )
        assert all(isinstance(o, Job) for o in outcomes), outcomes
