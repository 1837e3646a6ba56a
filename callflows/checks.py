"""Checks a snapshot must pass before it goes live (publish and rollback call them).

`action_problems` is the one list of action errors: the publish preview shows it and
callflow_publish / callflow_rollback refuse while it is not empty.
"""

from jobs import actions
from jobs.models import Job
from jobs.selectors import action_context

from .models import CallFlow


def _jobs(snapshot: dict, workspace_id: int) -> list[Job]:
    """The snapshot's jobs in step order, each once (one query)."""
    ids = list(dict.fromkeys(j for step in snapshot["steps"] for j in step.get("jobs", [])))
    found = Job.objects.filter(pk__in=ids, workspace_id=workspace_id).in_bulk()
    return [found[pk] for pk in ids if pk in found]


def sms_problems(
    call_flow: CallFlow, snapshot: dict, *, jobs: list[Job] | None = None
) -> list[str]:
    """Jobs of the snapshot that send SMS from a number not registered for SMS."""
    phone = call_flow.phone_number
    if phone.sms_registered:
        return []
    if jobs is None:
        jobs = _jobs(snapshot, phone.workspace_id)
    return [
        f"“{job.name}” sends an SMS, but {phone.display_name} ({phone.number}) is not registered "
        "for SMS. Mark the number as SMS registered once its registration is done, or remove "
        "the Send SMS action."
        for job in jobs
        if any(a.type == "send_sms" for a in actions.parse(job.instructions))
    ]


def action_problems(call_flow: CallFlow, snapshot: dict) -> list[str]:
    """Every error about the actions of the snapshot's jobs: markers that are malformed or name
    a missing member or number, and SMS sent from an unregistered number. Empty: fine."""
    phone = call_flow.phone_number
    jobs = _jobs(snapshot, phone.workspace_id)
    problems = []
    marked = [job for job in jobs if actions.has_markers(job.instructions)]
    if marked:
        context = action_context(workspace=phone.workspace)
        for job in marked:
            problems += [
                f"“{job.name}”: {problem}"
                for problem in actions.find_problems(job.instructions, context=context)
            ]
    return problems + sms_problems(call_flow, snapshot, jobs=jobs)
