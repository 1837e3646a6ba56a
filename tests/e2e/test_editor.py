"""The job editor in a real browser: Optimize and Undo, History, Compare, Restore, conflicts.

The accessible names used here are a contract: buttons "Optimize", "Undo", "Compare",
"Restore this version", "Save"; links "History" and "Restore version N".
"""

import re

import pytest
from playwright.sync_api import expect

from jobs import services
from jobs.models import Job
from jobs.optimizer import optimize
from tests.conftest import history_reasons
from tests.e2e.conftest import TIMEOUT_MS, expect_console_error, login, watch_console
from tests.factories import MembershipFactory
from workspaces.models import Role

MESSY = (
    "you should probably try to ask them their name. maybe tell them a visit costs $89.50 "
    "and we open at 9am. ask them their name."
)


def make_job(membership, **data):
    """A job saved through the services, so it starts with a real "created" version."""
    fields = {"name": "Front desk", "instructions": MESSY} | data
    return services.job_create(workspace=membership.workspace, user=membership.user, data=fields)


def instructions_history(job) -> list[str]:
    return list(job.history.order_by("history_id").values_list("instructions", flat=True))


@pytest.fixture
def other_page(browser):
    """A second, separate browser context (own cookies): a teammate at another computer."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = watch_console(context.new_page())
    yield page
    context.close()
    if page.console_log.unexpected():
        pytest.fail(page.console_log.message(), pytrace=False)


def test_optimize_then_undo_without_reloading_the_page(
    logged_in_page, live_server, owner_membership
):
    page = logged_in_page
    job = make_job(owner_membership)
    page.goto(f"{live_server.url}/jobs/{job.pk}/edit/")
    expect(page.get_by_role("heading", name="Edit “Front desk”", level=1)).to_be_visible()

    instructions = page.get_by_label("Instructions", exact=True)
    expect(instructions).to_have_value(MESSY)
    # An unsaved edit, typed key by key at the end of the text, with a line break.
    instructions.click()
    instructions.press("ControlOrMeta+End")
    typed = "\nAlso ask for their email."
    instructions.press_sequentially(typed)
    before_optimize = MESSY + typed
    expect(instructions).to_have_value(before_optimize)
    assert history_reasons(job) == ["created"]

    tools = page.get_by_role("group", name="Rewrite the instructions")
    expect(tools.get_by_role("button", name="Undo")).to_have_count(0)

    # A full page load would wipe this marker; an htmx swap keeps it.
    page.evaluate("window.__editorMarker = 'still here'")
    tools.get_by_role("button", name="Optimize", exact=True).click()

    result = page.get_by_role("status").filter(has_text="Optimized and saved.")
    expect(result).to_be_visible()
    assert page.evaluate("window.__editorMarker") == "still here"
    expect(page).to_have_url(re.compile(rf"/jobs/{job.pk}/edit/$"))

    expected = optimize(before_optimize)  # the builtin optimizer is deterministic
    expect(instructions).to_have_value(expected.text)
    optimized = instructions.input_value()
    assert re.match(r"(Caller intent:|1\.)", optimized), optimized
    assert "$89.50" in optimized and "9am" in optimized
    expect(result.get_by_role("listitem")).to_have_text(expected.changes)
    # The swapped-in field gets its live counter again.
    expect(instructions).to_have_accessible_description(
        re.compile(re.escape(f"{len(optimized):,} / 10,000 characters") + "$")
    )

    # Undo sits right beside Optimize.
    expect(tools.get_by_role("button")).to_have_text(["Optimize", "Undo"])
    undo = tools.get_by_role("button", name="Undo", exact=True)
    optimize_box = tools.get_by_role("button", name="Optimize", exact=True).bounding_box()
    undo_box = undo.bounding_box()
    assert abs(undo_box["y"] - optimize_box["y"]) < 5
    assert 0 <= undo_box["x"] - (optimize_box["x"] + optimize_box["width"]) < 40

    undo.click()
    expect(page.get_by_role("status").filter(has_text="Undone:")).to_be_visible()
    assert page.evaluate("window.__editorMarker") == "still here"
    # Exactly the text from before the optimize, typed edit and line break included.
    expect(instructions).to_have_value(before_optimize)
    expect(tools.get_by_role("button", name="Undo")).to_have_count(0)

    job.refresh_from_db()
    assert job.instructions == before_optimize
    assert history_reasons(job) == ["created", "edited", "optimized", "undo optimize"]
    assert instructions_history(job) == [MESSY, before_optimize, optimized, before_optimize]


def test_restore_an_old_version_from_history_and_compare(
    logged_in_page, live_server, owner_membership
):
    page = logged_in_page
    first = "1. Greet the caller.\n2. Ask for their name.\n3. Offer a callback tomorrow."
    second = "1. Greet the caller.\n2. Ask for their phone number.\n3. Offer a callback tomorrow."
    job = make_job(owner_membership, instructions=first)
    services.job_update(job=job, user=owner_membership.user, data={"instructions": second})

    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    page.get_by_role("link", name="History", exact=True).click()
    heading = page.get_by_role("heading", name="History of “Front desk”", level=1)
    expect(heading).to_be_visible()

    # Only older versions can be restored; the newest is already current.
    expect(page.get_by_role("link", name="Restore version 2")).to_have_count(0)
    page.get_by_role("link", name="Restore version 1", exact=True).click()

    expect(
        page.get_by_role("heading", name="Restore version 1 of “Front desk”?", level=1)
    ).to_be_visible()
    expect(page.get_by_text("Ask for their name.")).to_be_visible()
    page.get_by_role("button", name="Restore this version", exact=True).click()

    expect(heading).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Version 1 restored as the newest version.")
    versions = page.get_by_role("table", name="Versions, newest first.")
    rows = versions.get_by_role("row")
    expect(rows).to_have_count(4)  # header + 3 versions
    newest = rows.nth(1).get_by_role("cell")
    expect(newest.nth(0)).to_have_text("3")
    expect(newest.nth(3)).to_have_text("restored")
    expect(newest.nth(4)).to_have_text("instructions")

    job.refresh_from_db()
    assert job.instructions == first
    assert history_reasons(job) == ["created", "edited", "restored"]

    # Compare starts with the newest two versions picked: 2 (older side) and 3 (newer side).
    expect(page.get_by_role("radio", name="Compare version 2 as the older side")).to_be_checked()
    expect(page.get_by_role("radio", name="Compare version 3 as the newer side")).to_be_checked()
    page.get_by_role("button", name="Compare", exact=True).click()

    expect(
        page.get_by_role("heading", name="Compare versions of “Front desk”", level=1)
    ).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"^Version \d+ \(.*edited\)\s+→ version \d+ \(.*restored\)"))
    ).to_be_visible()
    expect(page.get_by_role("deletion").filter(has_text="phone")).to_have_text(
        ["removed: phone number."]
    )
    expect(page.get_by_role("insertion").filter(has_text="name")).to_have_text(["added: name."])
    # Side by side: the same changes, each in its version's column (axe checks this view too).
    page.get_by_role("navigation", name="Diff layout").get_by_role(
        "link", name="Side by side"
    ).click()
    columns = page.locator(".diff-columns").last.locator(":scope > div")
    expect(columns.first.get_by_role("deletion").filter(has_text="phone")).to_have_count(1)
    expect(columns.last.get_by_role("insertion").filter(has_text="name")).to_have_count(1)
    expect(columns.first.get_by_role("insertion")).to_have_count(0)


def test_restore_and_compare_pages_number_versions_like_the_history(
    logged_in_page, live_server, owner_membership
):
    page = logged_in_page
    job = make_job(owner_membership, instructions="1. Version one.")
    for text in ("1. Version two.", "1. Version three."):
        services.job_update(job=job, user=owner_membership.user, data={"instructions": text})
    page.goto(f"{live_server.url}/jobs/{job.pk}/history/")

    page.get_by_role("button", name="Compare", exact=True).click()
    expect(page.get_by_role("heading", name="Compare versions", level=1)).to_be_visible()
    # Read once, without waiting: the page is static, and an expect would wait its full timeout.
    assert re.search(r"Version 2 \(.*\)\s+→ version 3 \(", page.get_by_role("main").inner_text())

    page.get_by_role("link", name="Back to the history", exact=True).click()
    page.get_by_role("link", name="Restore version 2", exact=True).click()
    expect(
        page.get_by_role("heading", name="Restore version 2 of “Front desk”?", level=1)
    ).to_be_visible()
    page.get_by_role("button", name="Restore this version", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Version 2 restored as the newest version.")


def long_prices() -> str:
    """Just under the 10,000-character limit; the optimizer's rewrite would be over it."""
    text, i = "", 0
    while len(text) + len(sentence := f"Tell them the price of item {i} is ${i}.50. ") <= 9_990:
        text, i = text + sentence, i + 1
    return text.strip()


def test_save_after_a_refused_optimize_is_not_a_conflict(
    logged_in_page, live_server, owner_membership
):
    page = logged_in_page
    job = make_job(owner_membership, instructions="1. Greet the caller.")
    instructions = _edit(page, live_server, job)
    text = long_prices()
    instructions.fill(text)

    page.get_by_role("button", name="Optimize", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("over the 10,000-character limit")
    expect(instructions).to_have_value(text)
    job.refresh_from_db()
    assert (job.instructions, history_reasons(job)) == (text, ["created", "edited"])

    # Saving what the page shows must not collide with the user's own edit saved by Optimize.
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    # Read once, without waiting: today this is the conflict page.
    assert page.get_by_role("heading", level=1).inner_text() == "Front desk"


def _edit(page, live_server, job):
    page.goto(f"{live_server.url}/jobs/{job.pk}/edit/")
    expect(page.get_by_role("heading", name=f"Edit “{job.name}”", level=1)).to_be_visible()
    return page.get_by_label("Instructions", exact=True)


THEIRS = "1. Greet the caller.\n2. Ask for their name and phone number."
MINE = "1. Greet the caller warmly.\n2. Ask for their email address.\n3. Thank them."


def _stale_second_editor(page, other_page, live_server, owner_membership):
    """Two owners open the same job; the first saves THEIRS, the second types MINE on the
    now-stale page. Returns the job and the second owner's membership."""
    teammate = MembershipFactory(workspace=owner_membership.workspace, role=Role.OWNER)
    job = make_job(owner_membership)
    login(page, live_server, owner_membership.user.email)
    login(other_page, live_server, teammate.user.email)
    first = _edit(page, live_server, job)
    second = _edit(other_page, live_server, job)
    first.fill(THEIRS)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Job “Front desk” saved.")
    second.fill(MINE)
    return job, teammate


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ("Save mine as a new job", "Your text was saved as a new job, “Front desk (copy)”."),
        ("Keep the current version", "Saved. Both texts are in the job's history."),
        ("Save mine over it", "Saved. Both texts are in the job's history."),
    ],
    ids=["copy", "keep", "overwrite"],
)
def test_conflict_between_two_editors(
    page, other_page, live_server, owner_membership, choice, message
):
    job, teammate = _stale_second_editor(page, other_page, live_server, owner_membership)
    expect_console_error(other_page, "status of 409 \\(Conflict\\)")  # the conflict page's status
    other_page.get_by_role("button", name="Save", exact=True).click()

    expect(
        other_page.get_by_role("heading", name="was changed while you were editing", level=1)
    ).to_be_visible()
    expect(other_page.get_by_role("alert")).to_contain_text(
        f"{owner_membership.user.email} saved a newer version"
    )
    yours = other_page.locator("section").filter(
        has=other_page.get_by_role("heading", name="Your text", exact=True)
    )
    current = other_page.locator("section").filter(
        has=other_page.get_by_role("heading", name="Current text", exact=True)
    )
    expect(yours.get_by_text(re.compile("Ask for their email address"))).to_have_text(MINE)
    expect(current.get_by_text(re.compile("Ask for their name"))).to_have_text(THEIRS)
    job.refresh_from_db()
    assert (job.instructions, history_reasons(job)) == (THEIRS, ["created", "edited"])

    other_page.get_by_role("button", name=choice, exact=True).click()
    expect(other_page.get_by_role("status")).to_contain_text(message)

    job.refresh_from_db()
    history = instructions_history(job)
    if choice == "Save mine as a new job":
        expect(other_page.get_by_role("heading", name="Front desk (copy)", level=1)).to_be_visible()
        copy = Job.objects.get(workspace=job.workspace, name="Front desk (copy)")
        assert copy.instructions == MINE
        assert history_reasons(copy) == ["created"]
        assert job.instructions == THEIRS
        assert history == [MESSY, THEIRS]
    elif choice == "Keep the current version":
        expect(other_page.get_by_role("heading", name="Front desk", level=1)).to_be_visible()
        assert job.instructions == THEIRS
        assert history_reasons(job) == [
            "created",
            "edited",
            "edited (conflicting copy, not kept)",
            "kept the newer version",
        ]
        assert history == [MESSY, THEIRS, MINE, THEIRS]
    else:
        expect(other_page.get_by_role("heading", name="Front desk", level=1)).to_be_visible()
        assert job.instructions == MINE
        assert history_reasons(job) == ["created", "edited", "edited over a newer version"]
        assert history == [MESSY, THEIRS, MINE]
    assert Job.objects.filter(workspace=job.workspace).count() == (
        2 if choice == "Save mine as a new job" else 1
    )


def test_optimize_on_a_stale_page_shows_the_conflict_page(
    page, other_page, live_server, owner_membership
):
    job, teammate = _stale_second_editor(page, other_page, live_server, owner_membership)
    other_page.get_by_role("button", name="Optimize", exact=True).click()
    expect(
        other_page.get_by_role("heading", name="was changed while you were editing", level=1)
    ).to_be_visible()
    other_page.get_by_role("button", name="Save mine over it", exact=True).click()
    expect(other_page.get_by_role("status")).to_contain_text(
        "Saved. Both texts are in the job's history."
    )

    job.refresh_from_db()
    assert job.instructions == MINE
    assert instructions_history(job) == [MESSY, THEIRS, MINE]
