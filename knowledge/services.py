"""Every write to knowledge pages. Views, admin and commands call these."""

from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from simple_history.utils import bulk_create_with_history

from core import purge
from core.text import check_text
from workspaces import audit
from workspaces.documents import services as documents
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
from .models import KnowledgePage, SourceKind
from .signals import page_changed, page_deleting
from .sources import Source, extract_file, split_source

CHANGE_KNOWLEDGE = "change knowledge"
_IMPORT_TITLES_KEPT = 50  # an event of a long import stays small
_IMPORT_BATCH = 200  # rows per INSERT: under SQLite's parameter limit

# The core's conflict: the editor shows the typed text beside the current one.
KnowledgeConflict = documents.DocumentConflict


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


# What knowledge declares to the versioned-document core (workspaces/documents).
KIND = documents.DocumentKind(
    model=KnowledgePage,
    noun="page",
    audit_prefix="knowledge",
    role_action=CHANGE_KNOWLEDGE,
    signals=(page_deleting, page_changed),
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
    documents.require_editor(KIND, user, workspace)
    page = KnowledgePage(
        workspace=workspace,
        source_kind=source_kind,
        source_name=_clean(source_name, "The source"),
        **_texts(title, body),
    )
    return documents.create(
        KIND, page, user=user, reason=documents.REASON_CREATED, source=source_kind
    )


@audit.write_service
def knowledge_page_update(
    *,
    page: KnowledgePage,
    user: User,
    title: str,
    body: str,
    expected_revision: int | None = None,
    reason: str = documents.REASON_EDITED,
) -> KnowledgePage:
    """Change a page's title and body. With `expected_revision`, refuse a stale copy."""
    texts = _texts(title, body)
    return documents.update(
        KIND, page, texts, user=user, expected_revision=expected_revision, reason=reason
    )


def knowledge_page_purge_deleted(*, now=None, batch_size: int = purge.BATCH) -> int:
    """Delete for good the pages deleted more than DELETED_KEEP_DAYS ago (see
    documents.purge_deleted)."""
    return documents.purge_deleted(KIND, now=now, batch_size=batch_size)


@documents.service(KIND, "delete")
@audit.write_service
def knowledge_page_delete(*, page: KnowledgePage, user: User) -> documents.Deleted:
    """Move a page to "Recently deleted". Receivers of page_deleting may refuse (a live version
    uses it) or detach it from drafts and say so."""
    return documents.delete(KIND, page, user=user)


@documents.service(KIND, "restore_version")
@audit.write_service
def knowledge_page_restore_version(
    *, page: KnowledgePage, version, user: User, expected_revision: int | None = None
) -> KnowledgePage:
    """Make an earlier version's texts current again, as a new version (history only grows)."""
    return documents.restore_version(
        KIND, page, version=version, user=user, expected_revision=expected_revision
    )


@documents.service(KIND, "restore")
@audit.write_service
def knowledge_page_restore(*, page: KnowledgePage, user: User) -> KnowledgePage:
    """Bring a deleted page back from "Recently deleted"."""
    return documents.restore_deleted(KIND, page, user=user)


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
                page.full_clean(
                    exclude=["workspace", "created_by", "updated_by"], validate_constraints=False
                )
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
        default_change_reason=documents.REASON_IMPORTED,
    )
    titles = [page.title for page in pages]
    label = f"{len(pages)} page{'s' if len(pages) != 1 else ''} imported"
    source_names = [s.name[:200] for s in sources][:_IMPORT_TITLES_KEPT]
    titles = titles[:_IMPORT_TITLES_KEPT]
    documents.record_import(
        KIND, user, workspace, label, pages=len(pages), sources=source_names, titles=titles
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
