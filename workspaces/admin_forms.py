"""Admin forms that ask the service's validation in clean(), so bad input is a form error.

An admin that saves through a service (save_model calls `<noun>_create` / `_update`) would
otherwise find out about a bad value only when the service raises inside save_model: a 500.
"""

from django import forms
from django.core.exceptions import ValidationError

from core.forms import add_service_errors


class ServiceValidatedAdminForm(forms.ModelForm):
    """Subclasses define validate_with_service(data) -> dict | None.

    It calls the service's own validation (which raises a field-keyed ValidationError); the
    errors are shown next to their fields, and the values it returns (the cleaned, normalised
    ones, e.g. a number in E.164) replace what was typed, so the model's own checks and the
    save see what the service would store. It runs only when Django's field checks passed:
    the service may need every field.
    """

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                clean = self.validate_with_service(data)
            except ValidationError as exc:
                add_service_errors(self, exc)
            else:
                data.update(clean or {})
        return data

    def validate_with_service(self, data: dict) -> dict | None:
        raise NotImplementedError
