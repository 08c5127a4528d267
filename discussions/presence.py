"""Who is online in a room: one row per open socket of a logged-in user, across all web processes.

Anonymous readers are not listed. Each web process refreshes ``seen`` for its
own rows (relay sweep); rows of a process that died go stale and are removed.
"""

from __future__ import annotations

from django.utils import timezone

from discussions.layer import PROCESS_ID
from discussions.models import Presence, Room
from discussions.relay import PRESENCE_STALE


def online(room: Room) -> list[str]:
    rows = Presence.objects.filter(room=room, seen__gte=timezone.now() - PRESENCE_STALE)
    return sorted(set(rows.values_list("user__username", flat=True)))


def presence_join(room: Room, user, conn: str) -> tuple[list[str], bool]:
    """Record a socket; returns the online list and whether ``user`` just came online."""
    was_online = Presence.objects.filter(room=room, user=user).exists()
    Presence.objects.create(room=room, user=user, conn=conn, process=PROCESS_ID)
    return online(room), not was_online


def presence_leave(room: Room, user, conn: str) -> tuple[list[str], bool]:
    """Forget a socket; returns the online list and whether ``user`` just went offline."""
    Presence.objects.filter(conn=conn).delete()
    still = Presence.objects.filter(room=room, user=user).exists()
    return online(room), not still
