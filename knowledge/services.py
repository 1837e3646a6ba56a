"""Every write to knowledge pages. Views, admin and commands call these."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from core import purge
from core.text import check_text
from workspaces import audit
from workspaces.imports import (
    Deadline,
    RunResult,
    import_run_create,
    import_run_enqueue,
    import_run_execute,
    import_run_progress,
)
from workspaces.models import ImportRun, User, Workspace
from workspaces.permissions import EDIT, require_role

from .fetch import extract_url
from .models import TEXT_FIELDS, KnowledgePage, SourceKind
from .signals import page_changed, page_deleting
from .sources import Source, extract_file, split_source

REASON_CREATED = "created"
REASON_EDITED = "edited"
REASON_DELETED = "deleted"
REASON_RESTORED = "restored"
REASON_IMPORTED = "imported"

CHANGE_KNOWLEDGE = "change knowledge"
_IMPORT_TITLES_KEPT = 50  # an event of a long import stays small
_IMPORT_BATCH = 200  # rows per INSERT: under SQLite's parameter limit


class KnowledgeConflict(Exception):
    """The page changed since the editor opened it; nothing was saved."""

    def __init__(self, page: KnowledgePage, attempted: dict[str, str]):
        super().__init__(f"“{page.title}” was changed by someone else since you opened it.")
        self.current = page
        self.attempted = attempted


def _clean(value, label: str) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{label} must be text.")
    check_text(value, label)
    # Browsers send textarea line breaks as CRLF: store and count them as one character.
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _texts(title, body) -> dict[str, str]:
    return {"title": _clean(title, "The title"), "body": _clean(body, "The body")}


def _validate(page: KnowledgePage) -> None:
    # The field validators are the same rules as the CheckConstraints (which the database
    # holds anyway); validating the constraints in Python costs a query each.
    page.full_clean(exclude=["workspace", "created_by", "updated_by"], validate_constraints=False)


def _save(page: KnowledgePage, *, user: User, reason: str) -> KnowledgePage:
    """Validate the limits and save one attributed history version."""
    _validate(page)
    page.updated_by = user
    page._history_user = user
    page._change_reason = reason
    page.save()
    # Inside the transaction: live configurations quoting the page change in the same commit.
    page_changed.send(sender=KnowledgePage, page_ids=[page.pk])
    return page


def _version_id(page: KnowledgePage) -> int | None:
    return page.history.order_by("-history_id").values_list("history_id", flat=True).first()


def _audit(user: User, action: str, page: KnowledgePage, **details) -> None:
    audit.record(
        user=user,
        workspace=page.workspace,
        action=action,
        obj=page,
        label=page.title,
        details=details,
    )


@audit.write_service
def knowledge_page_create(
    *,
    workspace: Workspace,
    user: User,
    title: str,
    body: str,
    source_kind: str = SourceKind.WRITTEN,
    source_name: str = "",
) -> KnowledgePage:
    require_role(user, workspace, EDIT, CHANGE_KNOWLEDGE)
    page = KnowledgePage(
        workspace=workspace,
        created_by=user,
        source_kind=source_kind,
        source_name=_clean(source_name, "The source"),
        **_texts(title, body),
    )
    page = _save(page, user=user, reason=REASON_CREATED)
    _audit(user, "knowledge.created", page, source=page.source_kind, after=_version_id(page))
    return page


def _lock(page: KnowledgePage) -> KnowledgePage:
    # NO KEY: an edit never changes the key, so attaching the page elsewhere need not wait.
    return KnowledgePage.objects.select_for_update(no_key=True).get(pk=page.pk)


@audit.write_service
def knowledge_page_update(
    *,
    page: KnowledgePage,
    user: User,
    title: str,
    body: str,
    expected_revision: int | None = None,
    reason: str = REASON_EDITED,
) -> KnowledgePage:
    """Change a page's title and body. With `expected_revision`, refuse a stale copy."""
    require_role(user, page.workspace, EDIT, CHANGE_KNOWLEDGE)
    texts = _texts(title, body)
    current = _lock(page)
    if current.is_deleted:
        raise ValidationError("This page was deleted. Restore it before editing.")
    if expected_revision is not None and current.revision != expected_revision:
        raise KnowledgeConflict(current, texts)
    fields = [f for f in TEXT_FIELDS if getattr(current, f) != texts[f]]
    if not fields:
        return current  # nothing changed: no new version
    before = _version_id(current)
    for name, value in texts.items():
        setattr(current, name, value)
    current.revision += 1
    current = _save(current, user=user, reason=reason)
    action = "knowledge.restored" if reason == REASON_RESTORED else "knowledge.edited"
    _audit(user, action, current, fields=fields, before=before, after=_version_id(current))
    return current


@dataclass
class PageDeleted:
    page: KnowledgePage
    notices: list[str] = field(default_factory=list)  # e.g. drafts it was detached from


@audit.write_service
def knowledge_page_delete(*, page: KnowledgePage, user: User) -> PageDeleted:
    """Move a page to "Recently deleted". Receivers of page_deleting may refuse (a live version
    uses it) or detach it from drafts and say so."""
    require_role(user, page.workspace, EDIT, CHANGE_KNOWLEDGE)
    current = _lock(page)
    if current.is_deleted:
        return PageDeleted(current)
    notices = [
        line
        for _, lines in page_deleting.send(sender=KnowledgePage, page=current, user=user)
        for line in lines or []
    ]
    current.deleted_at = timezone.now()
    current.revision += 1
    current = _save(current, user=user, reason=REASON_DELETED)
    _audit(user, "knowledge.deleted", current, after=_version_id(current))
    return PageDeleted(current, notices)


def knowledge_page_purge_deleted(*, now=None, batch_size: int = purge.BATCH) -> int:
    """Delete for good the pages deleted more than DELETED_KEEP_DAYS ago; how many went.

    A system job like jobs.services.job_purge_deleted, with the same rules: no acting user, a
    page a published version still quotes stays, one `knowledge.purged` event per page, its
    history rows kept. Idempotent.
    """
    purgeable = KnowledgePage.objects.filter(deleted_at__lt=purge.cutoff(now)).exclude(
        published_in__isnull=False
    )
    purged = 0
    for ids in purge.id_batches(purgeable, batch_size):
        with transaction.atomic():
            pages = purgeable.filter(pk__in=ids).select_for_update(of=("self",))
            pages = pages.select_related("workspace")
            for page in pages:
                _audit(None, "knowledge.purged", page, deleted_at=page.deleted_at.isoformat())
                page._change_reason = purge.PURGED
                page.delete()
                purged += 1
    return purged


@audit.write_service
def knowledge_page_restore(*, page: KnowledgePage, user: User) -> KnowledgePage:
    """Bring a deleted page back from "Recently deleted"."""
    require_role(user, page.workspace, EDIT, CHANGE_KNOWLEDGE)
    current = _lock(page)
    if not current.is_deleted:
        return current
    current.deleted_at = None
    current.revision += 1
    current = _save(current, user=user, reason=REASON_RESTORED)
    _audit(user, "knowledge.restored", current, deleted=True, after=_version_id(current))
    return current


@audit.write_service
def knowledge_page_restore_version(
    *, page: KnowledgePage, version, user: User, expected_revision: int | None = None
) -> KnowledgePage:
    """Make an earlier version's texts current again, as a new version (history only grows)."""
    require_role(user, page.workspace, EDIT, CHANGE_KNOWLEDGE)
    if version.id != page.pk:
        raise ValidationError("That version belongs to another page.")
    return knowledge_page_update(
        page=page,
        user=user,
        title=version.title,
        body=version.body,
        expected_revision=expected_revision,
        reason=REASON_RESTORED,
    )


# Import ------------------------------------------------------------------------------------


@audit.write_service
def knowledge_import(
    *,
    workspace: Workspace,
    user: User,
    sources: Sequence[Source],
    dry_run: bool = False,
    max_pages: int | None = None,
) -> list[KnowledgePage]:
    """Create pages from extracted sources (files, web pages), all or nothing. A source over
    the body limit becomes several pages, "… (part 2 of 3)". At most `max_pages` pages
    (settings.KNOWLEDGE_IMPORT_MAX_PAGES unless a command asks for more). Returns the pages
    (unsaved on a dry run)."""
    require_role(user, workspace, EDIT, "import knowledge")
    if not sources:
        raise ValidationError("Choose at least one file or web page to import.")
    if max_pages is None:
        max_pages = settings.KNOWLEDGE_IMPORT_MAX_PAGES
    parts = [(source, split_source(source)) for source in sources]
    count = sum(len(split) for _, split in parts)
    if count > max_pages:
        raise ValidationError(
            f"This import would create {count:,} pages; at most {max_pages:,} pages per "
            "import. Import fewer or shorter files at a time.",
            code="too_many_pages",
        )
    pages = []
    for source, split in parts:
        for title, body in split:
            page = KnowledgePage(
                workspace=workspace,
                created_by=user,
                updated_by=user,
                source_kind=source.kind,
                source_name=source.name[:500],
                title=title,
                body=body,
            )
            try:
                _validate(page)
            except ValidationError as exc:
                raise ValidationError(f"{source.name}: {' '.join(exc.messages)}") from exc
            pages.append(page)
    if dry_run:
        return pages
    # In bulk, one attributed history row each: a 10 MB file is a thousand pages. New pages
    # are in no call flow yet, so nothing live changes.
    pages = bulk_create_with_history(
        pages,
        KnowledgePage,
        batch_size=_IMPORT_BATCH,
        default_user=user,
        default_change_reason=REASON_IMPORTED,
    )
    titles = [page.title for page in pages]
    audit.record(
        user=user,
        workspace=workspace,
        action="knowledge.imported",
        label=f"{len(pages)} page{'s' if len(pages) != 1 else ''} imported",
        details={
            "pages": len(pages),
            "sources": [s.name[:200] for s in sources][:_IMPORT_TITLES_KEPT],
            "titles": titles[:_IMPORT_TITLES_KEPT],
        },
    )
    return pages


# Background imports (knowledge/tasks.py) ------------------------------------------------------


@audit.write_service
def knowledge_import_start(
    *,
    workspace: Workspace,
    user: User,
    url: str = "",
    files: Sequence[tuple[str, bytes]] = (),
) -> ImportRun:
    """Queue the import of a web page, or of uploaded files (name, bytes), as a run a worker
    does; its page shows the progress and then the pages created, or the error."""
    require_role(user, workspace, EDIT, "import knowledge")
    if bool(url) == bool(files):
        raise ValidationError("Choose at least one file or web page to import.")
    from . import tasks  # tasks call services

    if url:
        run = import_run_create(
            workspace=workspace, user=user, kind=ImportRun.Kind.WEBSITE, url=url
        )
        import_run_enqueue(run, tasks.import_website)
    else:
        run = import_run_create(
            workspace=workspace, user=user, kind=ImportRun.Kind.FILES, files=files, total=len(files)
        )
        import_run_enqueue(run, tasks.import_files)
    return run


def _run_sources(run: ImportRun, deadline: Deadline) -> list[Source]:
    """Fetch the page, or read each file, outside any transaction; progress after each."""
    if run.kind == ImportRun.Kind.WEBSITE:
        return [extract_url(run.url)]
    sources = []
    files = list(run.files.order_by("position").values_list("pk", "name"))
    for done, (pk, name) in enumerate(files, start=1):
        data = run.files.filter(pk=pk).values_list("data", flat=True).get()
        sources.append(extract_file(name, bytes(data)))
        deadline.check()
        import_run_progress(run, done, len(files))
    return sources


def knowledge_import_run(*, run_id: int) -> ImportRun | None:
    """Do a queued knowledge import as the person who started it (knowledge/tasks.py)."""

    def commit(run: ImportRun, sources: list[Source]) -> RunResult:
        pages = knowledge_import(workspace=run.workspace, user=run.created_by, sources=sources)
        return RunResult(created_ids=[page.pk for page in pages])

    return import_run_execute(run_id, prepare=_run_sources, commit=commit)


def knowledge_export(*, workspace: Workspace) -> list[dict]:
    pages = KnowledgePage.objects.filter(workspace=workspace, deleted_at__isnull=True).order_by(
        "title", "pk"
    )
    return [
        {
            "id": p.pk,
            "title": p.title,
            "body": p.body,
            "source_kind": p.source_kind,
            "source_name": p.source_name,
            "revision": p.revision,
        }
        for p in pages
    ]
