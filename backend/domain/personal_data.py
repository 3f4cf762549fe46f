"""Residents' personal data: which role sees what, when, and how the rest is masked. Pure rules, no I/O.

Names, phone numbers and the vulnerable flag (elderly living alone and the like) are shown in full only to
people whose work needs them at that moment, and every full showing is written to an append-only log:

| role | outside an emergency | in an emergency in the unit's building |
|---|---|---|
| admin, manager, supervisor | everything (they answer for the estate) | everything |
| agent (call centre) | name and phone (they take calls, call back); no vulnerable flag | everything |
| technician | name and phone in homes of their open jobs (they call the owner); else masked | everything |
| guard | masked: unit, family name and `138****5678` | everything |

A building is "in an emergency" while it has an emergency work order that is not yet completed (for one of
its units, or for plant in it) or an active critical alarm on one of its devices. Plant that belongs to no
building (the estate's switchgear, its main pumps) puts the whole site in the emergency: a mains loss there
is exactly when guards go door to door to the vulnerable. It ends by itself when the work is completed and
the alarm clears, so nobody has to remember to take the access back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from backend.domain.models import Model
from backend.domain.registry import Resident, Unit
from backend.domain.roles import OVERSIGHT_ROLES, Role

MIN_PHONE_DIGITS = 7
"""Digits a phone search needs. It matches the end of a number, and the last 7 digits of a Chinese mobile
number are its subscriber part (10 million combinations): in an estate of 10,000 residents a 7-digit tail
finds the caller's home and, by chance, another about once in a thousand searches, and walking every tail
takes 10 million searches. A 4-digit tail (尾号) finds one home in ten thousand by chance on every search,
and the whole estate in 10,000 searches. Seven is also the shortest local landline number, so any real
number someone gives is long enough."""


class Reason(StrEnum):
    """Why a caller was shown a resident's data in full (written to the read log)."""

    OVERSIGHT = "oversight"
    DESK = "desk"
    ASSIGNED_JOB = "assigned_job"
    EMERGENCY = "emergency"


@dataclass(frozen=True)
class Access:
    """What one caller may see of one unit's residents, and why."""

    full: bool
    """Name and phone unmasked."""
    vulnerable: bool
    """The vulnerable flag shown."""
    reason: Reason | None


MASKED = Access(full=False, vulnerable=False, reason=None)


def access_for(role: str, *, in_emergency: bool, assigned_here: bool) -> Access:
    """The table above: what `role` sees of a unit whose building is (not) in an emergency."""
    if role in OVERSIGHT_ROLES:
        return Access(full=True, vulnerable=True, reason=Reason.OVERSIGHT)
    if in_emergency:
        return Access(full=True, vulnerable=True, reason=Reason.EMERGENCY)
    if role == Role.AGENT:
        return Access(full=True, vulnerable=False, reason=Reason.DESK)
    if role == Role.TECHNICIAN and assigned_here:
        return Access(full=True, vulnerable=False, reason=Reason.ASSIGNED_JOB)
    return MASKED


def may_search_residents(role: str) -> bool:
    """Finding homes by a resident's name or phone: the desk and oversight, who see them in full anyway."""
    return role in OVERSIGHT_ROLES or role == Role.AGENT


def phone_digits(phone: str) -> str:
    """The digits a phone search matches the end of stored numbers with: +86 / 86 dropped from a mobile."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 13 and digits.startswith("86"):
        return digits[2:]
    return digits


def mask_phone(phone: str | None) -> str | None:
    """138****5678 for a mobile; the last four digits of anything shorter; nothing of a stub."""
    if not phone:
        return None
    digits = phone_digits(phone)
    if len(digits) >= 11:
        national = digits[-11:]
        return f"{national[:3]}****{national[-4:]}"
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


def mask_name(name: str) -> str:
    """The family name (its first character) and a star per further character: 王小明 → 王**."""
    name = name.strip()
    return name[:1] + "*" * max(len(name) - 1, 1)


@dataclass(frozen=True)
class EmergencyScope:
    """The buildings in an emergency now; a site listed in `whole_sites` is in one everywhere."""

    buildings: frozenset[UUID]
    whole_sites: frozenset[UUID]

    def covers(self, unit: Unit) -> bool:
        """True when the unit's building (or its whole site) is in an emergency."""
        return unit.building_id in self.buildings or unit.site_id in self.whole_sites


NO_EMERGENCY = EmergencyScope(frozenset(), frozenset())


class ResidentView(Model, frozen=True):
    """A resident as one caller may see them: `masked` says whether name and phone were held back."""

    id: UUID
    site_id: UUID
    unit_id: UUID
    name: str
    phone: str | None
    """The number, only when the caller may call it."""
    phone_masked: str | None
    """Always safe to show: 138****5678."""
    relation: str
    vulnerable: bool | None
    """None when the caller may not know."""
    masked: bool


class UnitView(Unit, frozen=True):
    """A unit and its residents (owners first) as the caller may see them."""

    residents: list[ResidentView]


def view_resident(resident: Resident, access: Access) -> ResidentView:
    """The resident as this access allows."""
    return ResidentView(
        id=resident.id,
        site_id=resident.site_id,
        unit_id=resident.unit_id,
        name=resident.name if access.full else mask_name(resident.name),
        phone=resident.phone if access.full else None,
        phone_masked=mask_phone(resident.phone),
        relation=resident.relation,
        vulnerable=resident.vulnerable if access.vulnerable else None,
        masked=not access.full,
    )


def disclosed_fields(resident: Resident, access: Access) -> list[str]:
    """What of this resident a view with this access shows in full: what the read log records."""
    fields = ["name", "phone"] if access.full and resident.phone else ["name"] if access.full else []
    return [*fields, "vulnerable"] if access.vulnerable else fields


class NearUnit(Unit, frozen=True):
    """A home offered because the one asked for does not exist: `reason` is other_building,
    other_stairwell or typo (backend/domain/unit_address.py). Its residents are not shown."""

    reason: str


class UnderstoodAddress(Model, frozen=True):
    """How the lookup read the address it was given (building as said, stairwell, room)."""

    building: str | None
    stairwell: str | None
    room: str | None


class UnitLookupView(Model, frozen=True):
    """An intake lookup: the homes found with their residents as the caller may see them, or near misses."""

    items: list[UnitView]
    near: list[NearUnit]
    understood: UnderstoodAddress | None = None


class VulnerableResident(ResidentView, frozen=True):
    """A vulnerable resident with where to find them: who guards check on first in an outage."""

    building_code: str
    number: str
    floor: int | None


class PersonalDataRead(Model, frozen=True):
    """One row of the read log, with who the reader is and which home it was."""

    id: int
    read_at: datetime
    user_id: UUID
    username: str
    display_name: str
    role: str
    site_id: UUID
    unit_id: UUID
    unit_label: str | None
    """Building and number, e.g. A-302; None once the unit is removed."""
    resident_id: UUID
    fields: list[str]
    reason: str
    endpoint: str
