"""Type aliases shared by services and edges."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

# Who did something: a manager, an anonymous request (refused earlier), or nobody (command, API).
Actor = User | AnonymousUser | None


def manager_or_none(actor: Actor) -> User | None:
    """The manager to store on a row (an anonymous or absent actor stores NULL)."""
    return actor if isinstance(actor, User) and actor.is_authenticated else None
