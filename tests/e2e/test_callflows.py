"""Phone numbers and their call flows in a real browser: add a number, edit the draft, attach
jobs to the Sona step (at most 10), publish, and publish an old version again.

The accessible names used here are a contract: links "Phone numbers", "Call flow of <name>",
"Jobs of step <name>", "Publish", "Versions"; buttons "Add number", "Add step",
"Attach <job name>", "Detach <job name>", "Publish", "Publish version N again".
"""

import re

from playwright.sync_api import expect

from callflows import services
from callflows.models import CallFlowVersion, PhoneNumber, StepKind
from tests.conftest import attached_names, sona_of
from tests.factories import JobFactory

NUMBER = "+15550100199"  # "+1 555 010 0199" as typed, in E.164


def make_jobs(workspace, count=11):
    """Jobs named "Job 01" … "Job 11", so no name is the start of another."""
    return [JobFactory(workspace=workspace, name=f"Job {i:02d}") for i in range(1, count + 1)]


def make_number(membership):
    return services.phone_number_create(
        workspace=membership.workspace,
        number=NUMBER,
        display_name="Support line",
        user=membership.user,
    )


def go_to_numbers(page):
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Phone numbers", exact=True).click()
    expect(page.get_by_role("heading", name="Phone numbers", level=1)).to_be_visible()


def open_editor(page, live_server, phone):
    page.goto(f"{live_server.url}/numbers/{phone.pk}/")
    expect(page.get_by_role("heading", name=re.compile(r"^Support line"), level=1)).to_be_visible()


def status(page, text):
    """The one status region (message list or draft status) that contains `text`."""
    return page.get_by_role("status").filter(has_text=text)


def test_add_a_number_then_a_step_shown_in_the_diagram(logged_in_page, owner_membership):
    page = logged_in_page
    make_jobs(owner_membership.workspace)
    go_to_numbers(page)
    expect(page.get_by_text("No phone numbers yet.")).to_be_visible()

    number = page.get_by_label("Phone number", exact=True)
    name = page.get_by_label("Name", exact=True)

    # Not a phone number: the form comes back with the error tied to the field.
    number.fill("12345")
    name.fill("Support line")
    page.get_by_role("button", name="Add number", exact=True).click()
    error = (
        "“12345” is not a phone number. Enter it in international format (+15551234567) "
        "or as a US number."
    )
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(number).to_have_accessible_description(re.compile(re.escape(error)))
    expect(page.get_by_role("alert")).to_have_text(error)
    expect(number).to_have_value("12345")
    expect(name).to_have_value("Support line")
    expect(page.get_by_text("No phone numbers yet.")).to_be_visible()
    assert not PhoneNumber.objects.exists()

    number.fill("+1 555 010 0199")
    page.get_by_role("button", name="Add number", exact=True).click()
    expect(status(page, f"Added “Support line” ({NUMBER}).")).to_be_visible()

    go_to_numbers(page)
    row = page.get_by_role("row").filter(has_text=NUMBER)
    expect(row.get_by_role("cell")).to_have_text(
        [NUMBER, "Support line", "Not published", "Call flow"]
    )
    page.get_by_role("link", name="Call flow of Support line", exact=True).click()

    expect(
        page.get_by_role("heading", name=f"Support line {NUMBER}", exact=True, level=1)
    ).to_be_visible()
    expect(status(page, "Not published yet.")).to_be_visible()
    # The diagram is a group named by its title, described step by step; its boxes are links.
    diagram = page.get_by_role("group", name="Diagram of the draft call flow of Support line")
    expect(diagram).to_be_visible()
    expect(diagram).to_have_accessible_description(
        re.compile(
            r"^Incoming call, then step 1: Sona \(Sona \(AI agent\); "
            r"jobs: none; knowledge: none\)\.$"
        )
    )
    expect(diagram.get_by_text("Sona", exact=True)).to_be_visible()

    page.get_by_label("Step kind", exact=True).select_option(label="Greeting / play message")
    page.get_by_label("Step name", exact=True).fill("Welcome")
    page.get_by_role("button", name="Add step", exact=True).click()

    expect(status(page, "Step “Welcome” added at the end of the draft.")).to_be_visible()
    expect(diagram).to_have_accessible_description(
        re.compile(
            r"step 1: Sona \(.*\), then step 2: Welcome "
            r"\(Greeting / play message; Thanks for calling\.\)\.$"
        )
    )
    expect(diagram.get_by_text("Welcome", exact=True)).to_be_visible()
    expect(diagram.get_by_text("2 · Greeting / play message", exact=True)).to_be_visible()
    expect(status(page, "Not published yet.")).to_be_visible()

    phone = PhoneNumber.objects.get()
    assert (phone.number, phone.display_name, phone.workspace) == (
        NUMBER,
        "Support line",
        owner_membership.workspace,
    )
    steps = phone.call_flow.steps.order_by("position").values_list("kind", "name")
    assert list(steps) == [(StepKind.SONA, "Sona"), (StepKind.GREETING, "Welcome")]


def test_attach_at_most_ten_jobs_without_reloading_the_page(
    logged_in_page, live_server, owner_membership
):
    page = logged_in_page
    jobs = make_jobs(owner_membership.workspace)
    phone = make_number(owner_membership)
    open_editor(page, live_server, phone)
    page.get_by_role("link", name="Jobs of step Sona", exact=True).click()
    expect(
        page.get_by_role("heading", name="Jobs of the Sona step “Sona”", level=1)
    ).to_be_visible()
    expect(page.get_by_text("0 / 10 jobs attached", exact=True)).to_be_visible()
    jobs_url = page.url

    # A full page load would wipe this marker; an htmx swap keeps it.
    page.evaluate("window.__jobsMarker = 'still here'")
    for n, job in enumerate(jobs[:10], start=1):
        page.get_by_role("button", name=f"Attach {job.name}", exact=True).click()
        expect(page.get_by_text(f"{n} / 10 jobs attached", exact=True)).to_be_visible()
        expect(page.get_by_role("status")).to_have_text(f"Attached “{job.name}”.")
        expect(page.get_by_role("button", name=f"Detach {job.name}", exact=True)).to_be_visible()
    assert page.evaluate("window.__jobsMarker") == "still here"

    # The 11th is refused, and the count stays at 10.
    eleventh = jobs[10]
    page.get_by_role("button", name=f"Attach {eleventh.name}", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("A Sona step can have at most 10 jobs")
    expect(page.get_by_text("10 / 10 jobs attached", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name=f"Detach {eleventh.name}")).to_have_count(0)

    page.get_by_role("button", name=f"Detach {jobs[2].name}", exact=True).click()
    expect(page.get_by_text("9 / 10 jobs attached", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(
        f"Detached “{jobs[2].name}”. It stays in the job library."
    )
    expect(page.get_by_role("button", name=f"Attach {jobs[2].name}", exact=True)).to_be_visible()
    assert page.evaluate("window.__jobsMarker") == "still here"
    assert page.url == jobs_url

    expected = [job.name for job in jobs[:10] if job != jobs[2]]
    attached = page.get_by_role("region", name="Attached jobs").get_by_role("listitem")
    expect(attached.get_by_role("link")).to_have_text(expected)
    assert attached_names(sona_of(phone)) == expected


def publish(page, note: str, changes: dict[str, list[str]]):
    """From the editor: open the preview, check the listed changes, publish with a note."""
    page.get_by_role("link", name="Publish", exact=True).click()
    expect(
        page.get_by_role("heading", name="Publish the call flow of Support line", level=1)
    ).to_be_visible()
    for change, job_names in changes.items():
        item = page.get_by_role("listitem").filter(has_text=change)
        expect(item).to_be_visible()
        if job_names:
            expect(item.get_by_role("listitem")).to_have_text(job_names)
    page.get_by_label("Note", exact=True).fill(note)
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(
        page.get_by_role("heading", name="Published versions of Support line", level=1)
    ).to_be_visible()


def test_publish_twice_then_publish_version_1_again(logged_in_page, live_server, owner_membership):
    page = logged_in_page
    user = owner_membership.user
    jobs = make_jobs(owner_membership.workspace, count=3)
    phone = make_number(owner_membership)
    sona = sona_of(phone)
    for job in jobs:
        services.step_attach_job(step=sona, job=job, user=user)
    names = [job.name for job in jobs]

    open_editor(page, live_server, phone)
    publish(page, "First go live.", {"Step added: “Sona” with jobs": names})
    expect(status(page, "Published version 1.")).to_be_visible()

    # Change the draft: detach a job on the jobs page, then publish again.
    page.get_by_role("link", name="Back to the call flow of Support line", exact=True).click()
    expect(status(page, "The draft is the same as the live version (version 1).")).to_be_visible()
    page.get_by_role("link", name="Jobs of step Sona", exact=True).click()
    page.get_by_role("button", name=f"Detach {jobs[1].name}", exact=True).click()
    expect(page.get_by_text("2 / 10 jobs attached", exact=True)).to_be_visible()
    page.get_by_role("link", name="Back to the call flow of Support line", exact=True).click()
    expect(status(page, "The draft has unpublished changes. Version 1 is live.")).to_be_visible()
    publish(page, "Without Job 02.", {"Jobs detached from “Sona”:": [jobs[1].name]})
    expect(status(page, "Published version 2.")).to_be_visible()

    # Publish version 1 again: it comes back as version 3, marked as a rollback.
    rows = page.get_by_role("row")
    expect(rows).to_have_count(3)  # header + 2 versions
    again = page.get_by_role("button", name="Publish this version again", exact=True)
    expect(again).to_have_count(1)  # version 2 is live: no button in its row
    row = rows.filter(has_text="Version 1")
    row.get_by_role("button", name="Publish this version again", exact=True).click()
    # Nothing is published yet: the page says what changes on the line and asks to confirm.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Publish version 1 of Support line again?"
    )
    expect(
        page.get_by_text(re.compile(r"^Version 1 will become live on Support line"))
    ).to_contain_text(f"“Sona” gains “{jobs[1].name}”")
    expect(
        page.get_by_text("Your draft has no unpublished changes, so it will follow version 1.")
    ).to_be_visible()
    assert CallFlowVersion.objects.filter(call_flow__phone_number=phone).count() == 2
    page.get_by_role("button", name="Confirm", exact=True).click()

    expect(status(page, "Version 1 is live again, published as version 3. ")).to_contain_text(
        "Your draft now matches the live version."
    )
    expect(rows).to_have_count(4)  # header + 3 versions, newest first
    newest = rows.nth(1).get_by_role("cell")
    expect(newest.nth(0)).to_have_text(re.compile(r"^Version 3 Live\s+rolled back from 1$"))
    expect(newest.nth(2)).to_have_text(user.email)
    expect(newest.nth(3)).to_have_text("Rollback to version 1")
    expect(rows.nth(1).get_by_role("button")).to_have_count(0)
    expect(rows.nth(2).get_by_role("cell").nth(0)).to_have_text("Version 2")
    expect(rows.nth(2).get_by_role("cell").nth(3)).to_have_text("Without Job 02.")
    expect(rows.nth(3).get_by_role("cell").nth(3)).to_have_text("First go live.")
    expect(rows.nth(2).get_by_role("button", name="Publish this version again")).to_be_visible()

    versions = {v.number: v for v in CallFlowVersion.objects.filter(call_flow__phone_number=phone)}
    assert sorted(versions) == [1, 2, 3]
    phone.call_flow.refresh_from_db()
    assert phone.call_flow.live_version == versions[3]
    assert versions[3].rolled_back_from == 1
    assert versions[3].snapshot == versions[1].snapshot
    assert versions[1].snapshot["steps"][0]["jobs"] == [job.pk for job in jobs]
    assert versions[2].snapshot["steps"][0]["jobs"] == [jobs[0].pk, jobs[2].pk]
    assert [v.published_by for v in versions.values()] == [user] * 3
    # The draft was the same as version 2, so it follows the rollback.
    assert attached_names(sona_of(phone)) == names
