"""Forms for the call flow pages. They parse what the browser sends; the services validate it.

Fields are deliberately lenient (plain text, not required): every rule (E.164, lengths, time
zones, ranges, step references) lives once in callflows.services / callflows.steps, and the
service's field-keyed ValidationError is put back next to the matching field here.
"""

from django import forms
from django.core.exceptions import ValidationError

from core.forms import add_service_errors, time_zone_field
from core.timezones import ordered_zones

from .models import StepKind
from .steps import DAY_NAMES, DAYS, display_settings


class ServiceErrorsMixin:
    """Show a service's ValidationError next to the fields it names."""

    # service error key -> form field name, where they differ
    service_fields: dict[str, str] = {}

    def field_for(self, key: str, message: str) -> str | None:
        field = self.service_fields.get(key, key)
        return field if field in self.fields else None

    def add_service_errors(self, exc: ValidationError) -> None:
        add_service_errors(self, exc)


class LenientMultipleChoiceField(forms.MultipleChoiceField):
    """Checkboxes whose values the service checks (it gives the friendlier message)."""

    def validate(self, value):
        pass


# Phone numbers ------------------------------------------------------------------------------


class PhoneNumberForm(ServiceErrorsMixin, forms.Form):
    number = forms.CharField(
        label="Phone number",
        required=False,
        help_text="With its country code (+15551234567), or as a national number.",
        widget=forms.TextInput(attrs={"required": True, "inputmode": "tel", "autocomplete": "off"}),
    )
    display_name = forms.CharField(
        label="Name",
        required=False,
        help_text="What your team calls it, e.g. “Main line”.",
        widget=forms.TextInput(attrs={"required": True, "maxlength": "100"}),
    )


class RenameForm(ServiceErrorsMixin, forms.Form):
    display_name = forms.CharField(
        label="Name",
        required=False,
        widget=forms.TextInput(attrs={"required": True, "maxlength": "100"}),
    )


# Steps --------------------------------------------------------------------------------------


class AddStepForm(ServiceErrorsMixin, forms.Form):
    kind = forms.CharField(
        label="Step kind", required=False, widget=forms.Select(choices=StepKind.choices)
    )
    name = forms.CharField(
        label="Step name", required=False, widget=forms.TextInput(attrs={"maxlength": "100"})
    )
    forward_to = forms.CharField(
        label="Forward to",
        required=False,
        help_text="For forward steps: the number to forward calls to, e.g. +15551234567.",
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )

    service_fields = {"number": "forward_to", "settings": "kind"}
    forward_kinds = (StepKind.FORWARD,)  # the kinds that show "Forward to"

    def clean(self):
        data = super().clean()
        if data.get("forward_to", "").strip() and data.get("kind") != StepKind.FORWARD:
            self.add_error(
                "forward_to", "Only forward steps use this number. Leave it empty for other kinds."
            )
        return data

    def settings(self) -> dict | None:
        """Settings for the new step: forward steps need their number; others use defaults."""
        if self.cleaned_data["kind"] == StepKind.FORWARD:
            return {"number": self.cleaned_data["forward_to"]}
        return None


class StepForm(ServiceErrorsMixin, forms.Form):
    """The settings of one step. Subclasses: one per step kind."""

    name = forms.CharField(
        label="Step name", required=False, widget=forms.TextInput(attrs={"maxlength": "100"})
    )

    def __init__(self, *args, step, **kwargs):
        self.step = step
        super().__init__(*args, **kwargs)

    @classmethod
    def initial_for(cls, step) -> dict:
        return {"name": step.name, **cls.initial_settings(cls.shown(step))}

    @staticmethod
    def shown(step) -> dict:
        """The step's stored settings, read tolerantly (a script may have written any shape)."""
        return display_settings(step.kind, step.settings)

    @classmethod
    def initial_settings(cls, settings: dict) -> dict:
        return {key: settings.get(key) for key in cls.base_fields if key != "name"}

    def settings(self) -> dict:
        """The settings to hand to services.step_update. Keys this form does not edit stay."""
        edited = {key: value for key, value in self.cleaned_data.items() if key != "name"}
        return {**self.shown(self.step), **edited}

    def disable(self) -> None:
        for field in self.fields.values():
            field.disabled = True


def _textarea(label, help_text=""):
    return forms.CharField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": "1000"}),
    )


class GreetingForm(StepForm):
    message = _textarea("Message", "What callers hear.")


class VoicemailForm(StepForm):
    prompt = _textarea("Voicemail prompt", "What callers hear before the tone.")


class ForwardForm(StepForm):
    number = forms.CharField(
        label="Forward to number",
        required=False,
        help_text="With its country code (+15551234567), or as a national number.",
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )


class RingUsersForm(StepForm):
    members = LenientMultipleChoiceField(
        label="Members to ring", required=False, widget=forms.CheckboxSelectMultiple
    )
    timeout = forms.CharField(
        label="Ring timeout (seconds)",
        required=False,
        help_text="Between 5 and 120 seconds.",
        widget=forms.NumberInput(attrs={"min": "5", "max": "120"}),
    )

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].choices = [(str(user.pk), user.email) for user in members]

    @classmethod
    def initial_settings(cls, settings):
        return {
            "members": [str(m) for m in settings.get("members", [])],
            "timeout": settings.get("timeout"),
        }


def _time_input():
    return forms.CharField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))


class BusinessHoursForm(StepForm):
    """One opening range per day; a day with both times empty is closed.

    Extra ranges a day may have (set through the API or admin) are kept as they are and shown.
    """

    timezone = time_zone_field(
        datalist="timezone-options",
        help_text="Type to search, e.g. “London” or “New_York”. "
        "Your workspace's zone and your country's zones come first.",
    )
    open_step = forms.CharField(label="Step when open", required=False, widget=forms.Select())
    closed_step = forms.CharField(label="Step when closed", required=False, widget=forms.Select())
    closed_dates = forms.CharField(
        label="Closed dates",
        required=False,
        help_text="Holidays and other days you are closed all day: one date per line as "
        "YYYY-MM-DD, optionally followed by a name, e.g. “2026-12-25 Christmas Day”.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, other_steps=(), country="", workspace_zone="", **kwargs):
        super().__init__(*args, **kwargs)
        self.country, self.workspace_zone = country, workspace_zone
        for day in DAYS:
            self.fields[f"{day}_opens"] = _time_input()
            self.fields[f"{day}_opens"].label = f"{DAY_NAMES[day]} opens"
            self.fields[f"{day}_closes"] = _time_input()
            self.fields[f"{day}_closes"].label = f"{DAY_NAMES[day]} closes"
        steps = [("", "— not set —"), *((s.key, s.name) for s in other_steps)]
        self.fields["open_step"].widget.choices = steps
        self.fields["closed_step"].widget.choices = steps

    @classmethod
    def initial_settings(cls, settings):
        initial = {key: settings.get(key, "") for key in ("timezone", "open_step", "closed_step")}
        initial["closed_dates"] = "\n".join(
            f"{entry['date']} {entry['name']}".strip() for entry in settings["closed_dates"]
        )
        for day in DAYS:
            ranges = settings["hours"][day]
            first = ranges[0] if ranges else ["", ""]
            initial[f"{day}_opens"], initial[f"{day}_closes"] = first
        return initial

    def timezone_options(self) -> list[str]:
        """For the <datalist>: the step's zone, the workspace's, its country's, then the rest."""
        return ordered_zones(self.country, self.initial.get("timezone") or "", self.workspace_zone)

    @staticmethod
    def parse_closed_dates(text: str) -> list[dict]:
        """One entry per non-empty line: the date as typed, then the name. The step kind's
        settings (callflows.steps) say what is wrong with a line."""
        entries = []
        for line in (text or "").splitlines():
            line = line.strip()
            if not line:
                continue
            day, _, name = line.partition(" ")
            entries.append({"date": day.rstrip(",:;"), "name": name.strip().lstrip("-–—,:; ")})
        return entries

    def extra_ranges(self) -> dict[str, list]:
        """Ranges after the first one, per day: this page keeps them unchanged."""
        hours = self.shown(self.step)["hours"]
        return {day: hours[day][1:] for day in DAYS}

    def days(self):
        """(day name, opens field, closes field, extra ranges) for the template."""
        extras = self.extra_ranges()
        return [
            (DAY_NAMES[day], self[f"{day}_opens"], self[f"{day}_closes"], extras[day])
            for day in DAYS
        ]

    def clean(self):
        data = super().clean()
        for day in DAYS:
            opens, closes = data.get(f"{day}_opens", ""), data.get(f"{day}_closes", "")
            if bool(opens) != bool(closes):
                self.add_error(
                    f"{day}_opens",
                    f"{DAY_NAMES[day]}: give both an opening and a closing time, "
                    "or leave both empty when closed.",
                )
        return data

    def settings(self):
        data = self.cleaned_data
        extras = self.extra_ranges()
        hours = {}
        for day in DAYS:
            first = [[data[f"{day}_opens"], data[f"{day}_closes"]]] if data[f"{day}_opens"] else []
            hours[day] = first + extras[day]
        edited = {key: data[key] for key in ("timezone", "open_step", "closed_step")}
        edited["closed_dates"] = self.parse_closed_dates(data["closed_dates"])
        return {**self.shown(self.step), **edited, "hours": hours}

    def field_for(self, key, message):
        if key == "hours":  # "Monday: …" goes next to Monday's times
            for day in DAYS:
                if message.startswith(f"{DAY_NAMES[day]}:"):
                    return f"{day}_opens"
        return super().field_for(key, message)


class SonaForm(StepForm):
    greeting = _textarea("Greeting", "What Sona says when it answers.")
    use_history = forms.BooleanField(
        label="Use the caller's recent conversation history", required=False
    )

    @classmethod
    def initial_settings(cls, settings):
        return {
            "greeting": settings.get("greeting", ""),
            "use_history": bool(settings.get("use_history")),
        }


STEP_FORMS: dict[str, type[StepForm]] = {
    StepKind.GREETING: GreetingForm,
    StepKind.VOICEMAIL: VoicemailForm,
    StepKind.FORWARD: ForwardForm,
    StepKind.RING_USERS: RingUsersForm,
    StepKind.BUSINESS_HOURS: BusinessHoursForm,
    StepKind.SONA: SonaForm,
}


# Publishing ---------------------------------------------------------------------------------


class PublishForm(forms.Form):
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=500,
        help_text="Optional: what changed and why, for your teammates.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    publish_anyway = forms.BooleanField(
        label="Publish anyway",
        required=False,
        help_text="Publish although scenarios fail.",
    )
    override_reason = forms.CharField(
        label="Reason for publishing anyway",
        required=False,
        max_length=500,
        help_text="Required with “Publish anyway”; shown in Versions.",
    )

    def __init__(self, *args, tests_failing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not tests_failing:  # nothing to override: the fields would only confuse
            del self.fields["publish_anyway"], self.fields["override_reason"]

    def clean(self):
        data = super().clean()
        if data.get("publish_anyway") and not (data.get("override_reason") or "").strip():
            self.add_error("override_reason", "Give a reason for publishing anyway.")
        return data

    def reason_to_publish_anyway(self) -> str:
        if not self.cleaned_data.get("publish_anyway"):
            return ""
        return self.cleaned_data.get("override_reason", "")
