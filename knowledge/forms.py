from django import forms
from django.conf import settings

from core.forms import LineBreakCharField

from .models import BODY_MAX, TITLE_MAX
from .sources import FILE_MAX_BYTES, FILE_TYPES


def _counted(widget: forms.Widget, limit: int) -> forms.Widget:
    # static/js/app.js shows a live "n / limit" counter under every field carrying data-limit.
    widget.attrs.update({"data-limit": str(limit), "maxlength": str(limit)})
    return widget


class PageForm(forms.Form):
    title = LineBreakCharField(
        label="Title", max_length=TITLE_MAX, widget=_counted(forms.TextInput(), TITLE_MAX)
    )
    body = LineBreakCharField(
        label="Body",
        max_length=BODY_MAX,
        widget=_counted(forms.Textarea(attrs={"rows": 18}), BODY_MAX),
        help_text="Facts Sona may quote: prices, opening hours, addresses, policies.",
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ",".join(FILE_TYPES)}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".removesuffix(".0") + " MB"


class UploadForm(forms.Form):
    files = MultipleFileField(label="Files")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = (
            f"Text, Markdown, CSV, JSON or PDF: at most {settings.KNOWLEDGE_UPLOAD_MAX_FILES} "
            f"files and {_mb(settings.KNOWLEDGE_UPLOAD_MAX_BYTES)} at a time, "
            f"{_mb(FILE_MAX_BYTES)} each. Longer texts become several pages."
        )

    def clean_files(self):
        """The per-request limits, checked on the sizes Django measured while receiving the
        files, before any is read into memory."""
        files = self.cleaned_data["files"]
        max_files, max_bytes = (
            settings.KNOWLEDGE_UPLOAD_MAX_FILES,
            settings.KNOWLEDGE_UPLOAD_MAX_BYTES,
        )
        if len(files) > max_files:
            raise forms.ValidationError(
                f"You chose {len(files)} files; at most {max_files} files per upload. "
                "Upload them in smaller batches.",
                code="too_many_files",
            )
        for upload in files:
            if upload.size > FILE_MAX_BYTES:
                raise forms.ValidationError(
                    f"{upload.name}: the file is {_mb(upload.size)}; at most "
                    f"{_mb(FILE_MAX_BYTES)} per file.",
                    code="file_too_large",
                )
        total = sum(upload.size for upload in files)
        if total > max_bytes:
            raise forms.ValidationError(
                f"The files come to {_mb(total)}; at most {_mb(max_bytes)} per upload. "
                "Upload them in smaller batches.",
                code="upload_too_large",
            )
        return files


class UrlForm(forms.Form):
    url = forms.URLField(
        label="Web address",
        max_length=2000,
        assume_scheme="https",
        help_text="The page's main text is imported; longer texts become several pages.",
    )
