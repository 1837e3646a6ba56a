from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from workspaces.permissions import EDIT, workspace_view

from . import selectors, services
from .forms import JobForm, TemplateFromJobForm

PAGE_SIZE = 25


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@workspace_view()
def job_list(request):
    query = request.GET.get("q", "")
    sort = request.GET.get("sort", selectors.DEFAULT_SORT)
    jobs = selectors.job_list(workspace=request.workspace, query=query, sort=sort)
    return render(
        request,
        "jobs/job_list.html",
        {"page": _page(request, jobs), "query": query, "sort": sort, "sorts": selectors.SORTS},
    )


@workspace_view()
def job_deleted_list(request):
    jobs = selectors.job_list(workspace=request.workspace, deleted=True)
    return render(request, "jobs/job_deleted_list.html", {"page": _page(request, jobs)})


@workspace_view(EDIT)
def job_new(request):
    """Start from scratch or pick a template from the gallery."""
    templates = selectors.template_list(workspace=request.workspace)
    return render(request, "jobs/job_new.html", {"templates": templates})


@workspace_view(EDIT)
def job_create(request):
    template = None
    template_id = request.GET.get("template") or request.POST.get("template")
    if template_id:
        if not str(template_id).isdigit():
            return redirect("jobs:new")
        template = selectors.template_get(workspace=request.workspace, pk=int(template_id))
    if request.method == "POST":
        form = JobForm(request.POST)
        if form.is_valid():
            try:
                job = services.job_create(
                    workspace=request.workspace,
                    user=request.user,
                    data=form.cleaned_data,
                    template=template,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, f"Job “{job.name}” created.")
                return redirect(job)
    else:
        form = JobForm(initial=template.text_fields() if template else None)
    return render(request, "jobs/job_form.html", {"form": form, "template": template, "job": None})


@workspace_view()
def job_detail(request, pk):
    job = selectors.job_get(workspace=request.workspace, pk=pk, deleted=None)
    return render(
        request, "jobs/job_detail.html", {"job": job, "template_form": TemplateFromJobForm()}
    )


@workspace_view(EDIT)
def job_edit(request, pk):
    job = selectors.job_get(workspace=request.workspace, pk=pk)
    if request.method == "POST":
        form = JobForm(request.POST, instance=job)
        if form.is_valid():
            try:
                job = services.job_update(
                    job=job,
                    user=request.user,
                    data=form.cleaned_data,
                    expected_revision=form.cleaned_data.get("revision"),
                )
            except services.JobConflict as conflict:
                return render(
                    request,
                    "jobs/job_conflict.html",
                    {"conflict": conflict, "job": job},
                    status=409,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, f"Job “{job.name}” saved.")
                return redirect(job)
    else:
        form = JobForm(instance=job, initial={"revision": job.revision})
    return render(request, "jobs/job_form.html", {"form": form, "job": job})


@workspace_view(EDIT)
def job_delete(request, pk):
    job = selectors.job_get(workspace=request.workspace, pk=pk)
    if request.method == "POST":
        try:
            services.job_delete(job=job, user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(job)
        messages.success(request, f"Job “{job.name}” moved to Recently deleted.")
        return redirect("jobs:list")
    return render(request, "jobs/job_confirm_delete.html", {"job": job})


@require_POST
@workspace_view(EDIT)
def job_restore(request, pk):
    job = selectors.job_get(workspace=request.workspace, pk=pk, deleted=True)
    try:
        job = services.job_restore_deleted(job=job, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("jobs:deleted")
    messages.success(request, f"Job “{job.name}” restored.")
    return redirect(job)


@require_POST
@workspace_view(EDIT)
def template_from_job(request, pk):
    job = selectors.job_get(workspace=request.workspace, pk=pk)
    form = TemplateFromJobForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["name"])
        template = services.template_create_from_job(
            job=job, user=request.user, name=form.cleaned_data["name"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(job)
    messages.success(request, f"Saved as template “{template.name}”.")
    return redirect("jobs:new")


@require_POST
@workspace_view(EDIT)
def template_delete(request, pk):
    template = selectors.template_get(workspace=request.workspace, pk=pk)
    try:
        services.template_delete(template=template, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Template “{template.name}” deleted.")
    return redirect("jobs:new")
