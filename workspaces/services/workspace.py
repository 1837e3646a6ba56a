"""The workspace itself: create it with its owner, and its settings (call retention, time zone)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from core.phones import DEFAULT_REGION, normalize_region
from core.timezones import is_known

from .. import audit
from ..models import Membership, Role, User, Workspace
from ..permissions import OWN, require_role


def _unique_slug(name: str) -> str:
    base = slugify(name)[:40] or "workspace"
    slug, n = base, 2
    while Workspace.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def workspace_create(
    *, name: str, owner: User, slug: str = "", country: str = DEFAULT_REGION
) -> Workspace:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A workspace needs a name."})
    if len(name) > 100:
        raise ValidationError({"name": "A workspace name can be at most 100 characters."})
    country = normalize_region(country)
    slug = slug or _unique_slug(name)
    workspace = Workspace(name=name, slug=slug, country=country)
    workspace.full_clean()
    workspace.save()
    Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    return workspace


RETENTION_MAX_DAYS = 3650  # the database's range too (workspace_call_retention_range)


def _days(value, what: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{what} must be a whole number of days.")
    if not 1 <= value <= RETENTION_MAX_DAYS:
        raise ValidationError(f"{what} must be between 1 and {RETENTION_MAX_DAYS:,} days.")
    return value


def retention_validate(*, call_days, transcript_days) -> dict:
    """The retention rule, field by field: calls are kept 1 to 3,650 days; transcripts (empty:
    as long as the calls) at most as long as the calls. Returns the clean values."""
    errors = {}
    try:
        call_days = _days(call_days, "Keep calls for")
    except ValidationError as exc:
        errors["call_retention_days"] = exc.messages
    if transcript_days in (None, ""):
        transcript_days = None
    else:
        try:
            transcript_days = _days(transcript_days, "Keep transcripts for")
        except ValidationError as exc:
            errors["transcript_retention_days"] = exc.messages
        else:
            if "call_retention_days" not in errors and transcript_days > call_days:
                errors["transcript_retention_days"] = [
                    f"Transcripts cannot be kept longer than the calls ({call_days:,} days): "
                    "enter fewer days, or leave it empty to keep them as long as the calls."
                ]
    if errors:
        raise ValidationError(errors)
    return {"call_retention_days": call_days, "transcript_retention_days": transcript_days}


@audit.write_service
def workspace_set_retention(
    *, workspace: Workspace, user: User, call_days, transcript_days
) -> Workspace:
    """How long the workspace keeps calls and their transcripts. Owners only: a shorter period
    makes the next prune_calls delete data. Saving the same values changes and records nothing."""
    require_role(user, workspace, OWN, "manage call retention")
    clean = retention_validate(call_days=call_days, transcript_days=transcript_days)
    current = Workspace.objects.select_for_update().get(pk=workspace.pk)
    before = {f: getattr(current, f) for f in clean}
    if before != clean:
        for field, value in clean.items():
            setattr(current, field, value)
        current.save(update_fields=list(clean))
        audit.record(
            user=user,
            workspace=current,
            action="workspace.retention_changed",
            obj=current,
            label=current.name,
            details={"before": before, "after": clean},
        )
    for field, value in clean.items():  # the caller's copy reads the stored values
        setattr(workspace, field, value)
    return current


def time_zone_validate(time_zone) -> str:
    """A zone typed by a person: "" (the country's main zone) or a known IANA name."""
    zone = str(time_zone or "").strip()
    if zone and (len(zone) > 64 or not is_known(zone)):
        raise ValidationError(
            {
                "time_zone": f"“{zone[:64]}” is not a known time zone: pick one from the list, "
                "e.g. America/New_York or Europe/London."
            }
        )
    return zone


@audit.write_service
def workspace_set_time_zone(*, workspace: Workspace, user: User, time_zone) -> Workspace:
    """The workspace's time zone (new business-hours steps start in it; the picker offers it
    first). Owners only, like the other workspace settings. The same value records nothing."""
    require_role(user, workspace, OWN, "manage the workspace's time zone")
    zone = time_zone_validate(time_zone)
    current = Workspace.objects.select_for_update().get(pk=workspace.pk)
    if current.time_zone != zone:
        before, current.time_zone = current.time_zone, zone
        current.save(update_fields=["time_zone"])
        audit.record(
            user=user,
            workspace=current,
            action="workspace.time_zone_changed",
            obj=current,
            label=current.name,
            details={"before": before or None, "after": zone or None},
        )
    workspace.time_zone = zone  # the caller's copy reads the stored value
    return current
