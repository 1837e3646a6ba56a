"""The live API URL of each phone number, for the API tokens page (workspaces never import
callflows: its template `{% load live_api %}` and this app answers). Developer words live
there, not on the number pages owners work in."""

from django import template
from django.core.paginator import Paginator
from django.urls import reverse

from .. import selectors

register = template.Library()

PER_PAGE = 50


@register.inclusion_tag("callflows/_live_api_urls.html", takes_context=True)
def live_api_urls(context):
    request = context["request"]
    numbers = selectors.phone_number_list(workspace=request.workspace)
    page = Paginator(numbers, PER_PAGE).get_page(request.GET.get("numbers_page"))
    rows = [
        (phone, request.build_absolute_uri(reverse("api:live", args=[phone.number])))
        for phone in page
    ]
    return {"page": page, "rows": rows}
