from django import forms
from django.contrib.auth.forms import AuthenticationForm

from core.forms import time_zone_field
from core.phones import country_choices

from .models import Role

# The least power first: an owner picks Owner on purpose (and confirms it on the next page).
INVITE_ROLES = [(Role.MEMBER, "Member"), (Role.ADMIN, "Admin"), (Role.OWNER, "Owner")]


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email")
    role = forms.ChoiceField(label="Role", choices=INVITE_ROLES, initial=Role.MEMBER)


class PublicSignUpForm(forms.Form):
    """A new business's sign-up; the rules (name, address, country, password strength) are the
    service's (services/signup.py), the form only reads the fields."""

    full_name = forms.CharField(
        label="Your name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    business_name = forms.CharField(
        label="Business name",
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    country = forms.ChoiceField(
        label="Country",
        choices=country_choices,
        help_text="Phone numbers are read as this country's, and it sets your time zone.",
    )
    email = forms.EmailField(
        label="Email",
        max_length=254,
        help_text="We send a link to verify it; you log in with it.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        help_text="At least 8 characters, not a common or all-numeric one.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class ResendForm(forms.Form):
    email = forms.EmailField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class LoginForm(AuthenticationForm):
    """Django's login form, refusing an account whose email is not verified yet (after its
    password is checked, so the refusal tells nothing to someone without it)."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user.email_verified_at is None:
            self.unverified_email = user.email
            raise forms.ValidationError(
                f"Your email address is not verified yet: open the link we sent to "
                f"{user.email}, or send the link again.",
                code="unverified",
            )


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


class TimeZoneForm(forms.Form):
    time_zone = time_zone_field(
        datalist="time-zone-options",
        help_text="Type to search, e.g. “London” or “New_York”. Empty: your country's main zone.",
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


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
