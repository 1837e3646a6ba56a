"""Each step kind validates and normalises its own settings: one function per kind.

`validate_settings(kind, settings, context)` returns clean settings or raises ValidationError
with field-keyed messages. `context` gives what some kinds need to check references:
the workspace's member ids, the keys of the other steps of the same flow and the workspace's
country (forward numbers are read as phone numbers are, by core.phones).
"""

import datetime
import re
from copy import deepcopy
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from core.phones import DEFAULT_REGION, normalize_phone
from core.timezones import is_known

from .models import StepKind

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = dict(
    zip(
        DAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
MESSAGE_MAX = 1000
CLOSED_DATES_MAX = 100  # closed dates one business-hours step may list
CLOSED_NAME_MAX = 100
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Context:
    member_ids: set[int] = field(default_factory=set)
    step_keys: set[str] = field(default_factory=set)  # keys of the flow's other steps
    region: str = DEFAULT_REGION  # the workspace's country: how national numbers are read


def _text(settings, key, *, label, required=False, limit=MESSAGE_MAX):
    value = settings.get(key, "")
    if not isinstance(value, str):
        raise ValidationError({key: f"{label} must be text."})
    value = value.replace("\r\n", "\n").strip()
    if required and not value:
        raise ValidationError({key: f"{label} is required."})
    if len(value) > limit:
        raise ValidationError(
            {key: f"{label} can be at most {limit:,} characters (it has {len(value):,})."}
        )
    return value


def _greeting(settings, context):
    return {"message": _text(settings, "message", label="The message", required=True)}


def _voicemail(settings, context):
    return {"prompt": _text(settings, "prompt", label="The voicemail prompt", required=True)}


def _forward(settings, context):
    # Limit on what is typed ("+44 (0)20 7946 0958"); the stored E.164 is at most 16.
    number = _text(settings, "number", label="The number", required=True, limit=64)
    return {"number": normalize_phone(number, region=context.region, field="number")}


def _ring_users(settings, context):
    members = settings.get("members", [])
    if not isinstance(members, list) or not members:
        raise ValidationError({"members": "Choose at least one member to ring."})
    try:
        members = sorted({int(m) for m in members})
    except (TypeError, ValueError):
        raise ValidationError({"members": "Members must be chosen from the workspace."}) from None
    unknown = set(members) - context.member_ids
    if unknown:
        raise ValidationError({"members": "Only members of this workspace can be rung."})
    try:
        timeout = int(settings.get("timeout", 20))
    except (TypeError, ValueError):
        raise ValidationError(
            {"timeout": "The ring timeout must be a number of seconds."}
        ) from None
    if not 5 <= timeout <= 120:
        raise ValidationError({"timeout": "The ring timeout must be between 5 and 120 seconds."})
    return {"members": members, "timeout": timeout}


def _business_hours(settings, context):
    tz = _text(settings, "timezone", label="The time zone", required=True, limit=64)
    if not is_known(tz):
        raise ValidationError(
            {"timezone": f"“{tz}” is not a known time zone, e.g. America/New_York."}
        )
    hours_in = settings.get("hours", {})
    if not isinstance(hours_in, dict) or set(hours_in) - set(DAYS):
        raise ValidationError({"hours": "Hours are given per day (mon … sun)."})
    hours = {}
    for day in DAYS:
        ranges = hours_in.get(day) or []
        clean = []
        for pair in ranges:
            if not (
                isinstance(pair, list | tuple)
                and len(pair) == 2
                and all(isinstance(t, str) and _TIME.match(t) for t in pair)
            ):
                raise ValidationError(
                    {"hours": f"{DAY_NAMES[day]}: times are HH:MM, e.g. 09:00–17:00."}
                )
            if pair[0] >= pair[1]:
                raise ValidationError(
                    {
                        "hours": f"{DAY_NAMES[day]}: the opening time must be before the closing time."
                    }
                )
            clean.append([pair[0], pair[1]])
        clean.sort()
        for (_, end), (start, _) in zip(clean, clean[1:], strict=False):
            if start < end:
                raise ValidationError({"hours": f"{DAY_NAMES[day]}: opening hours overlap."})
        hours[day] = clean
    result = {"timezone": tz, "hours": hours, "closed_dates": _closed_dates(settings)}
    for branch, label in (("open_step", "open"), ("closed_step", "closed")):
        key = settings.get(branch) or ""
        if key and key not in context.step_keys:
            raise ValidationError({branch: f"Choose another step of this call flow for “{label}”."})
        result[branch] = key
    return result


def _closed_dates(settings) -> list[dict]:
    """Holidays and other closed days: [{"date": "YYYY-MM-DD", "name": "…"}], sorted by date.

    On these dates the step takes its "closed" branch all day, whatever the weekly hours say.
    """
    entries = settings.get("closed_dates", [])
    if not isinstance(entries, list):
        raise ValidationError({"closed_dates": "Closed dates are a list of dates."})
    if len(entries) > CLOSED_DATES_MAX:
        raise ValidationError(
            {
                "closed_dates": f"List at most {CLOSED_DATES_MAX} closed dates (there are {len(entries)})."
            }
        )
    clean = {}
    for entry in entries:
        if isinstance(entry, str):
            entry = {"date": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("date"), str):
            raise ValidationError({"closed_dates": "Each closed date needs a date (YYYY-MM-DD)."})
        day = entry["date"].strip()
        try:
            if not _DATE.match(day):
                raise ValueError
            datetime.date.fromisoformat(day)
        except ValueError:
            raise ValidationError(
                {
                    "closed_dates": f"“{day[:20]}” is not a date: write it as YYYY-MM-DD, e.g. 2026-12-25."
                }
            ) from None
        name = entry.get("name") or ""
        if not isinstance(name, str):
            raise ValidationError({"closed_dates": f"{day}: the name must be text."})
        name = " ".join(name.split())
        if len(name) > CLOSED_NAME_MAX:
            raise ValidationError(
                {"closed_dates": f"{day}: the name can be at most {CLOSED_NAME_MAX} characters."}
            )
        if day in clean:
            raise ValidationError({"closed_dates": f"{day} is listed twice."})
        clean[day] = {"date": day, "name": name}
    return [clean[day] for day in sorted(clean)]


def _sona(settings, context):
    return {
        "greeting": _text(settings, "greeting", label="The greeting"),
        "use_history": bool(settings.get("use_history", False)),
        "knowledge": [],  # knowledge pages arrive with the knowledge issue
    }


VALIDATORS = {
    StepKind.GREETING: _greeting,
    StepKind.BUSINESS_HOURS: _business_hours,
    StepKind.RING_USERS: _ring_users,
    StepKind.SONA: _sona,
    StepKind.FORWARD: _forward,
    StepKind.VOICEMAIL: _voicemail,
}

DEFAULTS = {
    StepKind.GREETING: {"message": "Thanks for calling."},
    StepKind.BUSINESS_HOURS: {
        "timezone": "America/New_York",
        "hours": {d: ([["09:00", "17:00"]] if d in DAYS[:5] else []) for d in DAYS},
        "open_step": "",
        "closed_step": "",
        "closed_dates": [],
    },
    StepKind.RING_USERS: {"members": [], "timeout": 20},
    StepKind.SONA: {
        "greeting": "Hi, this is Sona. How can I help?",
        "use_history": True,
        "knowledge": [],
    },
    StepKind.FORWARD: {"number": ""},
    StepKind.VOICEMAIL: {"prompt": "Please leave a message after the tone."},
}


def validate_settings(kind: str, settings, context: Context) -> dict:
    if kind not in VALIDATORS:
        raise ValidationError({"kind": "Choose a step kind."})
    if not isinstance(settings, dict):
        raise ValidationError({"settings": "Settings must be an object."})
    return VALIDATORS[kind](settings, context)


# Reading stored settings for display --------------------------------------------------------
# Settings are JSON that a script or an old version may have written in any shape. Pages and
# form initial values read them only through display_settings, which never raises: each known
# key keeps its stored value when that value has the expected shape, else the kind's default.


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown_members(value):
    if not isinstance(value, list):
        return None
    return [int(m) for m in value if _is_int(m) or (isinstance(m, str) and m.isdecimal())]


def _shown_timeout(value):
    if _is_int(value):
        return value
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value)
    return None


def _shown_hours(value):
    if not isinstance(value, dict):
        return None
    hours = {}
    for day in DAYS:
        ranges = value.get(day)
        hours[day] = [
            [pair[0], pair[1]]
            for pair in (ranges if isinstance(ranges, list) else [])
            if isinstance(pair, list | tuple)
            and len(pair) == 2
            and all(isinstance(t, str) and _TIME.match(t) for t in pair)
            and pair[0] < pair[1]
        ]
    return hours


def _shown_closed_dates(value):
    if not isinstance(value, list):
        return None
    shown = []
    for entry in value:
        if isinstance(entry, str):
            entry = {"date": entry}
        if isinstance(entry, dict) and isinstance(entry.get("date"), str):
            name = entry.get("name")
            shown.append({"date": entry["date"], "name": name if isinstance(name, str) else ""})
    return shown


def _of_type(kind):
    return lambda value: value if isinstance(value, kind) else None


# key -> function(stored value) returning the value to show, or None for "use the default"
_SHOWN = {
    "members": _shown_members,
    "timeout": _shown_timeout,
    "hours": _shown_hours,
    "closed_dates": _shown_closed_dates,
    "use_history": _of_type(bool),
    "knowledge": _of_type(list),
}


def display_settings(kind: str, raw) -> dict:
    """The kind's defaults merged with the parts of `raw` that have the right shape."""
    shown = deepcopy(DEFAULTS.get(kind, {}))
    if not isinstance(raw, dict):
        return shown
    for key in shown:
        if key in raw:
            value = _SHOWN.get(key, _of_type(str))(raw[key])
            if value is not None:
                shown[key] = value
    return shown
