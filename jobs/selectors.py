from django.db.models import F, Q, QuerySet
from django.shortcuts import get_object_or_404

from workspaces.documents.selectors import SEARCH_MAX, document_get, search_query  # noqa: F401 (the views use them from here)
from workspaces.models import Membership, Workspace

from . import actions
from .models import Job, JobTemplate
from .signals import workspace_number_names, workspace_numbers

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
    query = search_query(query)
    if query:
        jobs = jobs.filter(
            Q(name__icontains=query)
            | Q(description__icontains=query)
            | Q(trigger__icontains=query)
            | Q(instructions__icontains=query)
        )
    order = ("-deleted_at", "-pk") if deleted else SORTS.get(sort, SORTS[DEFAULT_SORT])
    return jobs.select_related("updated_by").defer("instructions").order_by(*order)


PICK_MAX = 20  # a job picker (the Calls list's Job filter, a step's library) shows at most this


def job_pick(*, workspace: Workspace, query: str = "", limit: int = PICK_MAX) -> list[Job]:
    """At most `limit` live jobs whose name contains the query, by name: what a picker offers
    (one query, whatever the number of jobs; only the id and the name are loaded)."""
    jobs = Job.objects.filter(workspace=workspace, deleted_at__isnull=True)
    if query := search_query(query):
        jobs = jobs.filter(name__icontains=query)
    return list(jobs.only("pk", "name", "deleted_at").order_by("name", "pk")[:limit])


def job_get(*, workspace: Workspace, pk: int, deleted: bool | None = False) -> Job:
    """One job of the workspace, or 404. deleted=None finds both live and deleted jobs."""
    return document_get(Job, workspace=workspace, pk=pk, deleted=deleted)


def template_list(*, workspace: Workspace) -> QuerySet[JobTemplate]:
    """Built-in templates first, then the workspace's own."""
    return JobTemplate.objects.filter(Q(workspace__isnull=True) | Q(workspace=workspace)).order_by(
        F("workspace").asc(nulls_first=True), "name"
    )


def template_get(*, workspace: Workspace, pk: int) -> JobTemplate:
    return get_object_or_404(template_list(workspace=workspace), pk=pk)


# Actions -----------------------------------------------------------------------------------


def action_context(*, workspace: Workspace) -> actions.Context:
    """What the workspace's markers may name: two queries (members, numbers), whatever the
    number of jobs checked with it."""
    emails = Membership.objects.filter(workspace=workspace).values_list("user__email", flat=True)
    numbers = set()
    for _, answer in workspace_numbers.send(sender=Job, workspace=workspace):
        numbers.update(answer)
    return actions.Context(
        emails=frozenset(email.lower() for email in emails),
        numbers=frozenset(numbers),
        region=workspace.country,
    )


def jobs_naming(*, workspace: Workspace, member_email: str = "", number: str = "") -> list[Job]:
    """Live (not deleted) jobs of the workspace whose transfer names the member or number."""
    jobs = Job.objects.filter(
        workspace=workspace, deleted_at__isnull=True, instructions__icontains="transfer"
    ).only("pk", "name", "instructions")
    if member_email:
        return [j for j in jobs if actions.names_member(j.instructions, member_email)]
    region = workspace.country
    return [j for j in jobs if actions.names_number(j.instructions, number, region=region)]


def action_targets(*, workspace: Workspace) -> dict:
    """What the editor's "Transfer to" offers, as (marker target, label) pairs sorted by label:
    members by name (their email when they have none) and numbers by display name. Two queries."""
    members = [
        (email.lower(), name or email)
        for email, name in Membership.objects.filter(workspace=workspace).values_list(
            "user__email", "user__full_name"
        )
    ]
    numbers = []
    for _, answer in workspace_number_names.send(sender=Job, workspace=workspace):
        numbers.extend((number, f"{name} ({number})") for number, name in answer)
    return {
        "members": sorted(members, key=lambda m: (m[1].casefold(), m[0])),
        "numbers": sorted(numbers, key=lambda n: (n[1].casefold(), n[0])),
    }
