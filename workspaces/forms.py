from django import forms
from django.core.exceptions import ValidationError

from .models import Role


class LineBreakCharField(forms.CharField):
    """Browsers send textarea line breaks as CRLF: make them one character before the limits."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n") if value else value


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email")
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.MEMBER)


class SignUpForm(forms.Form):
    """A new person's name and password; the service checks the password's strength."""

    full_name = forms.CharField(label="Your name", max_length=150)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") not in (None, data["password1"]):
            self.add_error("password2", "The two passwords differ.")
        return data

    def field_for(self, key, message):  # the service names the password "password"
        return {"password": "password1"}.get(key, key if key in self.fields else None)


class ProfileForm(forms.Form):
    full_name = forms.CharField(label="Your name", max_length=150)


class RetentionForm(forms.Form):
    """The numbers only; the rule (ranges, transcripts ≤ calls) is workspace_set_retention's."""

    call_retention_days = forms.IntegerField(
        label="Keep calls for (days)",
        help_text="Calls older than this are deleted, summaries and all. Default: 365.",
        widget=forms.NumberInput(attrs={"min": 1, "max": 3650}),
    )
    transcript_retention_days = forms.IntegerField(
        label="Keep transcripts for (days)",
        required=False,
        help_text="Transcripts older than this are cleared; the summary, next steps and "
        "actions stay. Empty: kept as long as the call.",
        widget=forms.NumberInput(attrs={"min": 1, "max": 3650}),
    )


def time_zone_field(*, datalist: str, help_text: str) -> forms.CharField:
    """A searchable time zone: free text with a <datalist> of zones (the template renders the
    list with id `datalist`); whether the zone exists is the service's rule."""
    return forms.CharField(
        label="Time zone",
        required=False,
        max_length=200,
        help_text=help_text,
        widget=forms.TextInput(
            attrs={"list": datalist, "autocomplete": "off", "spellcheck": "false"}
        ),
    )


class TimeZoneForm(forms.Form):
    time_zone = time_zone_field(
        datalist="time-zone-options",
        help_text="Type to search, e.g. “London” or “New_York”. Empty: your country's main zone.",
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: next to its field, or above the form.

    A form may define field_for(key, message) to map service keys onto its own fields.
    """
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    field_for = getattr(form, "field_for", None)
    for key, errors in exc.error_dict.items():
        for error in errors:
            message = " ".join(ValidationError(error).messages)
            if field_for is not None:
                field = field_for(key, message)
            else:
                field = key if key in form.fields else None
            form.add_error(field, message)


ID_MAX = 2**63 - 1  # BigAutoField: a larger number is no row, and some databases refuse it


def parse_id(value) -> int | None:
    """A row id or revision typed or posted by a user: a whole number >= 0, else None.

    str.isdigit() is not enough: "²" passes it and int() refuses it.
    """
    value = str(value or "").strip()
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number <= ID_MAX else None


class ActivityFilterForm(forms.Form):
    """The Activity page's filters (GET). An invalid value is shown as an error and ignored."""

    person = forms.TypedChoiceField(label="Person", required=False, coerce=int, empty_value=None)
    action = forms.ChoiceField(label="Action", required=False)
    object = forms.ChoiceField(label="Object", required=False)
    q = forms.CharField(label="Object name contains", required=False, max_length=200)

    def __init__(self, data, *, people, actions, object_types):
        super().__init__(data)
        self.fields["person"].choices = [("", "Anyone"), *people]
        self.fields["action"].choices = [("", "Any action"), *actions.items()]
        self.fields["object"].choices = [("", "Any object"), *object_types.items()]

    def filters(self) -> dict:
        """The valid filters, as keyword arguments of selectors.audit_events."""
        self.is_valid()
        clean = self.cleaned_data  # only the fields that passed
        return {
            "actor_id": clean.get("person"),
            "action": clean.get("action") or "",
            "object_type": clean.get("object") or "",
            "search": (clean.get("q") or "").strip(),
        }
