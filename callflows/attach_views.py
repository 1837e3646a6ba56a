"""The jobs and knowledge panels of a Sona step: attach, detach and order items (htmx, or plain
forms without JavaScript). One set of views and one template (callflows/_attach_panel.html)
serve both; a `Panel` declares what differs. Every rule lives in callflows.services.attach."""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import error_messages
from jobs.selectors import PICK_MAX
from knowledge import selectors as knowledge_selectors
from workspaces.documents.selectors import search_query
from workspaces.permissions import EDIT, workspace_view

from . import checks, selectors, services
from .models import StepKind
from .services.attach import JOBS, KNOWLEDGE, Attachment
from .views import _offset, _page, _step


@dataclass(frozen=True)
class Panel:
    """What differs between a Sona step's jobs panel and its knowledge panel."""

    attachment: Attachment  # the service's declaration (through-model, limit, noun)
    key: str  # the panel's ids, its tab and its page: "jobs" / "knowledge"
    field: str  # the POST field naming the item (as the forms have always posted it)
    get: Callable  # (workspace, pk) -> the workspace's item, or None
    attached: Callable  # step -> the attachments in order, with their items (one query)
    library: Callable  # (workspace, query) -> the library's items
    # "attach", "detach", "move" -> the write service, called with step=,
    # <attachment.field>=item, user= (and offset= to move)
    services: dict
    urls: dict  # the url names of attach, detach and move
    words: dict  # what the pages say (headings, labels, empty states)
    search_id: str  # focused when no row control is left
    # the library shows at most this many matches (a search-as-you-type list, whatever the
    # number of items, no count); None: pages of the whole library
    pick: int | None = None

    @property
    def noun(self) -> str:
        return self.attachment.noun  # in the buttons' ids (focus_after): "job" or "page"

    @property
    def plural(self) -> str:
        return f"{self.noun}s"

    @property
    def max_items(self) -> int:
        return self.attachment.limit

    @property
    def url_name(self) -> str:
        return f"callflows:step_{self.key}"


JOBS_PANEL = Panel(
    attachment=JOBS,
    key="jobs",
    field="job",
    get=selectors.job_get,
    attached=lambda step: selectors.step_attached_jobs(step=step),
    library=selectors.job_library,
    services={
        "attach": services.step_attach_job,
        "detach": services.step_detach_job,
        "move": services.step_move_job,
    },
    urls={"attach": "callflows:attach", "detach": "callflows:detach", "move": "callflows:job_move"},
    words={
        "tab": "Jobs",
        "lead": "Sona uses these jobs, in this order, once the call flow is published. "
        "Changes go to the draft.",
        "missing": "Choose a job.",
        "attached": "Attached jobs",
        "none": "No jobs attached yet. Sona only answers general questions until you attach some.",
        "library": "Job library",
        "search": "Search jobs",
        "placeholder": "Name, description, caller intent or instructions",
        "columns": ("Name", "Caller intent"),
    },
    search_id="library-search",
    pick=PICK_MAX,
)
KNOWLEDGE_PANEL = Panel(
    attachment=KNOWLEDGE,
    key="knowledge",
    urls={
        "attach": "callflows:knowledge_attach",
        "detach": "callflows:knowledge_detach",
        "move": "callflows:knowledge_move",
    },
    field="page_id",
    get=selectors.knowledge_page_get,
    services={
        "attach": services.step_attach_knowledge,
        "detach": services.step_detach_knowledge,
        "move": services.step_move_knowledge,
    },
    library=knowledge_selectors.page_list,
    attached=lambda step: selectors.step_attached_knowledge(step=step),
    search_id="knowledge-library-search",
    words={
        "tab": "Knowledge",
        "lead": "Sona may quote these pages once the call flow is published. Attaching changes "
        "the draft; edits to a page's text are live at once.",
        "missing": "Choose a knowledge page.",
        "attached": "Attached knowledge",
        "none": "No knowledge attached yet.",
        "library": "Knowledge library",
        "search": "Search pages",
        "placeholder": "Title or text",
        "columns": ("Title", "Source"),
    },
)


@dataclass(frozen=True)
class Picked:
    """The first `pick` matches of a library, shown like a page (no count, no other pages)."""

    object_list: list
    more: bool  # more items match than are shown
    number: str = ""

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)


def _library_page(request, panel: Panel, library, page_number):
    if panel.pick is None:
        return _page(request, library, page_number)
    found = list(library[: panel.pick + 1])
    return Picked(found[: panel.pick], more=len(found) > panel.pick)


MOVES = (("up", "-1"), ("down", "1"))  # the row's move buttons: which way, the offset posted


def _results(request, panel: Panel, phone, step, *, query, page_number, attached_ids) -> dict:
    """What the library's search results need (all a search-as-you-type swap renders)."""
    library = panel.library(workspace=request.workspace, query=query)
    return {
        "panel": panel,
        "phone": phone,
        "step": step,
        "query": query,
        "page": _library_page(request, panel, library, page_number),
        "attached_ids": attached_ids,
        "can_edit": request.membership.can_edit,
    }


def _context(request, panel: Panel, phone, step, *, query, page_number, **extra):
    attached = panel.attached(step)
    items = [getattr(link, panel.attachment.field) for link in attached]
    context = {
        **_results(
            request, panel, phone, step, query=query, page_number=page_number,
            attached_ids={item.pk for item in items},
        ),
        "attached": attached,
        "items": items,
        "can_attach": services.attach.can_attach(
            panel.attachment, step, attached_count=len(attached)
        ),
        "moves": MOVES,
        **extra,
    }  # fmt: skip
    if panel is JOBS_PANEL:  # jobs callers could confuse (the router's overlap check)
        context["overlaps"] = checks.step_warnings(
            phone.call_flow, step, [item.pk for item in items]
        )
    return context


def _panel_page(panel: Panel):
    @workspace_view()
    def view(request, pk, step_id):
        phone, step = _step(request, pk, step_id, kind=StepKind.SONA)
        query = search_query(request.GET.get("q", ""))
        page_number = request.GET.get("page")
        if request.htmx and request.htmx.target == f"{panel.key}-results":
            # typed in the search: only the matches (the attached list needs no refresh)
            context = _results(
                request, panel, phone, step, query=query, page_number=page_number,
                attached_ids=set(panel.attachment.ids(step)),
            )  # fmt: skip
            return render(request, "callflows/_library_results.html", context)
        context = _context(request, panel, phone, step, query=query, page_number=page_number)
        return render(request, "callflows/step_attachments.html", context)

    return view


step_jobs = _panel_page(JOBS_PANEL)
step_knowledge = _panel_page(KNOWLEDGE_PANEL)


def focus_after(kind: str, noun: str, pk: int | None, *, before=(), offset=None) -> list[str]:
    """The ids of the controls to focus once an attach/detach/move has been swapped in, best
    first (static/js/app.js focuses the first that exists): the same row's control, so keyboard
    focus never falls back to the top of the page. `before`: the attached ids before a detach."""
    if pk is None:
        return []
    if kind == "attach":  # refused: the Attach button is still there
        return [f"detach-{noun}-{pk}", f"attach-{noun}-{pk}"]
    if kind == "move":
        ways = ["up", "down"] if (offset or 0) < 0 else ["down", "up"]
        return [f"move-{way}-{noun}-{pk}" for way in ways] + [f"detach-{noun}-{pk}"]
    before = list(before)
    at = before.index(pk) if pk in before else len(before)
    neighbours = before[at + 1 : at + 2] + before[max(at - 1, 0) : at]
    return [f"detach-{noun}-{n}" for n in neighbours] + [f"attach-{noun}-{pk}"]


def _write(request, panel: Panel, action: str, step, item, **more) -> None:
    item_arg = {panel.attachment.field: item}
    panel.services[action](step=step, **item_arg, user=request.user, **more)


def _attach(request, panel: Panel, step, item) -> str:
    _write(request, panel, "attach", step, item)
    return f"Attached “{item}”."


def _detach(request, panel: Panel, step, item) -> str:
    _write(request, panel, "detach", step, item)
    return f"Detached “{item}”. It stays in the {panel.words['library'].lower()}."


def _move(request, panel: Panel, step, item) -> str:
    offset = _offset(request)
    if offset is None:
        raise ValidationError(f"Choose to move the {panel.noun} up or down.")
    _write(request, panel, "move", step, item, offset=offset)
    return f"Moved “{item}” {'up' if offset < 0 else 'down'}."


ACTIONS = {"attach": _attach, "detach": _detach, "move": _move}


def _panel_action(panel: Panel, kind: str):
    """An attach/detach/move view; answers with the panel (htmx) or a redirect to its page."""

    @require_POST
    @workspace_view(EDIT)
    def view(request, pk, step_id):
        phone, step = _step(request, pk, step_id, kind=StepKind.SONA)
        item = panel.get(workspace=request.workspace, pk=request.POST.get(panel.field))
        before = panel.attachment.ids(step) if request.htmx and kind == "detach" else []
        notice = error = ""
        try:
            if item is None:
                raise ValidationError(panel.words["missing"])
            notice = ACTIONS[kind](request, panel, step, item)
        except ValidationError as exc:
            error = " ".join(error_messages(exc))
        query, page_number = search_query(request.POST.get("q", "")), request.POST.get("page", "")
        if request.htmx:
            offset = _offset(request)
            focus = focus_after(kind, panel.noun, item and item.pk, before=before, offset=offset)
            context = _context(
                request,
                panel,
                phone,
                step,
                query=query,
                page_number=page_number,
                notice=notice,
                error=error,
                focus=focus + [panel.search_id],
            )
            return render(request, "callflows/_attach_panel.html", context)
        if error:
            messages.error(request, error)
        else:
            messages.success(request, notice)
        url = reverse(panel.url_name, args=[phone.pk, step.pk])
        params = {k: v for k, v in (("q", query), ("page", page_number)) if v}
        return redirect(f"{url}?{urlencode(params)}" if params else url)

    return view


job_attach = _panel_action(JOBS_PANEL, "attach")
job_detach = _panel_action(JOBS_PANEL, "detach")
job_move = _panel_action(JOBS_PANEL, "move")
knowledge_attach = _panel_action(KNOWLEDGE_PANEL, "attach")
knowledge_detach = _panel_action(KNOWLEDGE_PANEL, "detach")
knowledge_move = _panel_action(KNOWLEDGE_PANEL, "move")
