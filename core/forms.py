"""Form fields and helpers shared by every app's forms."""

from django import forms
from django.core.exceptions import ValidationError


class LineBreakCharField(forms.CharField):
    """Browsers send textarea line breaks as CRLF: make them one character before the limits."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n") if value else value


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
