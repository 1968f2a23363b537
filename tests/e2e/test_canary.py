"""No plaintext reaches the server (DESIGN §4): a canary through a real server, then grep it all.

200 messages and one attachment carry a unique canary string through a real
server on SQLite. Afterwards the database file (with its WAL), the media
directory and everything logged at any level are searched byte for byte: the
canary must not be there. A second canary, put where the server is *meant* to
see it (a group title), must be found — proving the search itself works.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kabar.client.models import Message
from support.clients import People, settle
from support.databases import SqliteTemplates
from support.server import serve_in_process
from support.server import server_config as server_config


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured_logs() -> Iterator[_Capture]:
    """Every log record of every logger, at every level, while the test runs."""
    handler = _Capture()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(exc_text)s"))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)


def _server_bytes(database: Path, media: Path, logs: _Capture) -> dict[str, bytes]:
    found = {
        str(p): p.read_bytes()
        for p in [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
        if p.exists()
    }
    found.update({str(p): p.read_bytes() for p in media.rglob("*") if p.is_file()})
    found["logs"] = "\n".join(logs.lines).encode()
    return found


def _holders(canary: bytes, blobs: dict[str, bytes]) -> list[str]:
    return [name for name, data in blobs.items() if canary in data]


async def test_no_message_or_attachment_plaintext_ever_reaches_the_server(
    tmp_path: Path, sqlite_templates: SqliteTemplates, captured_logs: _Capture
) -> None:
    canary = f"CANARY-{uuid.uuid4().hex}"
    control = f"CONTROL-{uuid.uuid4().hex}"
    url = await sqlite_templates.fresh(tmp_path)
    database = Path(url.removeprefix("sqlite:///"))
    media = tmp_path / "media"
    async with serve_in_process(server_config(url, tmp_path)) as server:
        people = People(server.base_url, tmp_path.parent / f"{tmp_path.name}-devices")
        try:
            alice, bob, carol = [await people.register(n) for n in ("alice", "bob", "carol")]
            group = await alice.create_group(f"{control} group", [bob.username, carol.username])
            conversation = group.conversation_id
            await settle([alice, bob, carol])
            for i in range(200):
                sender = (alice, bob, carol)[i % 3]
                await sender.send_text(conversation, f"{canary} message {i}")
            attachment = f"{canary} inside a file\n".encode() * 1000
            await alice.send_file(conversation, attachment, f"{canary}.txt", "text/plain", canary)
            await settle([alice, bob, carol])
            received = [m for m in bob.history(conversation, limit=500) if isinstance(m, Message)]
            assert len(received) == 201
            assert all(canary in m.body for m in received)
            assert await bob.download(received[-1].attachments[0]) == attachment
            assert bob.undecrypted() == []
            live = _server_bytes(database, media, captured_logs)
        finally:
            await people.close()
    stopped = _server_bytes(database, media, captured_logs)
    assert any(name != "logs" and name.startswith(str(media)) for name in live)  # the blob
    for snapshot in (live, stopped):
        assert _holders(canary.encode(), snapshot) == []
        # The same search does find what the server may see, in its database files.
        assert any(h.startswith(str(database)) for h in _holders(control.encode(), snapshot))
    assert len(captured_logs.lines) > 100  # the server did log (at every level)
