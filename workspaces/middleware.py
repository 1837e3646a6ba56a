from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    ValidationError,
)
from django.shortcuts import render
from django.utils import timezone

from core.text import MESSAGE, check_text

from .models import Membership

SESSION_KEY = "workspace_id"


def _current_membership(request):
    """The user's membership in the workspace chosen in this session, else in the one they
    last used (a new login), else their first one. Always one they are a member of."""
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=user).select_related("workspace")
    chosen = request.session.get(SESSION_KEY) or user.last_workspace_id
    membership = None
    if chosen:
        membership = memberships.filter(workspace_id=chosen).first()
    if membership is None:
        membership = memberships.order_by("workspace__name", "pk").first()
    return membership


class CurrentWorkspaceMiddleware:
    """Sets request.membership and request.workspace (None when the user has no workspace), and
    makes the workspace's time zone the current one for the request.

    One query for a logged-in user (membership joined with its workspace), none otherwise.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = _current_membership(request)
        request.workspace = request.membership.workspace if request.membership else None
        if request.workspace is None:
            return self.get_response(request)
        # Pages show times, and count calls per day, in the workspace's own time zone.
        try:
            zone = ZoneInfo(request.workspace.zone)
        except (ZoneInfoNotFoundError, ValueError):  # a zone tzdata has since dropped
            zone = None
        with timezone.override(zone):
            return self.get_response(request)


class RefuseUnstorableTextMiddleware:
    """Answer 400 to any page request whose address, query string or form holds text the
    database cannot store (NUL, lone surrogates), before it reaches a view or a query.

    One place for every page: views and forms then only ever see storable text. The runtime
    API (under /api/) checks its own input and answers in JSON.
    """

    SKIP_PREFIXES = ("/api/",)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(self.SKIP_PREFIXES):
            try:
                _check_request(request)
            except ValidationError as exc:
                return _refusal(request, exc)
            except (TooManyFilesSent, TooManyFieldsSent, RequestDataTooBig) as exc:
                # Django's own limits on a form, met while reading it here: say which.
                return _refusal(request, ValidationError(_too_big(exc)))
        return self.get_response(request)

    def process_exception(self, request, exception):
        """The last line: text the checks above did not see (a header a view copies, a charset
        that decodes to a lone surrogate on a path not listed here) and that a database driver
        then cannot encode is still a 400 page, not a 500."""
        if (
            isinstance(exception, UnicodeEncodeError)
            and "surrogates not allowed" in str(exception)
            and not request.path_info.startswith(self.SKIP_PREFIXES)
        ):
            return _refusal(request, ValidationError(MESSAGE.format(what="The text sent")))
        return None


def _too_big(exc) -> str:
    if isinstance(exc, TooManyFilesSent):
        limit = f"at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files at a time"
        return f"Too many files were sent: {limit}. Choose fewer files and try again."
    if isinstance(exc, TooManyFieldsSent):
        return f"The form sent too many fields (at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS})."
    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024
    return f"The form sent is too large: at most {size:.1f} MB of text besides files."


def _check_request(request) -> None:
    check_text(request.path, "The address")
    for data in (request.GET, request.POST):
        for key, values in data.lists():
            check_text(key, "A field name")
            for value in values:
                check_text(value, f"The value of “{key}”")
    for key, files in request.FILES.lists():
        check_text(key, "A field name")
        for upload in files:
            check_text(upload.name or "", "A file name")


def _refusal(request, exc: ValidationError):
    response = render(request, "400.html", {"message": " ".join(exc.messages)}, status=400)
    if request.headers.get("HX-Request"):  # htmx swaps only 2xx answers: show the whole page
        response.status_code = 200
        response["HX-Retarget"] = "body"
        response["HX-Reswap"] = "innerHTML"
    return response
