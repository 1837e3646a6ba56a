from django.db.models import F, Q, QuerySet
from django.shortcuts import get_object_or_404

from workspaces.models import Workspace

from .models import Job, JobTemplate

SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "updated": ("updated_at", "pk"),
    "-updated": ("-updated_at", "-pk"),
}
DEFAULT_SORT = "name"


def job_list(
    *, workspace: Workspace, query: str = "", sort: str = DEFAULT_SORT, deleted=False
) -> QuerySet[Job]:
    """Jobs for the library page: search all four texts; the long instructions are not loaded."""
    jobs = Job.objects.filter(workspace=workspace, deleted_at__isnull=not deleted)
    query = query.strip()
    if query:
        jobs = jobs.filter(
            Q(name__icontains=query)
            | Q(description__icontains=query)
            | Q(trigger__icontains=query)
            | Q(instructions__icontains=query)
        )
    order = ("-deleted_at", "-pk") if deleted else SORTS.get(sort, SORTS[DEFAULT_SORT])
    return jobs.select_related("updated_by").defer("instructions").order_by(*order)


def job_get(*, workspace: Workspace, pk: int, deleted: bool | None = False) -> Job:
    """One job of the workspace, or 404. deleted=None finds both live and deleted jobs."""
    jobs = Job.objects.filter(workspace=workspace)
    if deleted is not None:
        jobs = jobs.filter(deleted_at__isnull=not deleted)
    return get_object_or_404(jobs, pk=pk)


def template_list(*, workspace: Workspace) -> QuerySet[JobTemplate]:
    """Built-in templates first, then the workspace's own."""
    return JobTemplate.objects.filter(Q(workspace__isnull=True) | Q(workspace=workspace)).order_by(
        F("workspace").asc(nulls_first=True), "name"
    )


def template_get(*, workspace: Workspace, pk: int) -> JobTemplate:
    return get_object_or_404(template_list(workspace=workspace), pk=pk)
