"""Webhook forms: they parse what is typed; the rules (https, public address, known events,
lengths) are the services'."""

from django import forms

from .models import DESCRIPTION_MAX, EVENT_LABELS, EVENTS, URL_MAX

EVENT_CHOICES = [(e, f"{e}: {EVENT_LABELS[e]}") for e in EVENTS]


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=URL_MAX,
        help_text="An https:// URL of yours that accepts POST requests.",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/playbook"}),
    )
    events = forms.MultipleChoiceField(
        label="Events", choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=DESCRIPTION_MAX,
        help_text="What receives these events, for your teammates.",
    )


class EndpointEditForm(forms.Form):
    events = forms.MultipleChoiceField(
        label="Events", choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    description = forms.CharField(label="Description", required=False, max_length=DESCRIPTION_MAX)
