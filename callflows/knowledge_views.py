"""The knowledge panel of a Sona step: attach, detach and order pages (htmx like the jobs)."""

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.http import require_POST

from knowledge import selectors as knowledge_selectors
from workspaces.permissions import EDIT, workspace_view

from . import selectors, services
from .models import MAX_KNOWLEDGE_PER_STEP, StepKind
from .views import Panel, _offset, _page, _step, panel_action


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


PANEL = Panel(
    noun="page",
    field="page_id",
    get=selectors.knowledge_page_get,
    missing="Choose a knowledge page.",
    attached_ids=lambda step: [
        link.page_id for link in selectors.step_attached_knowledge(step=step)
    ],
    query=_query,
    context=_context,
    template="callflows/_knowledge_panel.html",
    search_id="knowledge-library-search",
    url_name="callflows:step_knowledge",
)


@require_POST
@workspace_view(EDIT)
def knowledge_attach(request, pk, step_id):
    def attach(step, page):
        services.step_attach_knowledge(step=step, page=page, user=request.user)
        return f"Attached “{page.title}”."

    return panel_action(request, pk, step_id, PANEL, attach, "attach")


@require_POST
@workspace_view(EDIT)
def knowledge_detach(request, pk, step_id):
    def detach(step, page):
        services.step_detach_knowledge(step=step, page=page, user=request.user)
        return f"Detached “{page.title}”."

    return panel_action(request, pk, step_id, PANEL, detach, "detach")


@require_POST
@workspace_view(EDIT)
def knowledge_move(request, pk, step_id):
    offset = _offset(request)

    def move(step, page):
        if offset is None:
            raise ValidationError("Choose to move the page up or down.")
        services.step_move_knowledge(step=step, page=page, offset=offset, user=request.user)
        return f"Moved “{page.title}” {'up' if offset < 0 else 'down'}."

    return panel_action(request, pk, step_id, PANEL, move, "move")
