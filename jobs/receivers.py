"""How jobs react to changes elsewhere, without workspaces importing jobs."""

from django.core.exceptions import ValidationError
from django.dispatch import receiver

from workspaces.signals import member_removing

from .selectors import jobs_naming


@receiver(member_removing)
def refuse_removing_transfer_targets(sender, membership, **kwargs):
    """Simplest correct rule: a member a job's transfer names stays until those jobs are
    edited (callers would otherwise be transferred to nobody). Deleted jobs do not count."""
    email = membership.user.email
    naming = jobs_naming(workspace=membership.workspace, member_email=email)
    if naming:
        names = ", ".join(f"“{job.name}”" for job in naming)
        raise ValidationError(
            f"{email} cannot be removed: {names} transfer calls to them. Edit those jobs first."
        )
