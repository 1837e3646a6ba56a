"""The one rule for phone numbers: what Playbook accepts, and the E.164 form it stores.

Every entry path (pages, admin, commands, step settings) asks `normalize_phone`, passing the
workspace's country so national formats ("(555) 555-0199" in the US, "020 7946 0958" in GB) are
read the way that business writes them.
"""

from functools import cache

import phonenumbers
from babel import Locale
from django.core.exceptions import ValidationError

from .text import check_text

DEFAULT_REGION = "US"
# Frozen into Workspace's CheckConstraint by its migration: a phonenumbers upgrade that adds a
# region shows up in `makemigrations --check` and needs a new migration.
REGIONS = tuple(sorted(phonenumbers.SUPPORTED_REGIONS))

NOT_A_NUMBER = (
    "“{raw}” is not a phone number. Enter it in international format (+15551234567) "
    "or as a {region} number."
)
EXTENSION = "“{raw}” has an extension, which calls cannot dial. Enter the number without it."
EMPTY = "Enter a phone number, e.g. +15551234567."


@cache
def region_choices() -> list[tuple[str, str]]:
    """("GB", "GB (+44)") for every region phonenumbers knows, for the workspace's country."""
    return [(r, f"{r} (+{phonenumbers.country_code_for_region(r)})") for r in REGIONS]


@cache
def country_choices() -> list[tuple[str, str]]:
    """("GB", "United Kingdom") for every region phonenumbers knows, by name: the sign-up's
    country select (the same codes as region_choices, in words people look for)."""
    names = Locale("en").territories
    return sorted(((r, names.get(r, r)) for r in REGIONS), key=lambda choice: choice[1])


def normalize_region(raw: str, *, field: str | None = "country") -> str:
    """'gb ' -> 'GB'; raise ValidationError unless phonenumbers knows the region."""
    region = (raw or "").strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        message = f"“{(raw or '').strip()}” is not a country code Playbook knows, e.g. US or GB."
        raise ValidationError({field: message} if field else message, code="invalid_country")
    return region


def normalize_phone(raw: str, *, region: str = DEFAULT_REGION, field: str | None = None) -> str:
    """Return `raw` in E.164 ('+15555550199'), or raise ValidationError quoting it.

    National formats are read in `region` (the workspace's country); "+44 …", "011 44 …" (US)
    or "0044 …" (GB) work anywhere, as phonenumbers parses them.

    Refused: empty input, NUL or broken characters, letters (no vanity numbers: "1-800-FLOWERS"
    is a typo more often than a spelling), extensions (a forward or a line cannot dial them),
    unknown country codes, and numbers of the wrong length for their country.

    The length check is `is_possible_number` ("IS_POSSIBLE"), not `is_valid_number`, on purpose:
    - the fictional US range +1 555 01xx (the demo's +15555550100, the tests' +1555xxxxxxx) is
      "not valid" to phonenumbers, and a business must be able to try Playbook with it;
    - validity follows numbering-plan metadata that changes every release, so a newly assigned
      real number could be refused until the library is upgraded; length per country is stable.
    The carrier is the last word on whether a well-formed number rings.
    """

    def error(template: str) -> ValidationError:
        message = template.format(raw=shown, region=region)
        return ValidationError({field: message} if field else message, code="invalid_phone")

    raw = raw if isinstance(raw, str) else ""
    try:
        check_text(raw, "The phone number")
    except ValidationError as exc:  # keyed by field like every other refusal here
        raise ValidationError({field: exc.messages} if field else exc.messages) from None
    shown = raw.strip()
    if not shown:
        raise error(EMPTY)
    try:
        parsed = phonenumbers.parse(shown, region)
    except phonenumbers.NumberParseException:
        raise error(NOT_A_NUMBER) from None
    if parsed.extension:
        raise error(EXTENSION)
    if any(ch.isalpha() for ch in shown):  # phonenumbers would turn letters into digits
        raise error(NOT_A_NUMBER)
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:  # e.g. too short, local-only
        raise error(NOT_A_NUMBER)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """A stored number as people read it: '+15555550100' -> '+1 555-555-0100'. Never raises:
    a value phonenumbers cannot read is shown as stored."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
