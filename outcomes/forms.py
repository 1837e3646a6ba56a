"""The alert rules form: it only renders and parses; the rules' ranges are checked once, by
outcomes.services.alert_rules_validate (its errors are shown next to the fields)."""

from django import forms

from .models import CALLS_RANGE, PER_DAY_RANGE, PERCENT_RANGE, RuleKind

_NUMBERS = {
    f"{RuleKind.NO_JOB_MATCHED}-percent": ("Alert above this share of calls (%)", PERCENT_RANGE),
    f"{RuleKind.NO_JOB_MATCHED}-calls": ("Of a step's latest calls", CALLS_RANGE),
    f"{RuleKind.FAILED_ACTIONS}-per_day": (
        "Alert at this many in a day on one number",
        PER_DAY_RANGE,
    ),
}


class AlertRulesForm(forms.Form):
    def __init__(self, data=None, *, rules, **kwargs):
        super().__init__(data, auto_id="rule-%s", **kwargs)
        self.sections = []
        for rule in sorted(rules, key=lambda r: RuleKind.values.index(r.kind)):
            names = [f"{rule.kind}-enabled"]
            self.fields[names[0]] = forms.BooleanField(
                label=f"On: {rule.get_kind_display()}", required=False, initial=rule.enabled
            )
            for name, (label, (low, high)) in _NUMBERS.items():
                if name.startswith(f"{rule.kind}-"):
                    self.fields[name] = forms.CharField(
                        label=label,
                        required=False,
                        initial=getattr(rule, name.split("-", 1)[1]),
                        widget=forms.NumberInput(attrs={"min": low, "max": high}),
                    )
                    names.append(name)
            self.sections.append((rule, [self[n] for n in names]))

    def values(self) -> dict:
        """What was sent, as the service reads it (call after is_valid())."""
        return dict(self.cleaned_data)
