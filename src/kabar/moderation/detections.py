"""The moderation side of hash matching: a listed upload opens a case or is removed.

:class:`ModerationSink` is the :class:`~kabar.moderation.hash_matching.HashMatchSink`
the server wires in: for a list whose action is ``open_case`` the upload joins
its open case (source ``hash_match``) for a moderator to decide; for
``auto_remove`` it is removed at once, as an automated action under the
configured policy item, with a notice to the uploader (who may appeal) and an
entry in the transparency log (``source: hash_match, automated: true``).
"""

from __future__ import annotations

from kabar.moderation.hash_matching import UploadMatch
from kabar.moderation.service import ModerationService


class ModerationSink:
    def __init__(self, moderation: ModerationService, policy_item: str) -> None:
        moderation.deps.policy.item(policy_item)  # a bad setting stops start-up
        self._moderation = moderation
        self._item = policy_item

    async def on_match(self, match: UploadMatch) -> None:
        note = {
            "list": match.list_name,
            "hash_type": str(match.hash_type),
            "distance": match.distance,
            "match_id": match.match_id,
        }
        await self._moderation.detected(
            match.media_id, self._item, note, auto_remove=match.action == "auto_remove"
        )
