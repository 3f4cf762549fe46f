"""Per-site settings (the `sites.settings` column): every key the system reads, its type, range and default.

One Struct is both the API's contract (PATCH /sites/{id} refuses a wrong type, a value out of range or an
unknown key, naming it) and the reader's: jobs read stored settings through `read_site_settings`, which keeps
each valid key, falls back to the default for each bad one and says which, so one estate's bad row written
before validation existed cannot stop a job for every estate.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from backend.domain.alarm_ladder import (
    DEFAULT_ALARM_ACK_MANAGER_SECONDS,
    DEFAULT_ALARM_ACK_SUPERVISOR_SECONDS,
)
from backend.domain.models import Model
from backend.domain.owner_messages import SWITCHABLE
from backend.errors import ValidationFailed

# The escalation job runs every 5 s, so a deadline under 10 s cannot be kept; past a day it is no alarm.
AckSeconds = Annotated[int, msgspec.Meta(ge=10, le=86_400)]
# A message kind owners can be sent that the site may switch off (any other name is refused, and the API
# document lists them).
OwnerMessageKind = Literal[tuple(sorted(SWITCHABLE))]  # type: ignore[valid-type]


class SiteSettings(Model, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """A site's overrides of company defaults; a key left out takes the default (so later defaults apply)."""

    alarm_ack_supervisor_seconds: AckSeconds | msgspec.UnsetType = msgspec.UNSET
    alarm_ack_manager_seconds: AckSeconds | msgspec.UnsetType = msgspec.UNSET
    owner_messages_off: (
        Annotated[list[OwnerMessageKind], msgspec.Meta(max_length=len(SWITCHABLE))] | msgspec.UnsetType
    ) = msgspec.UNSET
    """Messages this site does not send to owners (backend/domain/owner_messages.py SWITCHABLE)."""

    def owner_message_on(self, kind: str) -> bool:
        """Whether this site sends `kind` to owners (all on unless switched off)."""
        off = self.owner_messages_off
        return kind not in SWITCHABLE or off is msgspec.UNSET or kind not in off

    @property
    def supervisor_seconds(self) -> int:
        """Seconds an alarm may wait for a guard before the supervisor is told."""
        value = self.alarm_ack_supervisor_seconds
        return DEFAULT_ALARM_ACK_SUPERVISOR_SECONDS if value is msgspec.UNSET else value

    @property
    def manager_seconds(self) -> int:
        """Seconds an alarm may wait before the manager is told."""
        value = self.alarm_ack_manager_seconds
        return DEFAULT_ALARM_ACK_MANAGER_SECONDS if value is msgspec.UNSET else value


def settings_to_store(settings: SiteSettings) -> dict[str, Any]:
    """What goes into sites.settings; refuses deadlines that would tell the manager before the supervisor."""
    if settings.manager_seconds <= settings.supervisor_seconds:
        raise ValidationFailed(
            f"alarmAckManagerSeconds ({settings.manager_seconds}) must be later than "
            f"alarmAckSupervisorSeconds ({settings.supervisor_seconds})",
            field="settings.alarmAckManagerSeconds",
        )
    return msgspec.to_builtins(settings)


def read_site_settings(raw: Any) -> tuple[SiteSettings, list[str]]:
    """Stored settings as the jobs use them, and what was wrong with them (each bad key takes its default)."""
    try:
        return msgspec.convert(raw, SiteSettings, strict=False), []
    except msgspec.ValidationError:
        pass
    if not isinstance(raw, dict):
        return SiteSettings(), [f"settings: expected an object, found {type(raw).__name__}"]
    kept: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        try:
            msgspec.convert({key: value}, SiteSettings, strict=False)
        except msgspec.ValidationError as exc:
            # msgspec names the key ("... - at `$.alarmAckSupervisorSeconds`"); the value is not echoed
            problems.append(f"settings.{str(key)[:64]}: {str(exc).split(' - at ')[0]}")
        else:
            kept[key] = value
    return msgspec.convert(kept, SiteSettings, strict=False), problems
