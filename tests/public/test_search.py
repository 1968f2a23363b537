"""Discovery search: the same queries find the same things on SQLite (FTS5) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from support.api import Api
from support.public import create_account, publish, publish_new


async def search(api: Api, q: str) -> tuple[list[str], list[str]]:
    found: dict[str, Any] = await api.call("GET", "/v1/public/search", params={"q": q})
    return [a["handle"] for a in found["accounts"]], [a["title"] for a in found["articles"]]


async def test_accounts_and_articles_are_found_by_their_words(api: Api) -> None:
    editor = await api.register()
    await api.publish_keys(editor)
    bakery = (
        await create_account(
            api,
            editor,
            handle="corner_bakery",
            name="Corner Bakery",
            bio="Sourdough every morning.",
        )
    )["handle"]
    lab = (await create_account(api, editor, name="Marine Robotics Lab", kind="organisation"))[
        "handle"
    ]
    await publish_new(api, editor, bakery, "# Rye bread, slowly\n\nA long rye fermentation.")
    await publish_new(api, editor, bakery, "# Sourdough starter care\n\nFeed it flour daily.")
    kelp = await publish_new(api, editor, lab, "# Kelp forests\n\nOur robots count kelp.")
    assert (await search(api, "sourdough"))[0] == [bakery]
    assert (await search(api, "robotics"))[0] == [lab]
    assert (await search(api, "corner_bakery"))[0] == [bakery]
    assert (await search(api, "rye"))[1] == ["Rye bread, slowly"]
    assert set((await search(api, "flour or kelp"))[1]) == {
        "Sourdough starter care",
        "Kelp forests",
    }
    assert (await search(api, '"long rye"'))[1] == ["Rye bread, slowly"]
    assert (await search(api, '"rye long"'))[1] == []
    assert (await search(api, "bread -rye"))[1] == []
    assert (await search(api, "Sourdough -rye"))[1] == ["Sourdough starter care"]
    assert (await search(api, "KELP"))[1] == ["Kelp forests"]
    # The index follows edits and unpublishing.
    await publish(
        api,
        editor,
        kelp,
        title="Seagrass meadows",
        markdown="# Seagrass meadows\n\nOur robots count seagrass.",
    )
    assert (await search(api, "kelp"))[1] == []
    assert (await search(api, "seagrass"))[1] == ["Seagrass meadows"]
    await api.call("POST", f"/v1/public/articles/{kelp['id']}/unpublish", editor)
    assert (await search(api, "seagrass"))[1] == []


HOSTILE_QUERIES = (
    '"', "NEAR(a b", "a*", "title:x", "'; DROP TABLE articles; --", "\\", "-", "or",
    "AND OR NOT", "(", "x" * 200, "ü", "^ + ~",
)  # fmt: skip


async def test_any_query_is_answered(api: Api) -> None:
    for query in HOSTILE_QUERIES:
        assert await search(api, query) == ([], []), query
