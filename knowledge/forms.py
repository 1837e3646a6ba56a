from django import forms

from jobs.forms import LineBreakCharField

from .models import BODY_MAX, TITLE_MAX
from .sources import FILE_TYPES


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


class UploadForm(forms.Form):
    files = MultipleFileField(
        label="Files",
        help_text="Text, Markdown, CSV, JSON or PDF; at most 10 MB each. "
        "Longer texts become several pages.",
    )


class UrlForm(forms.Form):
    url = forms.URLField(
        label="Web address",
        max_length=2000,
        assume_scheme="https",
        help_text="The page's main text is imported; longer texts become several pages.",
    )
