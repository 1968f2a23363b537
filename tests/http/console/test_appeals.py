"""Appeals and the audit log in the console."""

from __future__ import annotations

import re

from kabar.accounts.models import Role
from support.api import Api
from support.console import (
    Console,
    assert_console_page,
    case_id_for,
    csrf_of,
    make_moderator,
    reported_article,
)
from support.server import RunningServer

DECISION_FORM = re.compile(r'action="/console/appeals/([^"/]+)/decision"')


async def test_an_appeal_is_decided_by_another_moderator_and_restores_the_content(
    server: RunningServer, api: Api
) -> None:
    author, _, article = await reported_article(api)
    acting = await make_moderator(server, api)
    other = await make_moderator(server, api)
    public_page = f"/@{article['handle']}/{article['slug']}"
    async with Console(server.base_url) as first, Console(server.base_url) as second:
        assert (await first.login(acting.username)).status_code == 303
        assert (await second.login(other.username)).status_code == 303
        case_path = f"/console/cases/{await case_id_for(first, 'Cheap pills')}"
        acted = await first.submit(
            case_path,
            f"{case_path}/actions",
            {"decision": "spam:remove_content", "rationale": "Pill spam."},
        )
        assert acted.status_code == 303
        assert (await api.http.get(public_page)).status_code == 404
        notice = (await api.call("GET", "/v1/notices", author))["notices"][0]
        await api.call(
            "POST",
            f"/v1/notices/{notice['id']}/appeal",
            author,
            json={"statement": "It was a joke about vitamins."},
        )

        mine = await first.get("/console/appeals")
        assert_console_page(mine)
        assert "It was a joke about vitamins." in mine.text
        assert "another moderator must decide it" in mine.text
        assert not DECISION_FORM.search(mine.text)  # no form for the moderator who acted
        theirs = await second.get("/console/appeals")
        assert_console_page(theirs)
        appeal_id = DECISION_FORM.search(theirs.text)
        assert appeal_id is not None
        # The acting moderator posting the form anyway is refused, with the reason.
        forced = await first.http.post(
            f"/console/appeals/{appeal_id.group(1)}/decision",
            data={"decision": "deny", "rationale": "No.", "csrf": csrf_of(mine.text)},
        )
        assert forced.status_code == 403
        assert "another moderator must decide it" in forced.text
        assert (await api.http.get(public_page)).status_code == 404

        empty = await second.submit(
            "/console/appeals",
            f"/console/appeals/{appeal_id.group(1)}/decision",
            {"decision": "grant", "rationale": ""},
        )
        assert empty.status_code == 400
        assert "Write a rationale" in empty.text
        granted = await second.submit(
            "/console/appeals",
            f"/console/appeals/{appeal_id.group(1)}/decision",
            {"decision": "grant", "rationale": "Satire, not spam."},
        )
        assert granted.status_code == 303
        page = await second.get(granted.headers["location"])
        assert "Appeal granted" in page.text
        assert "It was a joke about vitamins." not in page.text  # no longer pending
        history = await second.get("/console/appeals?status=granted")
        assert "Satire, not spam." in history.text
    assert (await api.http.get(public_page)).status_code == 200
    notice = (await api.call("GET", "/v1/notices", author))["notices"][0]
    assert notice["appeal"]["status"] == "granted"


async def test_the_audit_log_is_for_admins(server: RunningServer, api: Api) -> None:
    await reported_article(api)
    moderator = await make_moderator(server, api)
    admin = await make_moderator(server, api, Role.ADMIN)
    async with Console(server.base_url) as mod_browser, Console(server.base_url) as admin_browser:
        assert (await mod_browser.login(moderator.username)).status_code == 303
        assert (await admin_browser.login(admin.username)).status_code == 303
        case_path = f"/console/cases/{await case_id_for(mod_browser, 'Cheap pills')}"
        noted = await mod_browser.submit(case_path, f"{case_path}/notes", {"text": "checking"})
        assert noted.status_code == 303
        refused = await mod_browser.get("/console/audit")
        assert_console_page(refused, status=403)
        assert "Only admins" in refused.text
        page = assert_console_page(await admin_browser.get("/console/audit"))
        assert "/console/audit" in page.nav_links()
        log = await admin_browser.get("/console/audit")
        assert f"@{moderator.username}" in log.text
        assert_console_page(await admin_browser.get("/console/audit?cursor=garbage"))
