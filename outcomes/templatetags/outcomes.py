"""The outcome figures and the before/after comparison on the job page and the number page.
jobs and callflows sit below outcomes and never import it: their templates `{% load outcomes %}`
and this library answers, with the reads in outcomes/selectors.py."""

from django import template

from outcomes import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def job_outcomes(context, job):
    """`{% job_outcomes job as outcomes %}`: the comparison and the per-version figures."""
    return selectors.job_outcomes(workspace=context["request"].workspace, job=job)


@register.simple_tag(takes_context=True)
def number_outcomes(context, phone_number):
    """`{% number_outcomes phone as outcomes %}`: comparison, per version and per Sona step."""
    return selectors.number_outcomes(
        workspace=context["request"].workspace, phone_number=phone_number
    )


@register.filter
def share_words(rate) -> str:
    """ "55% (48–62%)", or "too few calls yet" under 30 calls."""
    return selectors.share_words(rate)


@register.filter
def percent(share) -> str:
    """ "55%" (a share from 0 to 1), "—" for none."""
    return selectors.percent(share)
