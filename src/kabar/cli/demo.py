"""Demo public accounts for ``kabar demo``: a journalist, a university lab, a newsroom, a
city and a bakery, with real articles (``demo_public.toml``), avatars, signatures,
verification, subscriptions, reactions and comments — a living site at ``/``.

Everything goes through the services, like real clients would: each owner's
seeding device gets real vodozemac identity keys and signs every revision.
"""

from __future__ import annotations

import io
import tomllib
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import vodozemac
from PIL import Image, ImageDraw

from kabar.accounts.models import Principal, Role
from kabar.errors import Conflict
from kabar.protocol.signing import identity_payload
from kabar.public.articles import SignedRevision
from kabar.public.canonical import ArticleRevision, revision_payload
from kabar.services import Services

ADMIN = ("admin", "Instance Admin")
MODERATOR = ("moderator", "Demo Moderator")  # works the moderation queue (/console, kabar admin)
AVATAR_COLOURS = ("#0a6b4f", "#7a3e9d", "#b3461c", "#1f5fa8", "#8a6d00")
READERS = {  # demo reader → accounts they subscribe to
    "alice": (
        "mira_okonjo", "tidewater_lab", "harbour_herald", "city_of_eastgate", "crumb_and_kiln"
    ),
    "bob": ("harbour_herald", "crumb_and_kiln"),
    "carol": ("tidewater_lab", "mira_okonjo"),
}  # fmt: skip
COMMENTS = (
    ("bob", "harbour_herald", 0, "Finally! The 7:20 has left me on the quay twice this month."),
    ("carol", "tidewater_lab", 0, "Is the Dredge Channel loss mentioned in the harbour plan?"),
    ("alice", "crumb_and_kiln", 0, "The Saturday morning visit is worth the early alarm."),
)


class Publisher:
    """A seeding device with real identity keys, signing as one account."""

    def __init__(self, services: Services, principal: Principal) -> None:
        self.services = services
        self.principal = principal
        self.olm = vodozemac.Account()

    async def publish_keys(self) -> None:
        curve = self.olm.curve25519_key.to_base64()
        ed = self.olm.ed25519_key.to_base64()
        payload = identity_payload(self.principal.username, self.principal.device_id, curve, ed)
        signature = self.olm.sign(payload).to_base64()
        await self.services.keys.upload_identity(self.principal, curve, ed, signature)

    async def publish(self, article_id: str, markdown: str, when: datetime) -> None:
        article = await self.services.reader.get(article_id, self.principal)
        revision = ArticleRevision(
            handle=article.handle,
            slug=article.slug,
            title=article.title,
            markdown=markdown,
            revision=article.revision + 1,
            published_at=when,
            device_id=self.principal.device_id,
            account=self.principal.username,
        )
        signed = SignedRevision(
            title=article.title,
            markdown=markdown,
            revision=revision.revision,
            published_at=when,
            signature=self.olm.sign(revision_payload(revision)).to_base64(),
        )
        await self.services.articles.publish(
            self.principal, article_id, signed, allow_backdated=True
        )


def _avatar(colour: str) -> bytes:
    image = Image.new("RGB", (256, 256), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((56, 56, 200, 200), fill="#ffffff")
    draw.ellipse((96, 96, 160, 160), fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


async def _principal(services: Services, username: str, name: str, password: str) -> Principal:
    session = await services.accounts.register(
        username, password, name, "demo seeding device", f"demo-seed-{username}"
    )
    return await services.auth.authenticate(session.access_token)


def demo_data() -> dict[str, Any]:
    """The accounts and articles of ``demo_public.toml``."""
    text = resources.files("kabar.cli").joinpath("demo_public.toml").read_text()
    return tomllib.loads(text)


def editors() -> list[str]:
    """Usernames of the demo public accounts' owners."""
    return [account["owner"] for account in demo_data()["accounts"]]


async def seed_public(services: Services, password: str) -> list[str]:
    """Seed the demo public accounts once; returns their handles ([] if already there)."""
    data = demo_data()
    try:
        admin = await _principal(services, *ADMIN, password)
    except Conflict:
        return []
    await services.accounts.set_role(admin.account_id, Role.ADMIN)
    moderator = await _principal(services, *MODERATOR, password)
    await services.accounts.set_role(moderator.account_id, Role.MODERATOR)
    now = datetime.now(UTC).replace(microsecond=0)
    queue: list[tuple[datetime, Publisher, str, list[str]]] = []
    for index, account in enumerate(data["accounts"]):
        owner = await _principal(services, account["owner"], account["owner_name"], password)
        publisher = Publisher(services, owner)
        await publisher.publish_keys()
        handle = account["handle"]
        await services.public_accounts.create(
            owner, handle, account["name"], account["kind"], account["bio"]
        )
        stored = await services.media.upload_image(
            owner, _avatar(AVATAR_COLOURS[index % len(AVATAR_COLOURS)])
        )
        await services.public_accounts.update_profile(
            owner, handle, avatar_url=stored.best(320).path
        )
        if "verify" in account:
            await services.public_accounts.verify(_as_admin(admin), handle, account["verify"])
        for article in account["articles"]:
            article_id = await services.articles.create(owner, handle, article["markdown"])
            when = now - timedelta(days=article["days_ago"], hours=index * 3 + 2)
            queue.append(
                (when, publisher, article_id, [article["markdown"], *article.get("edits", [])])
            )
    queue.sort(key=lambda item: item[0])  # publish oldest first: feeds read in time order
    for when, publisher, article_id, versions in queue:
        for offset, markdown in enumerate(versions):
            await publisher.publish(article_id, markdown, when + timedelta(days=offset))
    await _readers(services, password)
    return [account["handle"] for account in data["accounts"]]


def _as_admin(principal: Principal) -> Principal:
    """The admin's principal with its new role (set_role does not change a value we hold)."""
    return Principal(
        principal.account_id, principal.username, principal.device_id, Role.ADMIN, principal.status
    )


async def _readers(services: Services, password: str) -> None:
    """alice, bob and carol (seeded by kabar.cli.server) subscribe, react and comment."""
    readers: dict[str, Principal] = {}
    for username, handles in READERS.items():
        session = await services.accounts.login(username, password, "demo seed", "demo-seed")
        readers[username] = reader = await services.auth.authenticate(session.access_token)
        for handle in handles:
            await services.subscriptions.subscribe(reader, handle, notifications=True)
    for username, handle, index, body in COMMENTS:
        _, page = await services.reader.published(handle, None, 10)
        article = page.items[::-1][index]
        await services.comments.add(readers[username], article.id, body)
        await services.reactions.react(readers[username], article.id, "insightful")
        await services.reactions.react(readers["alice"], article.id, "like")
    for reader in readers.values():
        await services.accounts.logout(reader)
