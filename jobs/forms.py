from django import forms

from core.forms import LineBreakCharField
from workspaces import documents

from .models import LIMITS, Job


def _counted(widget: forms.Widget, limit: int) -> forms.Widget:
    # static/js/app.js shows a live "n / limit" counter under every field carrying data-limit.
    widget.attrs.update({"data-limit": str(limit), "maxlength": str(limit)})
    return widget


TEXT_FIELD_CLASSES = dict.fromkeys(LIMITS, LineBreakCharField)


REVISION_MISSING = documents.REVISION_MISSING.format(noun="job")


class JobForm(forms.ModelForm):
    """The four texts of a job. Uniqueness and the database limits are checked by the service.

    Editing an existing job needs the revision the editor was opened at: without it the
    service could not tell a stale copy from a fresh one (expected_revision=None skips the check).
    """

    revision = forms.IntegerField(
        widget=forms.HiddenInput,
        required=False,
        min_value=0,
        error_messages=dict.fromkeys(("required", "invalid", "min_value"), REVISION_MISSING),
    )

    class Meta:
        model = Job
        fields = ["name", "description", "trigger", "instructions"]
        field_classes = TEXT_FIELD_CLASSES
        labels = {
            "name": "Name",
            "description": "Description",
            "trigger": "Caller intent",
            "instructions": "Instructions",
        }
        help_texts = {
            "description": "What the job is for, for teammates.",
            "trigger": "When Sona should use this job, e.g. “Caller wants to leave a message”.",
            "instructions": "The steps Sona follows. To have Sona text the caller or transfer "
            "the call, use “Insert action” below the instructions.",
        }
        widgets = {
            "name": _counted(forms.TextInput(), LIMITS["name"]),
            "description": _counted(forms.Textarea(attrs={"rows": 2}), LIMITS["description"]),
            "trigger": _counted(forms.Textarea(attrs={"rows": 2}), LIMITS["trigger"]),
            "instructions": _counted(forms.Textarea(attrs={"rows": 16}), LIMITS["instructions"]),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["revision"].required = self.instance.pk is not None

    def _post_clean(self):
        # Skip ModelForm's instance validation: the service validates the whole job once.
        pass


class TemplateFromJobForm(forms.Form):
    name = forms.CharField(label="Template name", max_length=LIMITS["name"], required=False)
