"""The pages every versioned document shares: Recently deleted, delete, restore, history,
compare and restore a version. Each kind declares its `DocumentPages` and adds
`document_urls(pages)` to its urls; the templates are templates/documents/*.html."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.text import capfirst
from django.views.decorators.http import require_POST

from core.diff import word_diff
from core.errors import error_messages
from core.forms import parse_id
from workspaces.permissions import EDIT, workspace_view

from . import REVISION_MISSING, DocumentConflict, DocumentKind, selectors

PAGE_SIZE = 25
HISTORY_PAGE_SIZE = 50


@dataclass(frozen=True)
class DocumentPages:
    """What the shared pages of a kind need beyond its DocumentKind: a few words, and the
    answer to a stale "Restore this version" (by default: say so, back to the history)."""

    kind: DocumentKind
    library: str  # where "Back to …" leads: "the job library", "knowledge"
    # (request, document, DocumentConflict) -> the response; None: say so, back to the history.
    conflict: Callable | None = None

    @property
    def model(self):
        return self.kind.model

    @property
    def noun(self) -> str:
        return self.kind.noun

    @property
    def namespace(self) -> str:
        """The url namespace is the app's label: "jobs", "knowledge"."""
        return self.model._meta.app_label

    @cached_property
    def labels(self) -> dict[str, str]:
        """The texts, in order, with the words the pages use for them (the fields' names)."""
        return {
            name: capfirst(self.model._meta.get_field(name).verbose_name)
            for name in self.model.TEXT_FIELDS
        }

    @cached_property
    def long_fields(self) -> tuple[str, ...]:
        """The texts shown preformatted: the long ones (TextField)."""
        fields = (self.model._meta.get_field(name) for name in self.model.TEXT_FIELDS)
        return tuple(f.name for f in fields if isinstance(f, models.TextField))

    @property
    def label_heading(self) -> str:
        """The column naming the documents in lists: "Name", "Title"."""
        return next(iter(self.labels.values()))

    def url(self, name: str) -> str:
        return f"{self.namespace}:{name}"

    def get(self, request, pk, deleted: bool | None = False):
        return selectors.document_get(
            self.model, workspace=request.workspace, pk=pk, deleted=deleted
        )

    def delete(self, document, user):
        return self.kind.call("delete", document, user=user)

    def restore(self, document, user):
        return self.kind.call("restore", document, user=user)

    def restore_version(self, document, version, user, revision):
        return self.kind.call(
            "restore_version", document, version=version, user=user, expected_revision=revision
        )


def _render(request, pages: DocumentPages, name: str, context: dict, **kwargs):
    return render(request, f"documents/{name}.html", {"kind": pages, **context}, **kwargs)


def deleted_list(request, pages: DocumentPages):
    documents = selectors.deleted(pages.model, workspace=request.workspace)
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(request, pages, "deleted_list", {"page": page})


def delete(request, pages: DocumentPages, pk):
    """Confirm (GET), then move to Recently deleted (POST), showing what else changed."""
    document = pages.get(request, pk)
    if request.method != "POST":
        # The page asks callflows where it is used ({% usage_of %}): no kind imports callflows.
        return _render(request, pages, "confirm_delete", {"document": document})
    try:
        result = pages.delete(document, request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(error_messages(exc)))
        return redirect(document)
    for notice in result.notices:
        messages.info(request, notice)
    noun = pages.noun.capitalize()
    messages.success(request, f"{noun} “{document}” moved to Recently deleted.")
    return redirect(pages.url("list"))


def restore(request, pages: DocumentPages, pk):
    document = pages.get(request, pk, deleted=True)
    try:
        document = pages.restore(document, request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(error_messages(exc)))
        return redirect(pages.url("deleted"))
    messages.success(request, f"{pages.noun.capitalize()} “{document}” restored.")
    return redirect(document)


def history(request, pages: DocumentPages, pk):
    document = pages.get(request, pk, deleted=None)
    paged = Paginator(selectors.versions(document), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    versions = list(paged.object_list)
    selectors.annotate_changes(document, versions)
    context = {
        "document": document,
        "page": paged,
        "versions": versions,
        "latest_id": selectors.latest_version_id(document)
        if paged.number > 1 or not versions
        else versions[0].history_id,
        "can_restore": request.membership.can_edit and not document.is_deleted,
    }
    return _render(request, pages, "history", context)


def _version_param(request, document, name):
    version_id = parse_id(request.GET.get(name))
    if version_id is None:
        return None
    return selectors.version_get(document, version_id)


def compare(request, pages: DocumentPages, pk):
    document = pages.get(request, pk, deleted=None)
    old, new = _version_param(request, document, "a"), _version_param(request, document, "b")
    if old is None or new is None:
        messages.error(request, "Pick two versions to compare.")
        return redirect(pages.url("history"), pk=document.pk)
    if old.history_id > new.history_id:
        old, new = new, old
    fields = [
        (label, word_diff(getattr(old, field), getattr(new, field)))
        for field, label in pages.labels.items()
    ]
    context = {"document": document, "old": old, "new": new, "fields": fields}
    return _render(request, pages, "compare", context)


def version_restore(request, pages: DocumentPages, pk, version_id):
    document = pages.get(request, pk)
    version = selectors.version_get(document, version_id)
    if request.method != "POST":
        fields = [
            (label, getattr(version, field), field in pages.long_fields)
            for field, label in pages.labels.items()
        ]
        context = {"document": document, "version": version, "fields": fields}
        return _render(request, pages, "version_restore", context)
    revision = parse_id(request.POST.get("revision"))
    try:
        if revision is None:
            raise ValidationError(REVISION_MISSING.format(noun=pages.noun))
        pages.restore_version(document, version, request.user, revision)
    except DocumentConflict as conflict:
        if pages.conflict is not None:
            return pages.conflict(request, document, conflict)
        messages.error(
            request,
            f"The {pages.noun} changed since you opened this. Nothing was restored: try again.",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(error_messages(exc)))
    else:
        messages.success(request, f"Version {version.number} restored as the newest version.")
    return redirect(pages.url("history"), pk=document.pk)


def document_urls(pages: DocumentPages, *, library, detail, edit) -> list:
    """Every kind's urls, named alike in its namespace: its own library, page and editor
    (`library`, `detail`, `edit`), and the shared pages."""

    def view(fn, *decorators):
        def bound(request, **kwargs):
            return fn(request, pages, **kwargs)

        bound.__name__ = bound.__qualname__ = f"{pages.noun}_{fn.__name__}"
        for decorate in reversed(decorators):
            bound = decorate(bound)
        return bound

    reader, editor = workspace_view(), workspace_view(EDIT)
    return [
        path("", library, name="list"),
        path("<int:pk>/", detail, name="detail"),
        path("<int:pk>/edit/", edit, name="edit"),
        path("deleted/", view(deleted_list, reader), name="deleted"),
        path("<int:pk>/delete/", view(delete, editor), name="delete"),
        path("<int:pk>/restore/", view(restore, require_POST, editor), name="restore"),
        path("<int:pk>/history/", view(history, reader), name="history"),
        path("<int:pk>/history/compare/", view(compare, reader), name="compare"),
        path(
            "<int:pk>/history/<int:version_id>/restore/",
            view(version_restore, editor),
            name="version_restore",
        ),
    ]
