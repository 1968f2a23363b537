"""Hash lists in the console: admins see lists with counts and upload a CSV."""

from __future__ import annotations

from kabar.accounts.models import Role
from support.api import Api
from support.console import Console, assert_console_page, make_moderator
from support.server import RunningServer

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
CSV = f"""type,value,list,action
pdq,{PDQ},provider-a,open_case
sha256,{SHA},known-spam,auto_remove
sha256,abc,known-spam,auto_remove
""".encode()


async def test_an_admin_uploads_a_csv_and_sees_the_lists_with_counts(
    server: RunningServer, api: Api
) -> None:
    admin = await make_moderator(server, api, Role.ADMIN)
    async with Console(server.base_url) as browser:
        assert (await browser.login(admin.username)).status_code == 303
        empty = await browser.get("/console/hash-lists")
        page = assert_console_page(empty)
        assert "/console/hash-lists" in page.nav_links()
        assert "No hash lists imported yet." in empty.text
        nothing = await browser.submit("/console/hash-lists", "/console/hash-lists/import", {})
        assert_console_page(nothing, status=400)
        assert "Choose a CSV file." in nothing.text

        imported = await browser.submit(
            "/console/hash-lists",
            "/console/hash-lists/import",
            {},
            files={"file": ("lists.csv", CSV, "text/csv")},
        )
        assert_console_page(imported)
        assert "2 hashes imported" in imported.text
        assert "1 line refused" in imported.text
        assert "Line 4:" in imported.text
        for name in ("provider-a", "known-spam", "Open a case", "Remove automatically"):
            assert name in imported.text
        again = await browser.submit(
            "/console/hash-lists",
            "/console/hash-lists/import",
            {},
            files={"file": ("lists.csv", CSV, "text/csv")},
        )
        assert "2 duplicates already listed" in again.text
        garbage = await browser.submit(
            "/console/hash-lists",
            "/console/hash-lists/import",
            {},
            files={"file": ("x.csv", b"no,header,here\n", "text/csv")},
        )
        assert_console_page(garbage, status=400)
    lists = await api.call("GET", "/v1/admin/hash-lists", admin)
    assert sorted((item["name"], item["entries"]) for item in lists["lists"]) == [
        ("known-spam", 1),
        ("provider-a", 1),
    ]


async def test_moderators_may_not_manage_hash_lists(server: RunningServer, api: Api) -> None:
    moderator = await make_moderator(server, api)
    async with Console(server.base_url) as browser:
        assert (await browser.login(moderator.username)).status_code == 303
        assert_console_page(await browser.get("/console/hash-lists"), status=403)
