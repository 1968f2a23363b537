"""The closed vocabulary of what a moderator (or a hash list) can do to a target.

Policy items list which of these they allow; log entries record them. Order
matters: later is stronger (``Action.strength``), which is how escalation and
"strongest of several" decisions compare actions.
"""

from __future__ import annotations

import enum


class Action(enum.StrEnum):
    DISMISS = "dismiss"  # no violation; the case closes with nothing done
    LABEL = "label"  # content stays, shown behind a warning label
    REMOVE_CONTENT = "remove_content"  # hidden (not destroyed) so an appeal can restore it
    RESTRICT_PUBLISHING = "restrict_publishing"  # the account may not publish for a time
    SUSPEND = "suspend"  # the account may not sign in

    @property
    def strength(self) -> int:
        return _ORDER.index(self)

    @property
    def gives_strike(self) -> bool:
        """Whether upholding this action counts a strike against the account."""
        return self.strength >= Action.REMOVE_CONTENT.strength


_ORDER = list(Action)
