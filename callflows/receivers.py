"""How call flows react to job changes, without jobs importing callflows."""

from django.core.exceptions import ValidationError
from django.dispatch import receiver

from jobs.signals import job_changed, job_delete_preview, job_deleting

from . import cache, services
from .models import StepJob


@receiver(job_deleting)
def refuse_deleting_live_jobs(sender, job, **kwargs):
    """A job a live version uses cannot be deleted; one only drafts use leaves those drafts."""
    numbers = services.numbers_using_job_live(job)
    if numbers:
        raise ValidationError(
            f"“{job.name}” is used by the live call flow of {', '.join(numbers)}. "
            "Detach it there and publish before deleting it."
        )
    services.detach_deleted_job(job=job)


@receiver(job_delete_preview)
def describe_delete(sender, job, **kwargs):
    numbers = services.numbers_using_job_live(job)
    if numbers:
        return [
            f"It cannot be deleted now: the live call flow of {', '.join(numbers)} uses it. "
            "Detach it there and publish first."
        ]
    drafts = (
        StepJob.objects.filter(job=job)
        .values_list(
            "step__call_flow__phone_number__display_name", "step__call_flow__phone_number__number"
        )
        .distinct()
    )
    return [
        f"It will be removed from the draft call flow of {name} ({number})."
        for name, number in drafts
    ]


@receiver(job_changed)
def clear_live_configs(sender, job, **kwargs):
    """Job text is not frozen: the runtime must see an edit at once."""
    cache.clear_numbers(services.numbers_using_job_live(job))
