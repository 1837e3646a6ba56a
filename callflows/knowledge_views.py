"""The knowledge panel of a Sona step: attach, detach and order pages (htmx like the jobs)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from knowledge import selectors as knowledge_selectors
from workspaces.errors import error_messages
from workspaces.permissions import EDIT, workspace_view

from . import selectors, services
from .models import MAX_KNOWLEDGE_PER_STEP, StepKind
from .views import _offset, _page, _step, focus_after


def _context(request, phone, step, *, query, page_number, **extra):
    attached = selectors.step_attached_knowledge(step=step)
    library = knowledge_selectors.page_list(workspace=request.workspace, query=query)
    return {
        "phone": phone,
        "step": step,
        "attached": attached,
        "attached_ids": {link.page_id for link in attached},
        "can_attach": services.step_can_attach_knowledge(step, attached_count=len(attached)),
        "max_pages": MAX_KNOWLEDGE_PER_STEP,
        "page": _page(request, library, page_number),
        "query": query,
        "can_edit": request.membership.can_edit,
        **extra,
    }


def _query(raw: str) -> str:
    return raw.strip()[: knowledge_selectors.SEARCH_MAX]


@workspace_view()
def step_knowledge(request, pk, step_id):
    phone, step = _step(request, pk, step_id, kind=StepKind.SONA)
    context = _context(
        request,
        phone,
        step,
        query=_query(request.GET.get("q", "")),
        page_number=request.GET.get("page"),
    )
    return render(request, "callflows/step_knowledge.html", context)


def _action(request, pk, step_id, action, kind):
    """Run an attach/detach/move; answer with the panel (htmx) or a redirect."""
    phone, step = _step(request, pk, step_id, kind=StepKind.SONA)
    page = selectors.knowledge_page_get(workspace=request.workspace, pk=request.POST.get("page_id"))
    before = []
    if request.htmx and kind == "detach":
        before = [link.page_id for link in selectors.step_attached_knowledge(step=step)]
    notice = error = ""
    try:
        if page is None:
            raise ValidationError("Choose a knowledge page.")
        notice = action(step, page)
    except ValidationError as exc:
        error = " ".join(error_messages(exc))
    query, page_number = _query(request.POST.get("q", "")), request.POST.get("page", "")
    if request.htmx:
        focus = focus_after(
            kind, "page", page and page.pk, before=before, offset=_offset(request)
        ) + ["knowledge-library-search"]
        context = _context(
            request,
            phone,
            step,
            query=query,
            page_number=page_number,
            notice=notice,
            error=error,
            focus=focus,
        )
        return render(request, "callflows/_knowledge_panel.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    url = reverse("callflows:step_knowledge", args=[phone.pk, step.pk])
    params = {k: v for k, v in (("q", query), ("page", page_number)) if v}
    return redirect(f"{url}?{urlencode(params)}" if params else url)


@require_POST
@workspace_view(EDIT)
def knowledge_attach(request, pk, step_id):
    def attach(step, page):
        services.step_attach_knowledge(step=step, page=page, user=request.user)
        return f"Attached “{page.title}”."

    return _action(request, pk, step_id, attach, "attach")


@require_POST
@workspace_view(EDIT)
def knowledge_detach(request, pk, step_id):
    def detach(step, page):
        services.step_detach_knowledge(step=step, page=page, user=request.user)
        return f"Detached “{page.title}”."

    return _action(request, pk, step_id, detach, "detach")


@require_POST
@workspace_view(EDIT)
def knowledge_move(request, pk, step_id):
    offset = _offset(request)

    def move(step, page):
        if offset is None:
            raise ValidationError("Choose to move the page up or down.")
        services.step_move_knowledge(step=step, page=page, offset=offset, user=request.user)
        return f"Moved “{page.title}” {'up' if offset < 0 else 'down'}."

    return _action(request, pk, step_id, move, "move")
