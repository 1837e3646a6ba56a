"""How the calls app keeps the router's stored vectors current, without jobs or callflows
importing calls: the texts a write creates are embedded after its commit (calls/vectors.py), so
routing never embeds a job's text. Only missing texts are embedded: an unchanged save costs one
query after the commit and no model time."""

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.signals import post_save
from django.dispatch import receiver

from callflows.models import PublishedJob, StepJob
from jobs.models import Job
from jobs.signals import job_changed

from . import vectors
from .models import Scenario

_IDS = 500  # job ids per query for a bulk import


def _after_commit(texts) -> None:
    texts = tuple(texts)
    if texts:
        # robust: a failure is logged and the write stands; the read path embeds what is missing.
        transaction.on_commit(lambda: vectors.store(texts), robust=True)


@receiver(post_save, sender=Job)
def job_saved(sender, instance, raw=False, **kwargs):
    """Create, edit, optimize, undo, restore, delete: every save through jobs/services.py."""
    if not raw and instance.deleted_at is None:
        _after_commit(vectors.job_texts(instance))
    before = getattr(instance, "loaded_name", None)
    if not raw and before and before != instance.name:
        _follow_rename(instance, before)
    instance.loaded_name = instance.name


def _follow_rename(job: Job, before: str) -> None:
    """Scenarios name the job they expect: a rename renames it there too, in the same
    transaction, so no expectation (or router example) is lost to a rename."""
    found = Scenario.objects.filter(
        call_flow__phone_number__workspace_id=job.workspace_id, expect__job__iexact=before
    )
    for scenario in found:
        scenario.expect = {**scenario.expect, "job": job.name}
        scenario.save(update_fields=["expect", "updated_at"])


@receiver(post_save, sender=Scenario)
def scenario_saved(sender, instance, raw=False, **kwargs):
    """A test case's sentence (a one-turn scenario naming a job) is an example of its job's
    intent: the router reads its vector."""
    if not raw and instance.example_job is not None:
        _after_commit(vectors.example_texts(list(instance.turns)))


@receiver(post_save, sender=StepJob)
def job_attached(sender, instance, created, raw=False, **kwargs):
    """A job entering a step (one imported in bulk has no vectors yet)."""
    if not raw and created:
        job_id = instance.job_id
        transaction.on_commit(lambda: _store_jobs([job_id], attached_only=False), robust=True)


@receiver(job_changed)
def jobs_imported(sender, job_ids, jobs=None, **kwargs):
    """An import updates jobs in bulk (no post_save): embed those a step or a version uses;
    the others when they are attached (job_attached) or on deploy (embed_jobs)."""
    if jobs is None and job_ids:
        ids = list(job_ids)
        transaction.on_commit(lambda: _store_jobs(ids, attached_only=True), robust=True)


def _store_jobs(job_ids: list[int], *, attached_only: bool) -> None:
    texts = []
    for start in range(0, len(job_ids), _IDS):
        found = Job.objects.filter(pk__in=job_ids[start : start + _IDS], deleted_at__isnull=True)
        if attached_only:
            found = found.filter(
                Exists(StepJob.objects.filter(job=OuterRef("pk")))
                | Exists(PublishedJob.objects.filter(job=OuterRef("pk")))
            )
        for job in found.only("name", "trigger", "description", "instructions"):
            texts += vectors.job_texts(job)
    vectors.store_all(texts)
