"""Working a case in the console: a report arrives, a moderator notes, assigns and acts."""

from __future__ import annotations

from kabar.accounts.models import Role
from kabar.moderation.hashing import sha256_hex
from support.api import Api
from support.console import (
    Console,
    assert_console_page,
    case_id_for,
    make_moderator,
    reported_article,
)
from support.images import encode, photo
from support.server import RunningServer


async def test_a_moderator_works_a_case_end_to_end_through_the_forms(
    server: RunningServer, api: Api
) -> None:
    author, reader, article = await reported_article(api)
    moderator = await make_moderator(server, api)
    public_page = f"/@{article['handle']}/{article['slug']}"
    assert (await api.http.get(public_page)).status_code == 200
    async with Console(server.base_url) as browser:
        assert (await browser.login(moderator.username)).status_code == 303
        case_id = await case_id_for(browser, "Cheap pills")
        case_path = f"/console/cases/{case_id}"
        page = await browser.get(case_path)
        assert_console_page(page)
        assert "Buy now, buy often." in page.text  # the content as reported
        assert f"@{reader.username}" in page.text  # moderators see who reported
        assert "buy cheap pills" in page.text
        # The action select offers only what each item allows: child safety has no label.
        assert 'value="spam:label"' in page.text
        assert 'value="child_safety:label"' not in page.text
        assert 'value="child_safety:remove_content"' in page.text

        noted = await browser.submit(case_path, f"{case_path}/notes", {"text": "Looks like spam."})
        assert noted.status_code == 303
        assigned = await browser.submit(
            case_path, f"{case_path}/assign", {"assignee": moderator.username}
        )
        assert assigned.status_code == 303
        page = await browser.get(assigned.headers["location"])
        assert "Assignment saved." in page.text
        assert "Looks like spam." in page.text
        mine = await browser.get("/console?assigned=me")
        assert case_id in mine.text

        no_reason = await browser.submit(
            case_path, f"{case_path}/actions", {"decision": "spam:remove_content", "rationale": " "}
        )
        assert no_reason.status_code == 400
        assert "Write a rationale" in no_reason.text
        assert_console_page(no_reason, status=400)
        not_allowed = await browser.submit(
            case_path,
            f"{case_path}/actions",
            {"decision": "child_safety:label", "rationale": "x", "label": "hm"},
        )
        assert not_allowed.status_code in (400, 403)
        assert (await api.http.get(public_page)).status_code == 200

        acted = await browser.submit(
            case_path,
            f"{case_path}/actions",
            {"decision": "spam:remove_content", "rationale": "Commercial spam for pills."},
        )
        assert acted.status_code == 303, acted.text[:500]
        done = await browser.get(acted.headers["location"])
        assert "Action taken" in done.text
        assert "Commercial spam for pills." in done.text
        assert "Take this action" not in done.text  # closed: no action form any more
        assert (await api.http.get(public_page)).status_code == 404
        assert case_id not in (await browser.get("/console")).text
        assert case_id in (await browser.get("/console?status=closed")).text

    notices = await api.call("GET", "/v1/notices", author)
    assert [n["rationale"] for n in notices["notices"]] == ["Commercial spam for pills."]
    assert reader.username not in str(notices)  # the reported party never learns who reported


async def test_restrictions_take_a_duration_and_labels_a_text(
    server: RunningServer, api: Api
) -> None:
    author, _, _ = await reported_article(api)
    moderator = await make_moderator(server, api, Role.ADMIN)
    async with Console(server.base_url) as browser:
        assert (await browser.login(moderator.username)).status_code == 303
        case_path = f"/console/cases/{await case_id_for(browser, 'Cheap pills')}"
        bad = await browser.submit(
            case_path,
            f"{case_path}/actions",
            {"decision": "spam:restrict_publishing", "rationale": "r", "duration_days": "soon"},
        )
        assert bad.status_code == 400
        assert "whole number of days" in bad.text
        assert 'value="soon"' in bad.text  # what was typed is kept
        restricted = await browser.submit(
            case_path,
            f"{case_path}/actions",
            {
                "decision": "spam:restrict_publishing",
                "rationale": "Repeated spam.",
                "duration_days": "7",
            },
        )
        assert restricted.status_code == 303, restricted.text[:500]
        assert "For 7 days" in (await browser.get(case_path)).text

        other_author, _, _ = await reported_article(api)
        case_path = f"/console/cases/{await case_id_for(browser, 'Cheap pills')}"
        labelled = await browser.submit(
            case_path,
            f"{case_path}/actions",
            {
                "decision": "spam:label",
                "rationale": "Advertising, not news.",
                "label": "Advertisement",
                "duration_days": "3",  # ignored: a label has no duration
            },
        )
        assert labelled.status_code == 303, labelled.text[:500]
        assert "“Advertisement”" in (await browser.get(case_path)).text
    [restriction] = (await api.call("GET", "/v1/notices", author))["notices"]
    assert (restriction["action"], restriction["duration_days"]) == ("restrict_publishing", 7)
    [label] = (await api.call("GET", "/v1/notices", other_author))["notices"]
    assert (label["action"], label["label"]) == ("label", "Advertisement")


async def test_an_unknown_case_is_a_console_404(server: RunningServer, api: Api) -> None:
    moderator = await make_moderator(server, api)
    async with Console(server.base_url) as browser:
        assert (await browser.login(moderator.username)).status_code == 303
        missing = await browser.get("/console/cases/c_nothing_here")
        assert_console_page(missing, status=404)
        assert "There is no such case" in missing.text
        stale = await browser.get("/console?cursor=garbage")
        assert_console_page(stale)


async def test_a_hash_match_opens_a_case_whose_image_shows_only_when_asked(
    server: RunningServer, api: Api
) -> None:
    admin = await make_moderator(server, api, Role.ADMIN)
    listed = encode(photo(7))
    csv = f"type,value,list,action\nsha256,{sha256_hex(listed)},provider-a,open_case\n"
    await api.call(
        "POST",
        "/v1/admin/hash-lists/import",
        admin,
        content=csv.encode(),
        headers={"Content-Type": "text/csv"},
    )
    uploader = await api.register()
    upload = await api.call("POST", "/v1/media/images", uploader, content=listed)
    async with Console(server.base_url) as browser:
        assert (await browser.login(admin.username)).status_code == 303
        case_id = await case_id_for(browser, "an uploaded image")
        page = await browser.get(f"/console/cases/{case_id}")
        assert_console_page(page)
        assert "hash match" in page.text
        assert "provider-a" in page.text
        image = upload["image"]["url"].rsplit("/media/", 1)[1]
        assert '<details class="reveal">' in page.text
        assert f'src="/media/{image}"' in page.text
        assert (await browser.get(f"/media/{image}")).status_code == 200
        acted = await browser.submit(
            f"/console/cases/{case_id}",
            f"/console/cases/{case_id}/actions",
            {"decision": "other:remove_content", "rationale": "Listed by provider A."},
        )
        assert acted.status_code == 303, acted.text[:500]
        assert (await api.http.get(f"/media/{image}")).status_code == 404


async def test_suspending_a_reported_account_from_its_case_ends_its_sessions(
    server: RunningServer, api: Api
) -> None:
    impostor, reader = await api.register(), await api.register()
    await api.call(
        "POST",
        "/v1/moderation/reports",
        reader,
        json={
            "target": {"type": "account", "id": impostor.username},
            "policy_item": "impersonation",
            "note": "pretends to be the mayor",
        },
    )
    moderator = await make_moderator(server, api)
    async with Console(server.base_url) as browser:
        assert (await browser.login(moderator.username)).status_code == 303
        case_path = f"/console/cases/{await case_id_for(browser, f'@{impostor.username}')}"
        page = await browser.get(case_path)
        assert "pretends to be the mayor" in page.text
        assert 'value="impersonation:suspend"' in page.text
        acted = await browser.submit(
            case_path,
            f"{case_path}/actions",
            {
                "decision": "impersonation:suspend",
                "rationale": "Impersonates a public official.",
                "duration_days": "30",
            },
        )
        assert acted.status_code == 303, acted.text[:500]
    suspended = await api.http.get("/v1/account", headers=impostor.headers)
    assert (suspended.status_code, suspended.json()["code"]) == (403, "account_suspended")


async def test_a_moderator_opens_a_case_from_the_queue(server: RunningServer, api: Api) -> None:
    author = await api.register()
    await api.publish_keys(author)
    account = await api.call(
        "POST",
        "/v1/public/accounts",
        author,
        json={"handle": f"h{author.username[-8:]}", "name": "Pill Shop", "kind": "media"},
    )
    moderator = await make_moderator(server, api)
    async with Console(server.base_url) as browser:
        assert (await browser.login(moderator.username)).status_code == 303
        queue = await browser.get("/console")
        assert_console_page(queue)
        assert "Open a case" in queue.text
        refused = await browser.submit(
            "/console",
            "/console/cases",
            {"target_type": "public_account", "target_id": "@nobody_here", "policy_item": "spam"},
        )
        assert refused.status_code == 404
        assert_console_page(refused, status=404)
        assert "nobody_here" in refused.text  # the form keeps what was typed
        opened = await browser.submit(
            "/console",
            "/console/cases",
            {
                "target_type": "public_account",
                "target_id": f"@{account['handle']}",
                "policy_item": "spam",
                "note": "Only advertising.",
            },
        )
        assert opened.status_code == 303, opened.text[:500]
        page = await browser.get(opened.headers["location"])
        assert "Case opened" in page.text
        assert "Only advertising." in page.text
        assert f"@{moderator.username}" in page.text
        again = await browser.submit(
            "/console",
            "/console/cases",
            {"target_type": "public_account", "target_id": account["id"], "policy_item": "spam"},
        )
        assert again.status_code == 303
        assert again.headers["location"] == opened.headers["location"].replace("opened", "joined")
        listed = await browser.get("/console")
        assert "moderator" in listed.text
    case = await api.call("GET", "/v1/moderation/cases?status=open", moderator)
    mine = [c for c in case["cases"] if c["target"]["id"] == account["id"]]
    assert [(c["source"], c["report_count"]) for c in mine] == [("moderator", 2)]
