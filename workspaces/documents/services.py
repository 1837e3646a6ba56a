"""The writes every versioned document shares: save, create, update with a conflict check,
delete, restore, restore a version, purge. Each checks the role (require_editor: the one
helper) and writes its audit event; the kind's named services (jobs/services.py,
knowledge/services.py) normalize their texts and call these inside their own
`@audit.write_service` transaction. The kind's `DocumentKind` says what differs."""

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import purge
from workspaces import audit
from workspaces.models import User
from workspaces.permissions import EDIT, require_role

from . import (  # noqa: F401 (the kinds' services name them through this module)
    REASON_CREATED,
    REASON_DELETED,
    REASON_EDITED,
    REASON_IMPORTED,
    REASON_RESTORED,
    Deleted,
    DocumentConflict,
    DocumentKind,
)


def require_editor(kind: DocumentKind, user: User, workspace) -> None:
    """The one role check of every write to a kind's documents."""
    require_role(user, workspace, EDIT, kind.role_action)


def save(kind: DocumentKind, document, *, user: User | None, reason: str):
    """Validate everything (limits, the kind's rules) and save one attributed history version.
    Inside the transaction, the kind is told the texts changed (live configurations change in
    the same commit)."""
    # The field validators are the same rules as the CheckConstraints (which the database
    # holds anyway); links are set by the services, not typed, so they cost no query here.
    links = [f.name for f in document._meta.fields if f.is_relation]
    document.full_clean(exclude=links, validate_constraints=False)
    kind.validate(document)
    document.updated_by = user
    document._history_user = user
    document._change_reason = reason
    if kind.unique_message is None:
        document.save()
    else:
        try:
            # A savepoint, so a lost uniqueness race does not break the caller's transaction.
            with transaction.atomic():
                document.save()
        except IntegrityError as exc:
            raise ValidationError(kind.unique_message) from exc
    changed([document], kind)
    return document


def changed(documents: list, kind: DocumentKind) -> None:
    """Tell the kind's `changed` receivers (inside the writing transaction)."""
    ids = [document.pk for document in documents]
    kind.signals[1].send(sender=kind.model, **{f"{kind.noun}_ids": ids, f"{kind.noun}s": documents})


def service(kind: DocumentKind, what: str):
    """Register a kind's named write service as its `what` ("delete", "restore",
    "restore_version") for the shared pages and admin."""

    def register(fn):
        kind.services[what] = fn
        return fn

    return register


def version_id(document) -> int | None:
    """The newest history row's id (audit events name versions by it)."""
    return document.history.order_by("-history_id").values_list("history_id", flat=True).first()


def record(kind: DocumentKind, user: User | None, event: str, document, **details) -> None:
    """One audit event about a document: `<audit_prefix>.<event>`, or `event` when it is a
    whole action name (a kind's own, e.g. "job.optimized")."""
    audit.record(
        user=user,
        workspace=document.workspace,
        action=event if "." in event else f"{kind.audit_prefix}.{event}",
        obj=document,
        label=document.label,
        details=details,
    )


def record_import(kind: DocumentKind, user: User, workspace, label: str, **details) -> None:
    """One `<prefix>.imported` event for a whole import, not one per document."""
    action = f"{kind.audit_prefix}.imported"
    audit.record(user=user, workspace=workspace, action=action, label=label, details=details)


def create(kind: DocumentKind, document, *, user: User, reason: str, **details):
    """Save a new document (its texts already clean) and record `<prefix>.created`."""
    document.created_by = user
    document = save(kind, document, user=user, reason=reason)
    record(kind, user, "created", document, **details, after=version_id(document))
    return document


def lock(kind: DocumentKind, document):
    # NO KEY: an edit never changes the key, so attaching the document elsewhere need not wait.
    return kind.model.objects.select_for_update(no_key=True).get(pk=document.pk)


def update(
    kind: DocumentKind,
    document,
    changes: Mapping[str, str],
    *,
    user: User,
    expected_revision: int | None = None,
    reason: str,
):
    """Change a document's texts (`changes`, already clean) as one new version. With
    `expected_revision`, refuse a stale copy (DocumentConflict): nothing is saved."""
    require_editor(kind, user, document.workspace)
    current = lock(kind, document)
    if current.is_deleted:
        raise ValidationError(f"This {kind.noun} was deleted. Restore it before editing.")
    if expected_revision is not None and current.revision != expected_revision:
        raise DocumentConflict(current, {**current.text_fields(), **changes})
    fields = [f for f, v in changes.items() if getattr(current, f) != v]
    if not fields:
        return current  # nothing changed: no new version
    before = version_id(current)
    for name, value in changes.items():
        setattr(current, name, value)
    current.revision += 1
    current = save(kind, current, user=user, reason=reason)
    if event := kind.edit_action(reason):
        # Which fields changed and the versions either side (the texts are in the history).
        record(kind, user, event, current, fields=fields, before=before, after=version_id(current))
    return current


def delete(kind: DocumentKind, document, *, user: User) -> Deleted:
    """Move a document to "Recently deleted". Receivers of the kind's deleting signal may
    refuse (ValidationError) or return notices about what they changed."""
    require_editor(kind, user, document.workspace)
    current = lock(kind, document)
    if current.is_deleted:
        return Deleted(current)
    replies = kind.signals[0].send(sender=kind.model, **{kind.noun: current}, user=user)
    notices = [line for _, lines in replies for line in lines or []]
    current.deleted_at = timezone.now()
    current.revision += 1
    current = save(kind, current, user=user, reason=REASON_DELETED)
    record(kind, user, "deleted", current, after=version_id(current))
    return Deleted(current, notices)


def restore_deleted(kind: DocumentKind, document, *, user: User):
    """Bring a document back from "Recently deleted"."""
    require_editor(kind, user, document.workspace)
    current = lock(kind, document)
    if not current.is_deleted:
        return current
    current.deleted_at = None
    current.revision += 1
    try:
        current = save(kind, current, user=user, reason=REASON_RESTORED)
    except ValidationError as exc:
        if current.LABEL_FIELD in getattr(exc, "error_dict", {}):
            raise ValidationError(
                f"Another {kind.noun} is already called “{current.label}”. "
                f"Rename that {kind.noun} first."
            ) from exc
        raise
    record(kind, user, "restored", current, deleted=True, after=version_id(current))
    return current


def restore_version(
    kind: DocumentKind, document, *, version, user: User, expected_revision: int | None = None
):
    """Make an earlier version's texts current again, as a new version (history only grows)."""
    require_editor(kind, user, document.workspace)
    if version.id != document.pk:
        raise ValidationError(f"That version belongs to another {kind.noun}.")
    changes = {field: getattr(version, field) for field in kind.model.TEXT_FIELDS}
    revision = expected_revision
    return update(
        kind, document, changes, user=user, expected_revision=revision, reason=REASON_RESTORED
    )


def purge_deleted(kind: DocumentKind, *, now=None, batch_size: int = purge.BATCH) -> int:
    """Delete for good the documents deleted more than DELETED_KEEP_DAYS ago; how many went.

    A system job (callflows.tasks.purge_deleted), not a write on anyone's behalf: no acting user
    and no role check. A document that a published version still names is frozen history and
    stays (the database PROTECTs it) until that version goes with its number's purge. Each
    purged document gets a `<prefix>.purged` event without an actor; its history rows are kept
    (a call still names the version it used), ending with the purge. Idempotent.
    """
    purgeable = kind.model.objects.filter(deleted_at__lt=purge.cutoff(now)).exclude(
        published_in__isnull=False
    )
    purged = 0
    for ids in purge.id_batches(purgeable, batch_size):
        with transaction.atomic():
            # Re-read under lock: a document restored or published since the batch was listed
            # stays.
            rows = purgeable.filter(pk__in=ids).select_for_update(of=("self",))
            for document in rows.select_related("workspace"):
                record(kind, None, "purged", document, deleted_at=document.deleted_at.isoformat())
                document._change_reason = purge.PURGED
                document.delete()
                purged += 1
    return purged
