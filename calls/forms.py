"""Forms of the calls pages. The Calls filters only parse: ids are looked up within the
request's workspace, so another workspace's number or job is "not one of the choices"."""

from django import forms
from django.db.models import F

from callflows.models import PhoneNumber
from jobs.models import Job

from .models import Outcome, Source
from .selectors import BAD_SOURCE, SEARCH_MAX, SOURCE_CHOICES, CallFilters


class JobChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} (deleted)" if obj.deleted_at else obj.name


class DateInput(forms.DateInput):
    input_type = "date"


class CallFilterForm(forms.Form):
    number = forms.ModelChoiceField(
        label="Number", queryset=PhoneNumber.objects.none(), required=False, empty_label="Any"
    )
    job = JobChoiceField(
        label="Job", queryset=Job.objects.none(), required=False, empty_label="Any"
    )
    outcome = forms.ChoiceField(
        label="Outcome", choices=[("", "Any"), *Outcome.choices], required=False
    )
    # Real calls unless asked: mock calls are kept apart (an empty value is the default too).
    source = forms.ChoiceField(
        label="Source",
        choices=SOURCE_CHOICES,
        initial=Source.LIVE,
        required=False,
        error_messages={"invalid_choice": BAD_SOURCE},
    )
    date_from = forms.DateField(label="From", required=False, widget=DateInput)
    date_to = forms.DateField(label="To", required=False, widget=DateInput)
    q = forms.CharField(label="Summary contains", required=False, max_length=SEARCH_MAX)

    def __init__(self, data=None, *, workspace, **kwargs):
        super().__init__(data, auto_id="calls-%s", **kwargs)
        self.fields["number"].queryset = PhoneNumber.objects.filter(workspace=workspace).order_by(
            "number"
        )
        self.fields["job"].queryset = (
            Job.objects.filter(workspace=workspace)
            .only("pk", "name", "deleted_at")
            .order_by(F("deleted_at").asc(nulls_first=True), "name")  # live jobs first
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def filters(self) -> CallFilters:
        """The valid filters (call after is_valid())."""
        data = self.cleaned_data
        return CallFilters(
            phone_number_id=data["number"].pk if data.get("number") else None,
            job_id=data["job"].pk if data.get("job") else None,
            outcome=data.get("outcome", ""),
            source=data.get("source") or Source.LIVE,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            search=data.get("q", ""),
        )

    @property
    def active(self) -> bool:
        """Narrowed by a filter other than the defaults (real calls are the default)."""
        return self.is_bound and any(
            self.data.get(name)
            for name in self.fields
            if not (name == "source" and self.data.get(name) == Source.LIVE)
        )
