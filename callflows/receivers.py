"""How call flows react to job and knowledge changes, without those apps importing callflows."""

from django.core.exceptions import ValidationError
from django.db.models.signals import post_save
from django.dispatch import receiver

from jobs import actions
from jobs.models import Job
from jobs.signals import job_changed, job_deleting, workspace_number_names, workspace_numbers
from knowledge.signals import page_changed, page_deleting
from webhooks.models import WebhookEndpoint
from workspaces.models import ApiToken, Workspace

from . import live, services
from .models import PhoneNumber


@receiver(job_deleting)
def refuse_deleting_live_jobs(sender, job, **kwargs):
    """A job a live version uses cannot be deleted; drafts that only use it lose it, and the
    job deleting it is told which."""
    live_on = services.numbers_using_job_live(job)
    return _deleting(job, live_on, lambda: services.detach_deleted_job(job=job))


@receiver(job_changed)
def job_text_is_live(sender, job_ids, jobs=None, **kwargs):
    """Job text is not frozen: the numbers whose live version uses the jobs serve the change
    from this transaction's commit on. So an edit that makes a live job send SMS from a number
    not registered for SMS is refused here, as publishing it would be."""
    rows = live.changed(
        PhoneNumber.objects.filter(call_flow__live_version__published_jobs__job_id__in=job_ids)
    )
    unregistered = {(number, name) for _, number, name, registered in rows if not registered}
    if not unregistered:
        return
    if jobs is None:  # a bulk import names ids only
        jobs = Job.objects.filter(pk__in=job_ids).only("name", "instructions")
    senders = [
        job.name
        for job in jobs
        if job.deleted_at is None
        and any(a.type == "send_sms" for a in actions.parse(job.instructions))
    ]
    if senders:
        where = ", ".join(f"{name} ({number})" for number, name in sorted(unregistered))
        raise ValidationError(
            {
                "instructions": f"“{senders[0]}” is live on {where}, which is not registered "
                "for SMS: it cannot send SMS there. Mark the number as SMS registered once its "
                "registration is done, or remove the Send SMS action."
            }
        )


@receiver(page_deleting)
def refuse_deleting_live_pages(sender, page, **kwargs):
    """A page a live version uses cannot be deleted; drafts that only use it lose it, and the
    page deleting it is told which."""
    live_on = services.numbers_using_page_live(page)
    return _deleting(page, live_on, lambda: services.detach_deleted_page(page=page))


def _deleting(document, live_on: list[str], detach) -> list[str]:
    """Refuse deleting a document a live version uses; else detach it from the drafts and
    return the notices of the drafts it left (shown on the job and the page side alike)."""
    if live_on:
        raise ValidationError(
            f"“{document}” is used by the live call flow of {', '.join(live_on)}. "
            "Detach it there and publish before deleting it."
        )
    return [
        f"“{document}” was removed from the draft call flow of {number}." for number in detach()
    ]


@receiver(page_changed)
def page_text_is_live(sender, page_ids, **kwargs):
    """Knowledge text is not frozen: numbers whose live version quotes the pages serve the
    change from this transaction's commit on."""
    live.changed(
        PhoneNumber.objects.filter(
            call_flow__live_version__published_knowledge__page_id__in=page_ids
        )
    )


@receiver(post_save, sender=ApiToken)
def token_saved(sender, instance, created, **kwargs):
    """A revoke is refused by this process at once (and by the others within a second)."""
    if not created:
        live.forget()


@receiver(post_save, sender=WebhookEndpoint)
def endpoint_saved(sender, instance, **kwargs):
    """A call report reads from the token lookup whether its workspace has an enabled webhook
    endpoint: an endpoint added, enabled or disabled is seen at once here (within a second in
    the other processes), so the next reported call writes its `call.reported` message."""
    live.forget()


@receiver(post_save, sender=Workspace)
def workspace_name_is_live(sender, instance, created, **kwargs):
    """The workspace's name and slug are part of every live configuration of its numbers."""
    if not created:
        live.changed(PhoneNumber.objects.filter(workspace=instance))


@receiver(workspace_numbers)
def numbers_of_workspace(sender, workspace, **kwargs):
    """The numbers a `[[Transfer call: number …]]` marker may name (jobs/actions.py)."""
    return PhoneNumber.objects.live().filter(workspace=workspace).values_list("number", flat=True)


@receiver(workspace_number_names)
def number_names_of_workspace(sender, workspace, **kwargs):
    """The numbers the job editor's "Transfer the call" offers, by their display names."""
    return (
        PhoneNumber.objects.live().filter(workspace=workspace).values_list("number", "display_name")
    )
