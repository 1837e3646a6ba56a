"""The shell every page shares (templates/base.html): favicon, the current section in the main
menu, and the list pages' empty states that say what to do next."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import CallFactory, JobFactory

pytestmark = pytest.mark.django_db


def test_favicon_ico_redirects_to_the_svg_icon_every_page_links(client, owner_client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.svg"
    svg = Path(settings.BASE_DIR, "static", "favicon.svg").read_text()
    assert svg.startswith("<svg") and "<script" not in svg
    html = owner_client.get(reverse("jobs:list")).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html


def _words(html: str) -> str:
    """A link's visible words: tags (its icon) left out."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def current_section(client, url) -> list[str]:
    """The names of the main menu's links marked aria-current (the current section)."""
    html = client.get(url).content.decode()
    nav = re.search(r'<nav aria-label="Main".*?</nav>', html, re.S).group(0)
    return [
        _words(a) for a in re.findall(r'<a href="[^"]*" aria-current="page">(.*?)</a>', nav, re.S)
    ]


def test_the_menu_marks_the_current_section(owner_client, workspace, phone, sona):
    job = JobFactory(workspace=workspace)
    call = CallFactory(workspace=workspace)
    pages = {
        reverse("jobs:list"): "Jobs",
        reverse("jobs:detail", args=[job.pk]): "Jobs",
        reverse("calls:job_test", args=[job.pk]): "Jobs",  # a job's test: the job's section
        reverse("knowledge:list"): "Knowledge",
        reverse("callflows:list"): "Phone numbers",
        reverse("callflows:editor", args=[phone.pk]): "Phone numbers",
        reverse("calls:test_sona", args=[phone.pk, sona.pk]): "Phone numbers",
        reverse("calls:tests", args=[phone.pk, sona.pk]): "Phone numbers",
        reverse("calls:list"): "Calls",
        reverse("calls:detail", args=[call.pk]): "Calls",
        reverse("workspaces:members"): "Members",
        reverse("workspaces:tokens"): "API tokens",  # its own menu item, not only via Members
        reverse("workspaces:activity"): "Activity",
        reverse("workspaces:invitations"): "Invitations",
        reverse("workspaces:settings"): "Settings",
        reverse("home"): "Home",
    }
    for url, section in pages.items():
        assert current_section(owner_client, url) == [section], url
    assert current_section(owner_client, reverse("profile")) == []


def _menu(client) -> dict[str, str]:
    """{link words: href} of the main menu."""
    nav = client.get(reverse("jobs:list")).text.split('class="main-nav"', 1)[1].split("</nav>")[0]
    return {
        _words(a): href for href, a in re.findall(r'<a href="([^"]*)"[^>]*>(.*?)</a>', nav, re.S)
    }


def test_api_tokens_are_in_the_menu_for_owners(owner_client):
    assert _menu(owner_client)["API tokens"] == reverse("workspaces:tokens")


def test_every_menu_link_has_an_icon_hidden_from_screen_readers(owner_client):
    nav = owner_client.get(reverse("jobs:list")).text.split('class="main-nav"', 1)[1]
    links = re.findall(r"<a [^>]*>(.*?)</a>", nav.split("</nav>")[0], re.S)
    assert len(links) >= 10
    css = Path(settings.BASE_DIR, "static", "css", "app.css").read_text()
    for link in links:
        name = re.match(r'\s*<span class="icon icon-([\w-]+)" aria-hidden="true"></span>', link)
        assert name, link
        assert f'.icon-{name[1]} {{ --icon: url("../icons/{name[1]}.svg"); }}' in css
        assert Path(settings.BASE_DIR, "static", "icons", f"{name[1]}.svg").is_file()


def test_the_phone_menu_button_controls_the_sidebar(owner_client):
    html = owner_client.get(reverse("jobs:list")).text
    assert (
        '<button type="button" class="menu-toggle" aria-expanded="false" '
        'aria-controls="sidebar-body">' in html
    )
    assert 'id="sidebar-body"' in html and '<script src="/static/js/early.js"></script>' in html


def test_members_have_no_api_tokens_in_the_menu(member_client):
    assert "API tokens" not in _menu(member_client)


def test_empty_job_library_offers_templates_and_a_blank_job(owner_client):
    html = owner_client.get(reverse("jobs:list")).content.decode()
    assert "No jobs yet." in html
    assert (
        f'<a class="button primary" href="{reverse("jobs:new")}">Start from a template</a>' in html
    )
    assert f'href="{reverse("jobs:create")}">Write a job from scratch</a>' in html


def test_empty_job_library_for_a_member_has_no_create_buttons(member_client):
    # A member cannot create jobs: the sentence stays, the buttons go.
    html = member_client.get(reverse("jobs:list")).content.decode()
    assert "No jobs yet." in html and "Start from a template" not in html


def test_a_search_without_results_says_so_with_the_query_escaped(owner_client, workspace):
    JobFactory(workspace=workspace, name="Take a message")
    html = owner_client.get(reverse("jobs:list"), {"q": "<b>zebra</b>"}).content.decode()
    assert "No job matches “&lt;b&gt;zebra&lt;/b&gt;”." in html
    assert "Start from a template" not in html


def test_other_empty_lists_name_their_next_step(owner_client):
    knowledge = owner_client.get(reverse("knowledge:list")).content.decode()
    assert "No knowledge pages yet." in knowledge
    assert f'href="{reverse("knowledge:create")}">Write a page</a>' in knowledge
    calls = owner_client.get(reverse("calls:list")).content.decode()
    assert "No calls yet." in calls
    assert f'href="{reverse("callflows:list")}">Go to phone numbers</a>' in calls
    numbers = owner_client.get(reverse("callflows:list")).content.decode()
    assert "No phone numbers yet." in numbers and 'id="add-number"' in numbers


def test_list_tables_sit_in_their_own_box_and_stack_on_phones(owner_client, workspace):
    JobFactory(workspace=workspace)
    html = owner_client.get(reverse("jobs:list")).content.decode()
    assert re.search(r'<div class="table-wrap">\s*<table class="jobs stack">', html)
