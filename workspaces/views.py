from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import services
from .errors import error_messages
from .forms import InviteForm, RoleForm, parse_id
from .middleware import SESSION_KEY
from .models import ApiToken, Membership
from .permissions import OWN, workspace_view


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
    messages.info(request, f"Switched to {membership.workspace.name}.")
    return redirect(local_path(request, request.POST.get("next") or request.GET.get("next")))


def local_path(request, target: str | None, default: str = "jobs:list") -> str:
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


@require_POST
@workspace_view(OWN)
def member_invite(request):
    form = InviteForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("workspaces:members")
    try:
        membership = services.membership_invite(
            workspace=request.workspace, user=request.user, **form.cleaned_data
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(
            request, f"{membership.user.email} added as {membership.get_role_display()}."
        )
    return redirect("workspaces:members")


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


@require_POST
@workspace_view(OWN)
def member_remove(request, pk):
    membership = _membership(request, pk)
    try:
        services.membership_remove(membership=membership, user=request.user)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, f"{membership.user.email} removed from the workspace.")
    return redirect("workspaces:members")


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
    return render(request, "workspaces/token_list.html", {"page": page, "created": created})


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
