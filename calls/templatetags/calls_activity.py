"""The calls panel that the job page and the number page show ("Since your last edit: N calls"
and the chart). jobs and callflows never import calls: their templates `{% load calls_activity %}`
and the calls app answers, with the reads in calls/selectors/activity.py."""

from django import template

from calls import charts
from calls.selectors.activity import job_activity, number_activity

register = template.Library()


def _panel(activity, *, subject: str, filter_name: str, filter_value: int, edit_word: str):
    return {
        "activity": activity,
        "chart": charts.activity_chart(activity),
        "rows": charts.table_rows(activity),
        "subject": subject,
        "filter_name": filter_name,
        "filter_value": filter_value,
        "edit_word": edit_word,
    }


@register.inclusion_tag("calls/_activity.html", takes_context=True)
def job_calls(context, job):
    """Calls a job handled since its last edit, and per day by outcome across its versions."""
    return _panel(
        job_activity(workspace=context["request"].workspace, job=job),
        subject=f"“{job.name}”",
        filter_name="job",
        filter_value=job.pk,
        edit_word="edit",
    )


@register.inclusion_tag("calls/_activity.html", takes_context=True)
def number_calls(context, phone_number):
    """Calls a number took since its last publish, and per day by outcome across versions."""
    return _panel(
        number_activity(workspace=context["request"].workspace, phone_number=phone_number),
        subject=phone_number.number,
        filter_name="number",
        filter_value=phone_number.pk,
        edit_word="publish",
    )


ACTION_LABELS = {"send_sms": "Send SMS", "transfer_call": "Transfer call"}


@register.filter
def action_label(value) -> str:
    """ "send_sms" -> "Send SMS"; an unknown type reads as itself."""
    return ACTION_LABELS.get(value, str(value or "Action"))
