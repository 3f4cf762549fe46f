"""The ladder an unacknowledged alarm climbs (DESIGN.md "Alarm escalation"): who is told at each rung, when.

The steps' deadlines are each site's own settings (settings.alarmAckSupervisorSeconds, ...), counted from
when the alarm began waiting (its raise or latest re-raise). The escalation job, the SQL that claims due
alarms and every alarm the API and the stream show (`ackDueAt`, `escalatesTo`) read this one table.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import msgspec

from backend.domain.roles import Role

# DESIGN.md: not acknowledged by a guard in 60 s → supervisor, in 180 s → manager.
DEFAULT_ALARM_ACK_SUPERVISOR_SECONDS = 60
DEFAULT_ALARM_ACK_MANAGER_SECONDS = 180

# A warning (a device offline) does not wake a manager; anything that makes a work order does.
ESCALATING_SEVERITIES: tuple[str, ...] = ("critical", "major")


class LadderStep(msgspec.Struct, frozen=True):
    """One rung: the level reached, the role told and how to read its deadline from a site's settings."""

    level: int
    role: str
    seconds: Callable[[Any], int]


# Settings are passed in (backend.domain.site_settings.SiteSettings) so this table needs no import of them.
ALARM_LADDER: tuple[LadderStep, ...] = (
    LadderStep(level=1, role=Role.SUPERVISOR.value, seconds=lambda s: s.supervisor_seconds),
    LadderStep(level=2, role=Role.MANAGER.value, seconds=lambda s: s.manager_seconds),
)
TOP_LEVEL = ALARM_LADDER[-1].level


def step(level: int) -> LadderStep:
    """The rung of this level (1-based)."""
    return ALARM_LADDER[level - 1]


def reached_role(level: int) -> str | None:
    """The role told at the rung reached so far (None below the first)."""
    return step(level).role if 1 <= level <= TOP_LEVEL else None


def deadlines(settings: Any) -> list[tuple[int, int]]:
    """(level, seconds after waiting began) for every rung, under one site's settings."""
    return [(s.level, s.seconds(settings)) for s in ALARM_LADDER]


def due_level(waited_seconds: float, settings: Any) -> int:
    """The highest rung whose deadline has passed after waiting this long (0: none)."""
    level = 0
    for rung in ALARM_LADDER:
        if waited_seconds >= rung.seconds(settings):
            level = rung.level
    return level


class AckDue(msgspec.Struct, frozen=True):
    """When the next rung falls due if nobody acknowledges, and who it tells (None: nothing more to climb)."""

    at: datetime | None
    role: str | None


NOTHING_DUE = AckDue(at=None, role=None)


def ack_due(
    *,
    severity: str,
    open: bool,
    acked: bool,
    waiting_since: datetime,
    escalation_level: int,
    settings: Any,
) -> AckDue:
    """The next rung of an open, unacknowledged alarm of an escalating severity (none above the top)."""
    if not open or acked or severity not in ESCALATING_SEVERITIES or escalation_level >= TOP_LEVEL:
        return NOTHING_DUE
    rung = step(escalation_level + 1)
    return AckDue(at=waiting_since + timedelta(seconds=rung.seconds(settings)), role=rung.role)
