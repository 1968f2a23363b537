"""``kabar demo``'s public accounts: a living site whose every revision verifies."""

from __future__ import annotations

from datetime import datetime

from kabar.cli.demo import seed_public
from kabar.public.canonical import ArticleRevision, verify_revision
from support.api import PASSWORD, Api
from support.server import RunningServer


async def test_the_demo_site_is_seeded_once_with_verifiable_articles(
    api: Api, server: RunningServer
) -> None:
    for name in ("alice", "bob", "carol"):
        await api.register(name)
    handles = await seed_public(server.services, PASSWORD)
    assert len(handles) == 5
    assert await seed_public(server.services, PASSWORD) == []  # once only
    assert (await api.http.get("/")).text.count('class="account-card"') == 5
    checked = 0
    for handle in handles:
        articles = (await api.call("GET", f"/v1/public/accounts/{handle}/articles"))["articles"]
        assert len(articles) >= 2
        for article in articles:
            page = await api.http.get(f"/@{handle}/{article['slug']}")
            assert page.status_code == 200
            history = await api.call("GET", f"/v1/public/articles/{article['id']}/revisions")
            for listed in history["revisions"]:
                revision = await api.call(
                    "GET", f"/v1/public/articles/{article['id']}/revisions/{listed['revision']}"
                )
                signature = revision["signature"]
                signed = ArticleRevision(
                    handle=revision["handle"],
                    slug=revision["slug"],
                    title=revision["title"],
                    markdown=revision["markdown"],
                    revision=revision["revision"],
                    published_at=datetime.fromisoformat(revision["published_at"]),
                    device_id=signature["device_id"],
                    account=signature["account"],
                )
                assert verify_revision(
                    signed, ed25519_key=signature["ed25519"], signature=signature["signature"]
                )
                checked += 1
    assert checked == 11  # ten articles, one of them edited once
    alice = await api.login("alice")
    feed = await api.call("GET", "/v1/public/feed", alice, params={"limit": 100})
    times = [a["published_at"] for a in feed["articles"]]
    assert len(times) == 10
    assert times == sorted(times, reverse=True)
