"""Forms of the calls pages: the Calls filters and a scenario. The Calls filters only parse: ids are looked up within the
request's workspace, so another workspace's number or job is "not one of the choices"."""

from datetime import date

from django import forms
from django.urls import reverse_lazy

from callflows.models import PhoneNumber
from core.forms import parse_id
from jobs import selectors as job_selectors
from jobs.models import Job

from .models import (
    SAID_MAX,
    SCENARIO_ACTIONS,
    SCENARIO_NAME_MAX,
    SCENARIO_RUNS_MAX,
    SCENARIO_TURNS_MAX,
    Outcome,
    Source,
)
from .selectors.log import BAD_SOURCE, SEARCH_MAX, SOURCE_CHOICES, CallFilters


class JobChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} (deleted)" if obj.deleted_at else obj.name


class DateInput(forms.DateInput):
    input_type = "date"


# Calls are from 2000 on (calls.services.EARLIEST_CALL); far dates would overflow a time zone.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
DAY_RANGE = f"Pick a day between {FIRST_DAY:%Y-%m-%d} and {LAST_DAY:%Y-%m-%d}."


JOB_SEARCH_ATTRS = {
    # search-as-you-type: the Job select is replaced by the (at most 20) jobs matching; without
    # JavaScript the text is submitted with the filters and the list offers the same matches
    "hx-get": reverse_lazy("calls:job_options"),
    "hx-trigger": "input changed delay:300ms, search",
    "hx-target": "#calls-job",
    "hx-swap": "outerHTML",
    "hx-include": "#calls-job",
    "autocomplete": "off",
}


def job_choices(*, workspace, query: str = "", selected=None) -> list[tuple]:
    """The Job select's options: "Any", the chosen job (even deleted or not matching) and the
    first PICK_MAX live jobs whose name contains the query. One query, two when the chosen job
    is neither among them nor already loaded."""
    jobs = job_selectors.job_pick(workspace=workspace, query=query)
    if selected is not None and not isinstance(selected, Job):
        pk = parse_id(selected)
        selected = next((job for job in jobs if job.pk == pk), None) or (
            Job.objects.filter(workspace=workspace, pk=pk).only("pk", "name", "deleted_at").first()
            if pk
            else None
        )
    if selected is not None and all(job.pk != selected.pk for job in jobs):
        jobs.insert(0, selected)
    label = JobChoiceField.label_from_instance
    return [("", "Any"), *[(job.pk, label(None, job)) for job in jobs]]


class CallFilterForm(forms.Form):
    number = forms.ModelChoiceField(
        label="Number", queryset=PhoneNumber.objects.none(), required=False, empty_label="Any"
    )
    job_q = forms.CharField(
        label="Find a job",
        required=False,
        max_length=SEARCH_MAX,
        widget=forms.TextInput(attrs={"type": "search", **JOB_SEARCH_ATTRS}),
    )
    # Validated against the workspace's jobs (one query); the select offers at most PICK_MAX.
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
    date_from = forms.DateField(
        label="From",
        required=False,
        widget=DateInput(attrs={"min": f"{FIRST_DAY:%Y-%m-%d}", "max": f"{LAST_DAY:%Y-%m-%d}"}),
    )
    date_to = forms.DateField(
        label="To",
        required=False,
        widget=DateInput(attrs={"min": f"{FIRST_DAY:%Y-%m-%d}", "max": f"{LAST_DAY:%Y-%m-%d}"}),
    )
    q = forms.CharField(label="Summary contains", required=False, max_length=SEARCH_MAX)

    def __init__(self, data=None, *, workspace, **kwargs):
        super().__init__(data, auto_id="calls-%s", **kwargs)
        self.fields["number"].queryset = PhoneNumber.objects.filter(workspace=workspace).order_by(
            "number"
        )
        self.fields["job"].queryset = Job.objects.filter(workspace=workspace).only(
            "pk", "name", "deleted_at"
        )
        self.fields["job"].widget.choices = self._job_options(workspace)

    def _job_options(self, workspace):
        """The Job select's options, read once when it is rendered (after validation, so the
        chosen job already loaded is reused)."""
        found = []

        def options():
            if not found:
                data = self.data if self.is_bound else {}
                cleaned = getattr(self, "cleaned_data", {})
                found.extend(
                    job_choices(
                        workspace=workspace,
                        query=str(data.get("job_q", "")),
                        selected=cleaned.get("job") or data.get("job"),
                    )
                )
            return found

        return options

    def _clean_day(self, name):
        day = self.cleaned_data.get(name)
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(DAY_RANGE)
        return day

    def clean_date_from(self):
        return self._clean_day("date_from")

    def clean_date_to(self):
        return self._clean_day("date_to")

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


# Scenarios ----------------------------------------------------------------------------------

NO_JOB = "__none__"


class ScenarioForm(forms.Form):
    """A scenario's fields as owners type them; the service checks every rule (the errors it
    names, "expect.job" and the like, are shown beside these fields)."""

    name = forms.CharField(label="Name", max_length=SCENARIO_NAME_MAX)
    turns = forms.CharField(
        label="What the caller says",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=f"One turn a line, at most {SCENARIO_TURNS_MAX} turns of {SAID_MAX} characters.",
    )
    job = forms.ChoiceField(label="Job chosen", required=False)
    at_turn = forms.IntegerField(
        label="At turn",
        required=False,
        min_value=1,
        max_value=SCENARIO_TURNS_MAX,
        help_text="Empty: the job that handled the call by the end.",
    )
    actions = forms.MultipleChoiceField(
        label="Actions performed at least once",
        choices=SCENARIO_ACTIONS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    transfer_to = forms.CharField(
        label="Transfer to",
        required=False,
        max_length=254,
        help_text="Optional: a member's email or a phone number the call must go to.",
    )
    never = forms.MultipleChoiceField(
        label="Actions never performed",
        choices=SCENARIO_ACTIONS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    clarify = forms.ChoiceField(
        label="Question between two jobs",
        required=False,
        choices=[
            ("", "Not checked"),
            ("yes", "Sona asks which job the caller means"),
            ("no", "Sona never asks"),
        ],
    )
    runs = forms.IntegerField(
        label="Runs",
        initial=1,
        min_value=1,
        max_value=SCENARIO_RUNS_MAX,
        help_text="With an AI model deciding: run it this many times.",
    )
    pass_rate = forms.IntegerField(
        label="Must pass (%)",
        initial=100,
        min_value=0,
        max_value=100,
        help_text="With an AI model deciding: the share of runs that must pass.",
    )

    def __init__(self, data=None, *, job_names: list[str], **kwargs):
        super().__init__(data, auto_id="scenario-%s", **kwargs)
        self.fields["job"].choices = [
            ("", "Not checked"),
            (NO_JOB, "No job"),
            *[(name, name) for name in job_names],
        ]

    @staticmethod
    def initial_for(scenario) -> dict:
        expect = scenario.expect or {}
        job = expect.get("job", "") if "job" in expect else ""
        clarify = expect.get("clarify")
        return {
            "name": scenario.name,
            "turns": "\n".join(scenario.turns),
            "job": NO_JOB if "job" in expect and job is None else job,
            "at_turn": expect.get("at_turn"),
            "actions": expect.get("actions", []),
            "transfer_to": expect.get("transfer_to", ""),
            "never": expect.get("never", []),
            "clarify": "" if clarify is None else ("yes" if clarify else "no"),
            "runs": scenario.runs,
            "pass_rate": scenario.pass_rate,
        }

    def service_kwargs(self) -> dict:
        """The service's arguments (call after is_valid())."""
        data = self.cleaned_data
        expect: dict = {}
        if data["job"]:
            expect["job"] = None if data["job"] == NO_JOB else data["job"]
        if data.get("at_turn"):
            expect["at_turn"] = data["at_turn"]
        if data["actions"]:
            expect["actions"] = list(data["actions"])
        if data["transfer_to"].strip():
            expect["transfer_to"] = data["transfer_to"]
        if data["never"]:
            expect["never"] = list(data["never"])
        if data["clarify"]:
            expect["clarify"] = data["clarify"] == "yes"
        return {
            "name": data["name"],
            "turns": [line for line in data["turns"].splitlines() if line.strip()],
            "expect": expect,
            "runs": data["runs"],
            "pass_rate": data["pass_rate"],
        }

    def field_for(self, key: str, message: str) -> str | None:
        field = key.removeprefix("expect.")
        return field if field in self.fields else None
