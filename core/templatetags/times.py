"""Times shown with their zone (issue 24: "times with their zone everywhere").

`{{ value|zoned }}` is the time in the current zone (the workspace's, set per request by
workspaces/middleware.py), `{{ value|zoned:"Europe/Paris" }}` in that zone; both end with the
zone's name: "Dec 13, 2026 09:00 (Europe/Paris)". For pages and emails seen outside the
workspace's requests (an invitation opened by someone without an account, an email), where
the current zone would be UTC without saying so.
"""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

register = template.Library()

FORMAT = "M j, Y H:i"


@register.filter
def zoned(value, zone: str = ""):
    if not value:
        return ""
    try:
        tz = ZoneInfo(zone) if zone else timezone.get_current_timezone()
    except (ZoneInfoNotFoundError, ValueError):  # a zone tzdata has since dropped
        tz = ZoneInfo("UTC")
    return f"{date_format(timezone.localtime(value, tz), FORMAT)} ({tz.key})"
