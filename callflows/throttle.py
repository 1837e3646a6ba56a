"""Rate limit of bad API tokens, per source and minute, counted in the cache (django-ratelimit).

Only a failure is counted and only a failure is refused: a request whose token is valid is
served whatever its source sent before, so a guesser behind the same proxy or NAT as the
telephony runtime cannot take a phone line down. A source (core/sources.py: an IPv4
address, or an IPv6 /64) gets API_BAD_TOKEN_LIMIT bad tokens a minute; past that its bad tokens
are answered 429 with Retry-After. Cheap: a malformed token costs one cache increment and no
query; a well-formed one costs the lookup every request makes (tokens are 256 random bits:
the limit is against load and noise, guessing one is hopeless anyway).

The count lives in the default cache: Redis (CACHE_URL) shares it between processes and hosts;
the local-memory cache of the zero-setup mode counts per process.
"""

from dataclasses import dataclass

from django.conf import settings
from django_ratelimit.core import get_usage

from core.sources import client_source

GROUP = "api-bad-token"


@dataclass(frozen=True)
class Failure:
    limited: bool  # over the limit: answer 429
    retry_after: int  # seconds until the source's minute ends


def _source(group, request) -> str:
    return client_source(request)


def bad_token(request) -> Failure:
    """Count one bad token from the request's source."""
    usage = get_usage(
        request,
        group=GROUP,
        key=_source,
        rate=f"{settings.API_BAD_TOKEN_LIMIT}/m",
        increment=True,
    )
    if usage is None:  # RATELIMIT_ENABLE off, or the cache gave no count (RATELIMIT_FAIL_OPEN)
        return Failure(False, 0)
    # The window's last second still belongs to it: the count starts afresh one second later.
    return Failure(usage["should_limit"], max(1, usage["time_left"] + 1))
