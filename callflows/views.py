"""Browser pages for phone numbers and their call flows. Every rule lives in services."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from core.errors import error_messages
from core.forms import add_service_errors, parse_id
from jobs import selectors as job_selectors
from jobs.forms import JobForm
from workspaces.permissions import EDIT, workspace_view

from . import checks, diagram, selectors, services
from .forms import STEP_FORMS, AddStepForm, PhoneNumberForm, PublishForm, RenameForm
from .models import MAX_JOBS_PER_STEP, MAX_KNOWLEDGE_PER_STEP, StepKind
from .snapshots import build_snapshot, snapshot_changes

PAGE_SIZE = 25


def _page(request, queryset, number=None):
    return Paginator(queryset, PAGE_SIZE).get_page(number or request.GET.get("page"))


def _error(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(error_messages(exc)))


def _phone(request, pk):
    return selectors.phone_number_get(workspace=request.workspace, pk=pk)


def _step(request, pk, step_id, kind=None):
    phone = _phone(request, pk)
    return phone, selectors.step_get(call_flow=phone.call_flow, step_id=step_id, kind=kind)


def _offset(request) -> int | None:
    return {"-1": -1, "1": 1, "+1": 1}.get(request.POST.get("offset", ""))


# Phone numbers ------------------------------------------------------------------------------


@workspace_view()
def number_list(request):
    """The workspace's numbers; editors add a number here (POST)."""
    form = PhoneNumberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            phone = services.phone_number_create(
                workspace=request.workspace,
                number=form.cleaned_data["number"],
                display_name=form.cleaned_data["display_name"],
                user=request.user,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                f"Added “{phone.display_name}” ({phone.number}). "
                "Its call flow starts with one Sona step; publish it to go live.",
            )
            return redirect(phone)
    page = _page(request, selectors.phone_number_list(workspace=request.workspace))
    return render(request, "callflows/number_list.html", {"page": page, "form": form})


def _editor(request, phone, *, add_form=None, rename_form=None, step_form=None):
    """The editor; `?step=<id>` (or a step form re-shown with errors) opens that step's settings
    in a panel beside the diagram."""
    flow = phone.call_flow
    steps = selectors.flow_steps(call_flow=flow)
    selected = step_form.step if step_form else _selected_step(request, steps)
    context = {
        "phone": phone,
        "flow": flow,
        "steps": steps,
        "selected": selected,
        "diagram": diagram.flow_diagram(steps),
        "status": selectors.draft_status(call_flow=flow),
        "add_form": add_form or AddStepForm(auto_id="add_%s"),
        "rename_form": rename_form
        or RenameForm(auto_id="rename_%s", initial={"display_name": phone.display_name}),
        "can_edit": request.membership.can_edit,
        "max_jobs": MAX_JOBS_PER_STEP,
    }
    if selected:
        context.update(_step_context(request, selected, step_form or _step_form(request, selected)))
    return render(request, "callflows/editor.html", context)


def _selected_step(request, steps):
    """The step named by `?step=`, from the steps already read; an unknown one is a 404."""
    if "step" not in request.GET:
        return None
    step_id = parse_id(request.GET["step"])
    for step in steps:
        if step.pk == step_id:
            return step
    raise Http404("No such step in this call flow.")


def _step_context(request, step, form):
    can_edit = request.membership.can_edit
    if not can_edit:
        form.disable()
    return {
        "step": step,
        "form": form,
        "can_edit": can_edit,
        "attached": selectors.step_attached_jobs(step=step) if step.is_sona else [],
        "max_jobs": MAX_JOBS_PER_STEP,
        "knowledge": selectors.step_attached_knowledge(step=step) if step.is_sona else [],
        "max_pages": MAX_KNOWLEDGE_PER_STEP,
    }


@workspace_view()
def editor(request, pk):
    return _editor(request, _phone(request, pk))


@require_POST
@workspace_view(EDIT)
def number_rename(request, pk):
    phone = _phone(request, pk)
    form = RenameForm(request.POST, auto_id="rename_%s")
    if form.is_valid():
        try:
            services.phone_number_rename(
                phone_number=phone,
                display_name=form.cleaned_data["display_name"],
                user=request.user,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Renamed to “{phone.display_name}”.")
            return redirect(phone)
    return _editor(request, phone, rename_form=form)


@require_POST
@workspace_view(EDIT)
def number_sms(request, pk):
    """Mark the number as registered for SMS, or not (a checkbox form on the number page)."""
    phone = _phone(request, pk)
    registered = request.POST.get("sms_registered") == "on"
    try:
        services.phone_number_set_sms_registered(
            phone_number=phone, registered=registered, user=request.user
        )
    except ValidationError as exc:
        _error(request, exc)
    else:
        state = "registered" if registered else "not registered"
        messages.success(request, f"{phone.number} is marked as {state} for SMS.")
    return redirect(phone)


@workspace_view(EDIT)
def number_delete(request, pk):
    phone = _phone(request, pk)
    if request.method == "POST":
        try:
            services.phone_number_delete(phone_number=phone, user=request.user)
        except ValidationError as exc:  # a job's transfer names the number
            _error(request, exc)
            return redirect(phone)
        messages.success(
            request,
            f"“{phone.display_name}” ({phone.number}) moved to Recently deleted: Sona no longer "
            "answers its calls. Restore it there to bring back its call flow.",
        )
        return redirect("callflows:list")
    context = {
        "phone": phone,
        "kept": selectors.phone_number_kept(phone=phone),
        "keep_days": settings.DELETED_KEEP_DAYS,
    }
    return render(request, "callflows/number_confirm_delete.html", context)


@workspace_view()
def number_deleted_list(request):
    numbers = selectors.phone_number_deleted_list(workspace=request.workspace)
    context = {"page": _page(request, numbers), "keep_days": settings.DELETED_KEEP_DAYS}
    return render(request, "callflows/number_deleted_list.html", context)


@require_POST
@workspace_view(EDIT)
def number_restore(request, pk):
    phone = selectors.phone_number_get_deleted(workspace=request.workspace, pk=pk)
    try:
        phone = services.phone_number_restore(phone_number=phone, user=request.user)
    except ValidationError as exc:  # the number is in use again
        _error(request, exc)
        return redirect("callflows:deleted")
    live = phone.call_flow.live_version
    answers = (
        f"Sona answers its calls again with version {live.number}."
        if live
        else "Its call flow is not published yet."
    )
    messages.success(request, f"Restored “{phone.display_name}” ({phone.number}). {answers}")
    return redirect(phone)


# Steps --------------------------------------------------------------------------------------


@require_POST
@workspace_view(EDIT)
def step_add(request, pk):
    phone = _phone(request, pk)
    form = AddStepForm(request.POST, auto_id="add_%s")
    if form.is_valid():
        try:
            step = services.step_add(
                call_flow=phone.call_flow,
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
                settings=form.settings(),
                user=request.user,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Step “{step.name}” added at the end of the draft.")
            return redirect(phone)
    return _editor(request, phone, add_form=form)


def _step_form(request, step, *args, **kwargs):
    form_class = STEP_FORMS[step.kind]
    if step.kind == StepKind.RING_USERS:
        kwargs["members"] = selectors.workspace_users(workspace=request.workspace)
    elif step.kind == StepKind.BUSINESS_HOURS:
        kwargs["other_steps"] = selectors.other_steps(step=step)
        kwargs["country"] = request.workspace.country
        kwargs["workspace_zone"] = request.workspace.zone
    if not args:
        kwargs["initial"] = form_class.initial_for(step)
    return form_class(*args, step=step, **kwargs)


def _panel_url(phone, step) -> str:
    """The editor with this step's settings open beside the diagram."""
    return f"{phone.get_absolute_url()}?step={step.pk}#step-panel"


@workspace_view()
def step_edit(request, pk, step_id):
    """A step's settings: its own page, or (from=editor) the panel beside the diagram. Saving
    goes back to the editor with the step still open, so the diagram shows the change."""
    phone, step = _step(request, pk, step_id)
    in_panel = request.POST.get("from") == "editor"
    if request.method == "POST":
        form = _step_form(request, step, request.POST)
        if form.is_valid():
            try:
                step = services.step_update(
                    step=step,
                    name=form.cleaned_data["name"],
                    settings=form.settings(),
                    user=request.user,
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"Step “{step.name}” saved.")
                return redirect(_panel_url(phone, step))
        if in_panel:
            return _editor(request, phone, step_form=form)
    else:
        form = _step_form(request, step)
    context = {"phone": phone, **_step_context(request, step, form)}
    return render(request, "callflows/step_edit.html", context)


@require_POST
@workspace_view(EDIT)
def step_move(request, pk, step_id):
    phone, step = _step(request, pk, step_id)
    offset = _offset(request)
    if offset is None:
        messages.error(request, "Choose to move the step up or down.")
    else:
        services.step_move(step=step, offset=offset, user=request.user)
        messages.success(request, f"Step “{step.name}” moved {'up' if offset < 0 else 'down'}.")
    return redirect(phone)


@require_POST
@workspace_view(EDIT)
def step_remove(request, pk, step_id):
    phone, step = _step(request, pk, step_id)
    services.step_remove(step=step, user=request.user)
    messages.success(
        request,
        f"Step “{step.name}” removed from the draft. The live version keeps it until you publish.",
    )
    if request.htmx:  # the button asked for confirmation first (hx-confirm): reload the editor
        return HttpResponseClientRedirect(phone.get_absolute_url())
    return redirect(phone)


# Jobs of a Sona step: the panels are callflows/attach_views.py ---------------------------


@workspace_view(EDIT)
def step_new_job(request, pk, step_id):
    """Start a job from scratch or a template, right from the step; saving attaches it."""
    phone, step = _step(request, pk, step_id, kind=StepKind.SONA)
    jobs_url = reverse("callflows:step_jobs", args=[phone.pk, step.pk])
    can_attach = services.step_can_attach(step)
    if not can_attach:
        messages.error(request, can_attach.reason)
        return redirect(jobs_url)
    template_id = request.GET.get("template") or request.POST.get("template")
    template = None
    if template_id:
        if parse_id(template_id) is None:
            return redirect("callflows:step_new_job", pk=phone.pk, step_id=step.pk)
        template = job_selectors.template_get(workspace=request.workspace, pk=parse_id(template_id))
    elif request.method == "GET" and "scratch" not in request.GET:
        templates = job_selectors.template_list(workspace=request.workspace)
        return render(
            request,
            "callflows/step_new_job.html",
            {"phone": phone, "step": step, "templates": templates},
        )
    if request.method == "POST":
        form = JobForm(request.POST)
        if form.is_valid():
            try:
                created = services.step_create_job(
                    step=step, user=request.user, data=form.cleaned_data, template=template
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                job, refused = created.job, created.attach_error
                if refused:
                    messages.error(
                        request,
                        f"Job “{job.name}” was saved in the job library but could not be attached: "
                        + " ".join(refused.messages),
                    )
                else:
                    messages.success(
                        request, f"Job “{job.name}” created and attached to “{step.name}”."
                    )
                return redirect(jobs_url)
    else:
        form = JobForm(initial=template.text_fields() if template else None)
    context = {"phone": phone, "step": step, "form": form, "template": template}
    return render(request, "callflows/step_job_form.html", context)


# Publish and versions -----------------------------------------------------------------------


@workspace_view()
def publish(request, pk):
    """GET: what publishing would change, with the checks and the saved test cases. POST:
    publish (a double submit publishes once); failing test cases need "Publish anyway" and a
    reason."""
    phone = _phone(request, pk)
    status = selectors.draft_status(call_flow=phone.call_flow)
    failing = checks.test_failures(phone.call_flow, status.draft)
    form = PublishForm(request.POST or None, tests_failing=bool(failing))
    if request.method == "POST" and form.is_valid():
        try:
            version = services.callflow_publish(
                call_flow=phone.call_flow,
                user=request.user,
                note=form.cleaned_data["note"],
                override_reason=form.reason_to_publish_anyway(),
            )
        except ValidationError as exc:
            _error(request, exc)
            return redirect("callflows:publish", pk=phone.pk)
        messages.success(request, f"Published version {version.number}.")
        return redirect("callflows:versions", pk=phone.pk)
    problems = checks.draft_problems(phone.call_flow, status.draft)
    problems += checks.more_warnings(phone.call_flow, status.draft)
    context = {
        "phone": phone,
        "status": status,
        "changes": selectors.describe_changes(workspace=request.workspace, changes=status.changes),
        "errors": checks.errors_of(problems),
        "warnings": [p for p in problems if not p.is_error],
        "failing": failing,
        "form": form,
        "can_edit": request.membership.can_edit,
        "nothing_to_publish": services.NOTHING_TO_PUBLISH,
    }
    return render(request, "callflows/publish.html", context)


@workspace_view()
def versions(request, pk):
    phone = _phone(request, pk)
    page = _page(request, selectors.version_list(call_flow=phone.call_flow))
    context = {"phone": phone, "page": page, "can_edit": request.membership.can_edit}
    return render(request, "callflows/versions.html", context)


@workspace_view()
def version_detail(request, pk, version_id):
    """One published version as it was published: its steps, jobs and knowledge by name."""
    phone = _phone(request, pk)
    version = selectors.version_get(call_flow=phone.call_flow, version_id=version_id)
    steps = selectors.version_steps(workspace=request.workspace, snapshot=version.snapshot)
    previous = selectors.version_previous(version=version)
    context = {"phone": phone, "version": version, "steps": steps, "previous": previous}
    return render(request, "callflows/version_detail.html", context)


@workspace_view()
def version_compare(request, pk, version_id):
    """A version against the one before it (default), another version (?with=<id>) or the
    draft (?with=draft): the changes from the older to the newer, named."""
    phone = _phone(request, pk)
    flow = phone.call_flow
    version = selectors.version_get(call_flow=flow, version_id=version_id)
    against = request.GET.get("with", "")
    if against == "draft":
        old, new = version.snapshot, build_snapshot(flow)
        old_label, new_label, other = f"Version {version.number}", "the draft", None
    else:
        other_id = parse_id(against)
        other = (
            selectors.version_get(call_flow=flow, version_id=other_id)
            if other_id is not None
            else selectors.version_previous(version=version)
        )
        if other is not None and other.number > version.number:
            version, other = other, version
        old = other.snapshot if other is not None else None
        new = version.snapshot
        old_label = f"Version {other.number}" if other is not None else "nothing (first version)"
        new_label = f"Version {version.number}"
    changes = selectors.describe_changes(
        workspace=request.workspace, changes=snapshot_changes(old, new)
    )
    context = {
        "phone": phone,
        "version": version,
        "other": other,
        "against_draft": against == "draft",
        "old_label": old_label,
        "new_label": new_label,
        "changes": changes,
    }
    return render(request, "callflows/version_compare.html", context)


@workspace_view(EDIT)
def rollback(request, pk, version_id):
    """GET, or a POST without the confirmation: what publishing the version again would change.
    Only the confirming POST publishes, and only while the live version is still the one the
    page described."""
    phone = _phone(request, pk)
    version = selectors.version_get(call_flow=phone.call_flow, version_id=version_id)
    live_number = parse_id(request.POST.get("live"))
    if request.method == "POST" and request.POST.get("confirm") == "yes" and live_number:
        try:
            created = services.callflow_rollback(
                call_flow=phone.call_flow,
                version=version,
                user=request.user,
                expected_live_number=live_number,
            )
        except ValidationError as exc:
            _error(request, exc)  # shown above a fresh description, or the refusal
            return redirect("callflows:rollback", pk=phone.pk, version_id=version.pk)
        status = selectors.draft_status(call_flow=phone.call_flow, reload=True)
        draft = (
            "Your draft was kept; it differs from the live version."
            if status.differs
            else "Your draft now matches the live version."
        )
        messages.success(
            request,
            f"Version {version.number} is live again, published as version {created.number}. "
            f"{draft}",
        )
        return redirect("callflows:versions", pk=phone.pk)
    preview = selectors.rollback_preview(call_flow=phone.call_flow, version=version)
    context = {
        "title": f"Publish version {version.number} of {phone.display_name} again?",
        "lines": [preview.summary, preview.draft],
        "hidden": {"live": preview.live_number},
        "refusal": preview.refusal,
        "cancel_url": reverse("callflows:versions", args=[phone.pk]),
    }
    return render(request, "confirm.html", context)
