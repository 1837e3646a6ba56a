"""The versioned-document core (Wagtail's RevisionMixin is the precedent).

Jobs and knowledge pages are both "versioned documents": texts in a workspace, written by
members, with a revision that catches stale editors, a full history (simple-history), and a
"Recently deleted" bin. One abstract model (`models.VersionedDocument`), one set of services
(`services`: save with a conflict check, delete, restore, restore a version, purge), one set of
selectors (`selectors`: one document, Recently deleted, versions) and the shared pages and admin
(`views`, `admin`, templates/documents/) serve both. What differs between the kinds is a small
declaration: `DocumentKind` for the services (jobs/services.py, knowledge/services.py) and
`views.DocumentPages` for the pages (jobs/views.py, knowledge/views.py). Each kind keeps what
is its own: jobs their actions, optimizer, templates and import/export; knowledge its file and
web imports and their splitting.

This lives in workspaces, not core: the services need the role check and the audit log.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models
from django.dispatch import Signal

REASON_CREATED = "created"
REASON_EDITED = "edited"
REASON_DELETED = "deleted"
REASON_RESTORED = "restored"
REASON_IMPORTED = "imported"

# What an edit form posted without its revision is told ({noun}: the kind's noun).
REVISION_MISSING = (
    "This form did not say which version of the {noun} it was opened at, so saving it could "
    "overwrite a newer version. Nothing was saved: reload the {noun} and try again."
)


@dataclass(frozen=True)
class DocumentKind:
    """What differs between two kinds of versioned document; everything else is shared."""

    model: type[models.Model]
    noun: str  # in sentences ("This job was deleted.") and the signals' keywords (job=, job_ids=)
    audit_prefix: str  # audit event names: "<prefix>.created", ".edited", ".deleted", …
    role_action: str  # what require_role names when it refuses: "change jobs"
    # (deleting, changed): `deleting` is sent before a delete with `<noun>=document, user=`; a
    # receiver refuses (ValidationError) or returns notices, sentences about what it changed
    # elsewhere. `changed` is sent inside the writing transaction with `<noun>_ids=` and
    # `<noun>s=` once documents' texts changed (live configurations follow).
    signals: tuple[Signal, Signal]
    validate: Callable[[models.Model], None] = lambda document: None  # rules beyond the fields
    # The audit event of an update by its reason; None: the calling service records the event.
    edit_actions: dict[str, str | None] = field(default_factory=dict)
    unique_message: dict[str, str] | None = None  # the error when a unique constraint fails
    # The kind's named write services by what they do ("delete", "restore", "restore_version"),
    # filled by @documents.service: the shared pages and admin call them, so each write is
    # one of the kind's own (its role check, its audit, its name in a refusal).
    services: dict[str, Callable] = field(default_factory=dict, compare=False)

    def edit_action(self, reason: str) -> str | None:
        actions = {REASON_RESTORED: f"{self.audit_prefix}.restored", **self.edit_actions}
        return actions.get(reason, f"{self.audit_prefix}.edited")

    def call(self, what: str, document, **kwargs):
        """Call the kind's named service `what` on `document` (job=… or page=…)."""
        return self.services[what](**{self.noun: document}, **kwargs)


@dataclass
class Deleted:
    """What a delete returns on every kind: the document, and what the receivers of the
    deleting signal changed elsewhere (e.g. the drafts it was detached from), to show."""

    document: models.Model
    notices: list[str] = field(default_factory=list)


class DocumentConflict(Exception):
    """The document changed since the editor opened it; nothing was saved."""

    def __init__(self, document, attempted):
        super().__init__(f"“{document}” was changed by someone else since you opened it.")
        self.current = document
        self.attempted = dict(attempted)
