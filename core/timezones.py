"""Time zones: the workspace's own, and the business-hours picker (the workspace's zone and its
country's zones first, then the rest).

Country → zones comes from the IANA `zone1970.tab` / `zone.tab` that ship with the time zone
database (the system's, or the `tzdata` package's where the system has none).
"""

import importlib.resources
import zoneinfo
from functools import lru_cache
from pathlib import Path


def _zone_table() -> str:
    for root in zoneinfo.TZPATH:
        for name in ("zone1970.tab", "zone.tab"):
            path = Path(root) / name
            if path.is_file():
                return path.read_text(encoding="utf-8")
    try:
        files = importlib.resources.files("tzdata").joinpath("zoneinfo")
        return files.joinpath("zone1970.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return ""


@lru_cache(maxsize=1)
def _by_country() -> dict[str, list[str]]:
    known = _known()
    zones: dict[str, list[str]] = {}
    for line in _zone_table().splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 3 or parts[2] not in known:
            continue
        for country in parts[0].split(","):
            zones.setdefault(country.strip().upper(), []).append(parts[2])
    return zones


@lru_cache(maxsize=1)
def all_zones() -> tuple[str, ...]:
    """Every zone a person would pick: canonical Area/City names, without legacy aliases."""
    return tuple(
        sorted(
            tz
            for tz in _known()
            if "/" in tz and not tz.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))
        )
    )


def country_zones(country: str) -> list[str]:
    """The zones of a country (ISO 3166-1 code), in the table's order (main zone first)."""
    return list(_by_country().get((country or "").upper(), []))


def ordered_zones(country: str, *first: str) -> list[str]:
    """The zones given first (a step's own zone, the workspace's), then the country's zones,
    then every other zone A→Z; each once."""
    ordered = list(dict.fromkeys(tz for tz in (*first, *country_zones(country)) if tz))
    seen = set(ordered)
    return ordered + [tz for tz in all_zones() if tz not in seen]


def main_zone(country: str) -> str:
    """A country's main zone (the table lists it first); UTC for a country the table lacks."""
    zones = country_zones(country)
    return zones[0] if zones else "UTC"


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    # available_timezones() walks the zone files on disk (milliseconds): once per process.
    return frozenset(zoneinfo.available_timezones())


def is_known(zone: str) -> bool:
    """A zone name this machine's time zone database has."""
    return zone in _known()
