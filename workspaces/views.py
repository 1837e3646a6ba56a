from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.errors import error_messages
from core.forms import add_service_errors, parse_id
from core.phones import DEFAULT_REGION, REGIONS
from core.sources import client_source
from core.timezones import ordered_zones

from . import selectors, services
from .audit import ACTIONS
from .forms import (
    ActivityFilterForm,
    InviteForm,
    ProfileForm,
    PublicSignUpForm,
    ResendForm,
    RetentionForm,
    RoleForm,
    SignUpForm,
    TimeZoneForm,
)
from .middleware import SESSION_KEY
from .models import ApiToken, Invitation, Membership, Role, User
from .permissions import EDIT, OWN, READ, role_allows, workspace_view
from .selectors import invitation_from_token, pending_invitations


def permission_denied(request, exception):
    """The 403 page (handler403), naming the role needed. htmx swaps no 4xx answer, so an htmx
    request is also told to reload the page it came from, which shows the refusal on top."""
    message = str(exception) or "Your role in this workspace does not allow this."
    response = render(request, "403.html", {"exception": message}, status=403)
    current = request.headers.get("HX-Current-URL", "")
    if getattr(request, "htmx", False) and url_has_allowed_host_and_scheme(
        current, {request.get_host()}, request.is_secure()
    ):
        messages.error(request, f"{message} Nothing was changed.")
        response["HX-Redirect"] = current
    return response


@require_POST
@login_required
def workspace_switch(request):
    membership = get_object_or_404(
        Membership, user=request.user, workspace_id=parse_id(request.POST.get("workspace")) or 0
    )
    request.session[SESSION_KEY] = membership.workspace_id
    services.user_remember_workspace(workspace=membership.workspace, user=request.user)
    messages.info(request, f"Switched to {membership.workspace.name}.")
    return redirect(local_path(request, request.POST.get("next") or request.GET.get("next")))


def local_path(request, target: str | None, default: str = "home") -> str:
    """`target` when it is a path on this site ("/jobs/?q=x"), else the default page.

    A `next` parameter is only ever a local path: never a URL name (redirect() would try to
    reverse it), another host, or a scheme.
    """
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return resolve_url(default)


@workspace_view()
def member_list(request):
    memberships = request.workspace.memberships.select_related("user").order_by("user__email")
    page = Paginator(memberships, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "workspaces/member_list.html",
        {
            "page": page,
            "invite_form": InviteForm(),
            "role_choices": RoleForm.base_fields["role"].choices,
        },
    )


def _membership(request, pk):
    return get_object_or_404(Membership, pk=pk, workspace=request.workspace)


def _errors(request, exc: ValidationError):
    messages.error(request, " ".join(error_messages(exc)))


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


@require_POST
@workspace_view(OWN)
def member_invite(request):
    form = InviteForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("workspaces:members")
    data = form.cleaned_data
    if data["role"] == Role.OWNER and request.POST.get("confirm") != "yes":
        return _confirm_owner_invite(request, data["email"])
    try:
        invitation = services.invitation_send(
            workspace=request.workspace,
            user=request.user,
            base_url=_base_url(request),
            **form.cleaned_data,
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        # The same words whether the email has an account or not.
        messages.success(request, f"Invitation sent to {invitation.email}.")
    return redirect("workspaces:members")


def _confirm_owner_invite(request, email):
    """Owner is the one role that can do everything: the invitation waits for a Confirm."""
    context = {
        "title": f"Invite {email} as Owner?",
        "lines": [
            f"Owners can do everything in {request.workspace.name}: invite and remove members "
            "(other owners included), change anyone's role, create API tokens and webhooks, "
            "and change the workspace's settings.",
            "To let them change jobs, knowledge and call flows only, cancel and invite them "
            "as Admin.",
        ],
        "hidden": {"email": email, "role": Role.OWNER},
        "refusal": "",
        "cancel_url": reverse("workspaces:members"),
    }
    return render(request, "confirm.html", context)


@require_POST
@workspace_view(OWN)
def member_role(request, pk):
    membership = _membership(request, pk)
    form = RoleForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Choose owner, admin or member.")
        membership = services.membership_change_role(
            membership=membership, role=form.cleaned_data["role"], user=request.user
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(
            request, f"{membership.user.email} is now {membership.get_role_display()}."
        )
    return redirect("workspaces:members")


@workspace_view(OWN)
def member_remove(request, pk):
    """GET, or a POST without the confirmation, asks first (who loses access); only the
    confirming POST removes."""
    membership = _membership(request, pk)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            services.membership_remove(membership=membership, user=request.user)
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, f"{membership.user.email} removed from the workspace.")
        return redirect("workspaces:members")
    try:
        services.membership_check_owner_remains(membership, None)
        refusal = ""
    except ValidationError as exc:
        refusal = " ".join(error_messages(exc))
    person = membership.user
    who = f"{person.full_name} ({person.email})" if person.full_name else person.email
    context = {
        "title": f"Remove {who} from {request.workspace.name}?",
        "lines": ["They lose access at once. To bring them back, invite them again."],
        "hidden": {},
        "refusal": refusal,
        "cancel_url": reverse("workspaces:members"),
    }
    return render(request, "confirm.html", context)


# Invitations -------------------------------------------------------------------------------


@workspace_view(OWN)
def invitation_list(request):
    invitations = pending_invitations(request.workspace)
    page = Paginator(invitations, 50).get_page(request.GET.get("page"))
    return render(request, "workspaces/invitation_list.html", {"page": page})


def _invitation(request, pk):
    return get_object_or_404(Invitation, pk=pk, workspace=request.workspace)


@require_POST
@workspace_view(OWN)
def invitation_resend(request, pk):
    invitation = _invitation(request, pk)
    try:
        services.invitation_resend(
            invitation=invitation, user=request.user, base_url=_base_url(request)
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(
            request,
            f"A new invitation was sent to {invitation.email}; the old link no longer works.",
        )
    return redirect("workspaces:invitations")


@require_POST
@workspace_view(OWN)
def invitation_revoke(request, pk):
    invitation = _invitation(request, pk)
    try:
        services.invitation_revoke(invitation=invitation, user=request.user)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, f"The invitation of {invitation.email} was revoked.")
    return redirect("workspaces:invitations")


def invitation_landing(request, token):
    """The emailed link: sign up (no account), log in first (an account), or accept/decline."""
    invitation = invitation_from_token(token)
    problem = services.invitation_problem(invitation)
    if problem:
        status = 404 if invitation is None else 410
        return render(
            request, "workspaces/invitation_ended.html", {"problem": problem}, status=status
        )
    user = request.user
    context = {"invitation": invitation, "token": token}
    if not user.is_authenticated:
        if User.objects.filter(email__iexact=invitation.email).exists():
            context["login_url"] = f"{resolve_url('login')}?{urlencode({'next': request.path})}"
            return render(request, "workspaces/invitation.html", context)
        return _sign_up(request, invitation, token, context)
    try:
        services.invitation_check_invitee(invitation, user)
    except ValidationError as exc:
        context["refusal"] = " ".join(error_messages(exc))
        return render(request, "workspaces/invitation.html", context)
    if request.method == "POST":
        return _answer(request, invitation, token)
    return render(request, "workspaces/invitation.html", context)


def _answer(request, invitation, token):
    workspace = invitation.workspace
    try:
        if request.POST.get("answer") == "decline":
            services.invitation_decline(token=token, user=request.user)
            messages.info(request, f"You declined the invitation to {workspace.name}.")
            return redirect("home")
        services.invitation_accept(token=token, user=request.user)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect(request.path)
    return _land(request, workspace)


def _land(request, workspace):
    request.session[SESSION_KEY] = workspace.pk
    messages.success(request, f"Welcome to {workspace.name}.")
    return redirect("home")


def _sign_up(request, invitation, token, context):
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_sign_up(
                token=token,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
                user=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return _land(request, invitation.workspace)
    context["form"] = form
    return render(request, "workspaces/invitation.html", context)


# Public sign-up ----------------------------------------------------------------------------

SIGNUP_EMAIL_KEY = "signup_email"  # the session remembers where the link went, for the next page


def _country_guess(request) -> str:
    """The browser's first language's region ("en-GB" -> GB), else the default."""
    first = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0].strip()
    region = first.replace("_", "-").rpartition("-")[2].upper() if "-" in first else ""
    return region if region in REGIONS else DEFAULT_REGION


def signup(request):
    if not services.signup_open():
        return render(request, "registration/signup_closed.html", status=404)
    if request.user.is_authenticated:
        messages.info(request, f"You are logged in as {request.user.email}.")
        return redirect("home")
    form = PublicSignUpForm(request.POST or None, initial={"country": _country_guess(request)})
    return _send_link_form(
        request,
        form,
        "registration/signup.html",
        lambda data: services.signup(
            **data, source=client_source(request), user=request.user, base_url=_base_url(request)
        ),
    )


def _send_link_form(request, form, template: str, send):
    """A form whose valid POST emails a link (`send(cleaned_data)` returns the address): then
    "Check your email"; a refusal shows on the form, 429 when it is the rate limit."""
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            email = send(form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
            status = 429 if isinstance(exc, services.RateLimited) else 200
        else:
            request.session[SIGNUP_EMAIL_KEY] = email
            return redirect("signup_sent")
    return render(request, template, {"form": form}, status=status)


def signup_sent(request):
    """ "Check your email": the same page whether the address had an account or not."""
    email = request.session.get(SIGNUP_EMAIL_KEY, "")
    context = {
        "email": email,
        "form": ResendForm(initial={"email": email}),
        "days": services.VERIFY_DAYS,
    }
    return render(request, "registration/signup_sent.html", context)


def signup_resend(request):
    form = ResendForm(request.POST or None, initial={"email": request.GET.get("email", "")})
    return _send_link_form(
        request,
        form,
        "registration/signup_resend.html",
        lambda data: services.signup_resend(
            email=data["email"], source=client_source(request), base_url=_base_url(request)
        ),
    )


def signup_verify(request, token):
    """The emailed link: verifies the address, logs the person in and opens their workspace."""
    try:
        user = services.email_verify(token=token)
    except services.LinkRefused as exc:
        status = {"invalid": 404, "disabled": 403}.get(exc.code, 410)
        context = {
            "problem": " ".join(error_messages(exc)),
            "used": exc.code == "used",
            "form": ResendForm(initial={"email": exc.email}),
        }
        return render(request, "registration/signup_verify_failed.html", context, status=status)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.pop(SIGNUP_EMAIL_KEY, None)
    if user.last_workspace_id:
        request.session[SESSION_KEY] = user.last_workspace_id
    messages.success(request, "Your email address is verified. Welcome to Playbook!")
    return redirect("home")


# Your profile ------------------------------------------------------------------------------


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, initial={"full_name": request.user.full_name})
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update_profile(
                full_name=form.cleaned_data["full_name"], user=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your name was saved.")
            return redirect("profile")
    return render(request, "workspaces/profile.html", {"form": form})


# Workspace settings -----------------------------------------------------------------------


@workspace_view(READ)
def workspace_settings(request):
    """Every member sees the time zone and how long calls are kept; owners change them (the
    services decide: an admin's POST passes the page's check and is refused by the service).
    Two forms on one page: `section` says which was sent."""
    workspace = request.workspace
    posted = request.POST if request.method == "POST" else None
    section = posted.get("section") if posted else None
    retention = RetentionForm(
        posted if section == "retention" else None,
        initial={
            "call_retention_days": workspace.call_retention_days,
            "transcript_retention_days": workspace.transcript_retention_days,
        },
    )
    zone = TimeZoneForm(
        posted if section == "time_zone" else None, initial={"time_zone": workspace.time_zone}
    )
    if section == "retention" and retention.is_valid():
        try:
            services.workspace_set_retention(
                workspace=workspace,
                call_days=retention.cleaned_data["call_retention_days"],
                transcript_days=retention.cleaned_data["transcript_retention_days"],
                user=request.user,
            )
        except ValidationError as exc:
            add_service_errors(retention, exc)
        else:
            messages.success(request, "Call retention saved.")
            return redirect("workspaces:settings")
    elif section == "time_zone" and zone.is_valid():
        try:
            services.workspace_set_time_zone(
                workspace=workspace, time_zone=zone.cleaned_data["time_zone"], user=request.user
            )
        except ValidationError as exc:
            add_service_errors(zone, exc)
        else:
            messages.success(request, f"Time zone saved: {workspace.zone}.")
            return redirect("workspaces:settings")
    elif posted is not None and section not in ("retention", "time_zone"):
        messages.error(request, "Nothing was saved: send one of the forms on this page.")
    context = {
        "form": retention,
        "zone_form": zone,
        "zone_options": ordered_zones(workspace.country, workspace.zone),
        "can_change": role_allows(request.membership.role, OWN),
    }
    return render(request, "workspaces/settings.html", context)


# API tokens --------------------------------------------------------------------------------


@workspace_view(OWN)
def token_list(request):
    created = None
    if request.method == "POST":
        try:
            new = services.api_token_create(
                workspace=request.workspace, name=request.POST.get("name", ""), user=request.user
            )
        except ValidationError as exc:
            _errors(request, exc)
            return redirect("workspaces:tokens")
        # Rendered, not redirected: the secret is shown on this one response and never again.
        created = new
    tokens = ApiToken.objects.filter(workspace=request.workspace).select_related("created_by")
    page = Paginator(tokens, 50).get_page(request.GET.get("page"))
    # The runtime's URL for a number, with "{number}" to fill in (the page's copy button).
    live_api_url = request.build_absolute_uri(reverse("api:live", args=["NUMBER"]))
    context = {
        "page": page,
        "created": created,
        "live_api_url": live_api_url.replace("NUMBER", "{number}"),
    }
    return render(request, "workspaces/token_list.html", context)


@workspace_view(OWN)
def token_revoke(request, pk):
    """GET, or a POST without the confirmation: who will be refused. The confirming POST revokes."""
    token = get_object_or_404(ApiToken, pk=pk, workspace=request.workspace)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        services.api_token_revoke(token=token, user=request.user)
        messages.success(request, f"Token “{token.name}” revoked.")
        return redirect("workspaces:tokens")
    context = {
        "title": f"Revoke the token “{token.name}”?",
        "lines": [
            f"The telephony runtime using “{token.name}” ({token.prefix}…) will be refused "
            "from its next request.",
            "If the runtime should keep working, create a new token and give it to the runtime "
            "first. A revoked token cannot be used again.",
        ],
        "hidden": {},
        "refusal": "" if token.is_active else f"The token “{token.name}” is already revoked.",
        "cancel_url": reverse("workspaces:tokens"),
    }
    return render(request, "confirm.html", context)


# Activity --------------------------------------------------------------------------------

ACTIVITY_PAGE_SIZE = 50


@workspace_view(EDIT)
def activity(request):
    """The workspace's audit log for owners and admins: newest first, filtered, paginated.

    A constant number of queries per page: the events with their actors, the count, the
    people of the filter, and one query per object type to link what still exists.
    """
    form = ActivityFilterForm(
        request.GET,
        people=selectors.workspace_people(workspace=request.workspace),
        actions=ACTIONS,
        object_types=selectors.OBJECT_TYPES,
    )
    events = selectors.audit_events(workspace=request.workspace, **form.filters())
    page = Paginator(events, ACTIVITY_PAGE_SIZE).get_page(request.GET.get("page"))
    links = selectors.audit_links(page.object_list, workspace=request.workspace)
    rows = [
        {
            "event": event,
            "words": ACTIONS.get(event.action, event.action),
            "link": links.get(event.pk),
            "summary": _summary(event),
        }
        for event in page.object_list
    ]
    return render(request, "workspaces/activity.html", {"form": form, "page": page, "rows": rows})


def _summary(event) -> str:
    """The key details of an event, in a few words ("version 2 → 3")."""
    d = event.details or {}
    if event.action.startswith("callflow."):
        text = f"version {d.get('before') or '–'} → {d.get('after')}"
        if d.get("rolled_back_to"):
            text += f" (a copy of version {d['rolled_back_to']})"
        return f"{text}: “{d['note']}”" if d.get("note") else text
    if event.action in {"number.renamed", "member.role_changed"}:
        return f"{d.get('before')} → {d.get('after')}"
    if event.action in {"step.moved", "step.job_moved"}:
        text = f"position {d.get('before')} → {d.get('after')}"
        return f"“{d['job_name']}”, {text}" if d.get("job_name") else text
    if event.action.startswith("step.job_"):
        return f"“{d.get('job_name', '')}”"
    if d.get("fields"):
        return "changed " + ", ".join(d["fields"])
    if event.action == "job.imported":
        return f"{d.get('unchanged', 0)} unchanged"
    if event.action == "workspace.retention_changed":
        before, after = d.get("before") or {}, d.get("after") or {}
        return (
            f"calls {before.get('call_retention_days')} → {after.get('call_retention_days')} "
            f"days, transcripts {before.get('transcript_retention_days') or 'as calls'} → "
            f"{after.get('transcript_retention_days') or 'as calls'}"
        )
    if event.action == "call.pruned":
        return f"by prune_calls: {event.object_label}"
    if event.action.endswith(".purged"):
        went = ""
        if event.action == "number.purged":
            went = f" with {d.get('versions', 0)} version(s), {d.get('scenarios', 0)} scenario(s)"
        return f"by purge_deleted{went}: deleted on {str(d.get('deleted_at', ''))[:10]}"
    if event.action == "write.refused":
        return f"tried to {d.get('attempted', '')}"
    if event.action == "alert.raised":
        return "by the alert check"
    if event.action == "alert.resolved" and d.get("automatic"):
        return "by the alert check: the problem cleared"
    return ""
