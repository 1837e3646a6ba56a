"""Publish and rollback: the draft frozen into an immutable version made live, or an earlier
version published again; and the numbers whose live version uses a job or a page."""

from copy import deepcopy

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.urls import reverse

from core.phones import format_phone
from jobs.models import Job
from knowledge.models import KnowledgePage
from webhooks.outbox import emit
from workspaces import audit
from workspaces.models import User
from workspaces.permissions import EDIT, require_role

from .. import live
from ..checks import PUBLISH_BLOCKED, TESTS_FAILED, draft_problems, errors_of, test_failures
from ..models import (
    MAX_JOBS_PER_STEP,
    MAX_KNOWLEDGE_PER_STEP,
    CallFlow,
    CallFlowVersion,
    PhoneNumber,
    PublishedJob,
    PublishedKnowledge,
    Step,
)
from ..snapshots import build_snapshot, draft_matches_live
from .attach import JOBS, KNOWLEDGE, TOO_MANY_JOBS, TOO_MUCH_KNOWLEDGE, renumber
from .steps import _lock_flow

NOTHING_TO_PUBLISH = "Nothing to publish: the draft is the same as the live version."


def _note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationError(
            {"note": f"A note can be at most 500 characters (it has {len(note):,})."}
        )
    return note


def _create_version(
    flow: CallFlow,
    snapshot: dict,
    *,
    user,
    note: str,
    rolled_back_from=None,
    override_reason: str = "",
) -> CallFlowVersion:
    for step in snapshot["steps"]:
        if len(step.get("jobs", [])) > MAX_JOBS_PER_STEP:
            raise ValidationError(f"{TOO_MANY_JOBS}; “{step['name']}” has {len(step['jobs'])}.")
        if len(step.get("knowledge", [])) > MAX_KNOWLEDGE_PER_STEP:
            raise ValidationError(
                f"{TOO_MUCH_KNOWLEDGE}; “{step['name']}” has {len(step['knowledge'])}."
            )
    number = (flow.versions.aggregate(m=Max("number"))["m"] or 0) + 1
    version = CallFlowVersion.objects.create(
        call_flow=flow,
        number=number,
        snapshot=snapshot,
        note=_note(note),
        published_by=user,
        rolled_back_from=rolled_back_from,
        override_reason=override_reason,
    )
    PublishedJob.objects.bulk_create(
        PublishedJob(version=version, job_id=job_id, step_key=step["key"], position=i)
        for step in snapshot["steps"]
        for i, job_id in enumerate(step.get("jobs", []), start=1)
    )
    PublishedKnowledge.objects.bulk_create(
        PublishedKnowledge(version=version, page_id=page_id, step_key=step["key"], position=i)
        for step in snapshot["steps"]
        for i, page_id in enumerate(step.get("knowledge", []), start=1)
    )
    CallFlow.objects.filter(pk=flow.pk).update(live_version=version)
    flow.live_version = version
    live.number_changed(flow.phone_number_id)
    return version


PUBLISH_REFUSAL = (
    "Cannot publish: {names} was deleted since. Restore it from Recently deleted, "
    "or detach it, and try again."
)
RESTORE_REFUSAL = (
    "Cannot restore this number: its live version uses {names}, deleted since. "
    "Restore it from Recently deleted first."
)


def _lock_jobs_live(snapshot: dict, workspace_id: int, refusal: str = PUBLISH_REFUSAL) -> None:
    """Lock the jobs a version will name (in pk order, the order every path locks jobs in) and
    refuse if one was deleted. A concurrent delete either committed first (we see it here, after
    waiting for its lock) or waits for us and then finds the job live and refuses."""
    ids = {j for s in snapshot["steps"] for j in s.get("jobs", [])}
    _lock_live(Job, ids, workspace_id, "name", "some of its jobs", refusal)


def _lock_live(
    model, ids: set[int], workspace_id: int, label: str, unnamed: str, refusal: str
) -> None:
    """Lock `ids` rows of `model` in pk order; refuse if one is gone, deleted or foreign."""
    if not ids:
        return
    rows = list(
        # NO KEY: inserting rows that reference these (a draft's attachments, re-created by a
        # concurrent delete's detach) must not wait for us, or the two would deadlock.
        model.objects.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
        .only("pk", label, "workspace_id", "deleted_at")
    )
    unusable = [r for r in rows if r.workspace_id != workspace_id or r.deleted_at is not None]
    if unusable or len(rows) != len(ids):
        names = ", ".join(f"“{getattr(r, label)}”" for r in unusable) or unnamed
        raise ValidationError(refusal.format(names=names))


def _refusal(heading: str, problems, code: str) -> ValidationError:
    """A refusal listing its problems under one heading (publish errors, failing test cases)."""
    return ValidationError(
        [ValidationError(heading, code=code)]
        + [ValidationError(p.message, code=code) for p in problems]
    )


def _refuse_errors(flow: CallFlow, snapshot: dict) -> None:
    """The one rule of callflows.checks: errors block publishing, warnings do not."""
    errors = errors_of(draft_problems(flow, snapshot))
    if errors:
        raise _refusal(PUBLISH_BLOCKED, errors, "problems")


def _override(flow: CallFlow, snapshot: dict, reason: str) -> str:
    """The reason kept on the version: failing test cases need one; passing ones keep none."""
    failures = test_failures(flow, snapshot)
    if not failures:
        return ""
    reason = (reason or "").strip()
    if not reason:
        raise _refusal(TESTS_FAILED, failures, "tests_failed")
    if len(reason) > 500:
        raise ValidationError(
            {"override_reason": f"A reason can be at most 500 characters (it has {len(reason):,})."}
        )
    return reason


def _lock_pages_live(snapshot: dict, workspace_id: int, refusal: str = PUBLISH_REFUSAL) -> None:
    """Like _lock_jobs_live, for knowledge pages: lock them in pk order and refuse if one was
    deleted meanwhile (a concurrent delete then waits and finds the page live)."""
    ids = {p for s in snapshot["steps"] for p in s.get("knowledge", [])}
    _lock_live(KnowledgePage, ids, workspace_id, "title", "some of its knowledge pages", refusal)


@audit.write_service
def callflow_publish(
    *, call_flow: CallFlow, user: User, note: str = "", override_reason: str = ""
) -> CallFlowVersion:
    """Freeze the draft into a new immutable version and make it live, in one transaction.

    The call flow row is locked, so a double submit publishes once: the second finds the
    draft equal to the live version and is told there is nothing to publish. A draft with
    errors (callflows.checks) is refused with the list of them; warnings do not stop it.
    Failing saved test cases refuse it too, unless `override_reason` says why to publish anyway
    (stored on the version and in the audit event).
    """
    require_role(user, call_flow.phone_number.workspace, EDIT, "publish call flows")
    flow = _lock_flow(call_flow)
    snapshot = build_snapshot(flow)
    live = flow.live_version.snapshot if flow.live_version_id else None
    if live is not None and live == snapshot:
        raise ValidationError(NOTHING_TO_PUBLISH)
    before = flow.live_version.number if flow.live_version_id else None
    _refuse_errors(flow, snapshot)
    reason = _override(flow, snapshot, override_reason)
    _lock_jobs_live(snapshot, flow.phone_number.workspace_id)
    _lock_pages_live(snapshot, flow.phone_number.workspace_id)
    version = _create_version(flow, snapshot, user=user, note=note, override_reason=reason)
    _audit_version(user, call_flow.phone_number.workspace, flow, version, before)
    return version


def _audit_version(user, workspace, flow: CallFlow, version: CallFlowVersion, before) -> None:
    """Publish or rollback (a version copied from an earlier one), in the workspace the role
    check already loaded: the audit event and the `callflow.published` webhook message."""
    phone = flow.phone_number
    path = reverse("callflows:version_detail", args=[phone.pk, version.pk])
    emit(
        workspace=workspace,
        event="callflow.published",
        data={
            "number": phone.number,
            "display_name": phone.display_name,
            "version": version.number,
            "rolled_back_from": version.rolled_back_from,
            "note": version.note,
            "published_by": user.email if user is not None else None,
            "published_at": version.published_at,
            "url": settings.PLAYBOOK_BASE_URL.rstrip("/") + path,
        },
    )
    audit.record(
        user=user,
        workspace=workspace,
        action="callflow.rolled_back" if version.rolled_back_from else "callflow.published",
        obj=version,
        label=f"Version {version.number} of {phone.display_name}",
        details={
            "phone_id": phone.pk,
            "before": before,
            "after": version.number,
            "rolled_back_to": version.rolled_back_from,
            "note": version.note,
            **({"override_reason": version.override_reason} if version.override_reason else {}),
        },
    )


@audit.write_service
def callflow_rollback(
    *,
    call_flow: CallFlow,
    version: CallFlowVersion,
    user: User,
    note: str = "",
    expected_live_number: int | None = None,
) -> CallFlowVersion:
    """Publish an earlier version again, as a new version. The draft follows it only when the
    draft had no unpublished changes; otherwise the draft is kept, so nobody's edits are lost.

    `expected_live_number`: the live version the person confirmed against (the confirmation
    page describes the change from it); when another version went live since, nothing is done."""
    require_role(user, call_flow.phone_number.workspace, EDIT, "roll back call flows")
    flow = _lock_flow(call_flow)
    if version.call_flow_id != flow.pk:
        raise ValidationError("That version belongs to another call flow.")
    if flow.live_version_id == version.pk:
        raise ValidationError(f"Version {version.number} is already live.")
    live_number = flow.live_version.number if flow.live_version_id else None
    if expected_live_number is not None and live_number != expected_live_number:
        raise ValidationError(
            f"Version {live_number} went live since you reviewed this change. "
            "Nothing was published: review what would change again.",
            code="stale",
        )
    _refuse_errors(flow, version.snapshot)  # today's job text goes live with it: same checks
    _lock_jobs_live(version.snapshot, flow.phone_number.workspace_id)
    _lock_pages_live(version.snapshot, flow.phone_number.workspace_id)
    draft_was_clean = draft_matches_live(flow)
    snapshot = deepcopy(version.snapshot)
    before = flow.live_version.number if flow.live_version_id else None
    created = _create_version(
        flow,
        snapshot,
        user=user,
        note=note or f"Rollback to version {version.number}",
        rolled_back_from=version.number,
    )
    if draft_was_clean:
        _replace_draft(flow, snapshot)
    _audit_version(user, call_flow.phone_number.workspace, flow, created, before)
    return created


def _replace_draft(flow: CallFlow, snapshot: dict) -> None:
    """Make the draft equal to `snapshot`. A step whose key still exists keeps its row (and id),
    so open step pages and bookmarks keep working; only its fields and attachments change."""
    existing = {step.key: step for step in flow.steps.all()}
    wanted = {data["key"] for data in snapshot["steps"]}
    flow.steps.exclude(key__in=wanted).delete()
    for position, data in enumerate(snapshot["steps"], start=1):
        fields = {k: data[k] for k in ("kind", "name", "settings")} | {"position": position}
        step = existing.get(data["key"])
        if step is None:
            step = Step.objects.create(call_flow=flow, key=data["key"], **fields)
        else:
            Step.objects.filter(pk=step.pk).update(**fields)
        renumber(JOBS, step, data.get("jobs", []))
        renumber(KNOWLEDGE, step, data.get("knowledge", []))


def numbers_using_job_live(job: Job) -> list[str]:
    """The numbers whose live version uses the job, as people name them: "Main line
    (+1 555-555-0100)"."""
    rows = (
        PhoneNumber.objects.live()
        .filter(call_flow__live_version__published_jobs__job=job)
        .values_list("display_name", "number")
        .distinct()
    )
    return [f"{name} ({format_phone(number)})" for name, number in sorted(rows)]


def numbers_using_page_live(page: KnowledgePage) -> list[str]:
    """The numbers whose live version uses the page, as people name them: "Main line
    (+1 555-555-0100)"."""
    rows = (
        PhoneNumber.objects.live()
        .filter(call_flow__live_version__published_knowledge__page=page)
        .values_list("display_name", "number")
        .distinct()
    )
    return [f"{name} ({format_phone(number)})" for name, number in sorted(rows)]
