"""Where a job or knowledge page is used. jobs and knowledge never import callflows: their
templates `{% load usage %}` and the callflows app answers, with the reads in
callflows/selectors.py (two queries, whatever the number of uses)."""

from django import template

from jobs.models import Job

from .. import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def usage_of(context, thing):
    """The `Usage` of a job or a knowledge page: `{% usage_of job as usage %}`."""
    workspace = context["request"].workspace
    if isinstance(thing, Job):
        return selectors.job_usage(workspace=workspace, job=thing)
    return selectors.page_usage(workspace=workspace, page=thing)


@register.inclusion_tag("callflows/_where_used.html", takes_context=True)
def where_used(context, thing, usage=None):
    """The "Where it is used" section of a job's or page's detail page."""
    if usage is None:
        usage = usage_of(context, thing)
    is_job = isinstance(thing, Job)
    return {
        "usage": usage,
        "panel": "callflows:step_jobs" if is_job else "callflows:step_knowledge",
        "noun": "job" if is_job else "page",
        "panel_name": "jobs" if is_job else "knowledge",
    }
