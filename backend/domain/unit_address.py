"""A home's address as people say or type it — "3栋1单元1201", "三号楼一单元一二零一室", "3-1-1201", "A302" —
read into building, stairwell (单元) and room; which buildings a spoken building number names; and the
near misses worth offering when the address as given matches no home. Pure functions, no I/O.

How 单元 maps onto the registry: units have no stairwell column. In the demo estate each building has one
stairwell and its room numbers are unique within the building, so a stairwell said on the phone narrows
nothing there. An estate whose stairwells repeat room numbers registers those units as
"<stairwell>-<room>" (e.g. "2-1201"); `number_candidates` tries that number first, then the room alone, and
`near_misses` offers the same room in the building's other stairwells.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_UNITS = {"十": 10, "百": 100, "千": 1000}
_CHINESE_NUMBER = re.compile(f"[{''.join(_DIGITS)}{''.join(_UNITS)}]+")

# What a number is followed by says what it is. 号楼 before 号 and 楼: the longest marker wins.
_BUILDING_MARKERS = ("号楼", "栋", "幢", "座", "#")
_STAIRWELL_MARKERS = ("单元", "门")
_ROOM_MARKERS = ("室", "房", "户")
# "3号1单元1201": 号 names the building when more follows, the room when it ends the address.
_AMBIGUOUS_MARKER = "号"
# "12楼" is a floor, which the room number already carries: read and set aside.
_FLOOR_MARKERS = ("楼", "层", "F")
_SEPARATORS = re.compile(r"[\s\-‐‑–—―－_/\\·.,，、]+")
_TOKEN = re.compile(
    "(?P<value>[A-Z]+|[0-9]+)(?P<marker>"
    + "|".join(re.escape(m) for m in (*_BUILDING_MARKERS, *_STAIRWELL_MARKERS, *_ROOM_MARKERS,
                                      _AMBIGUOUS_MARKER, *_FLOOR_MARKERS))
    + ")?"
)  # fmt: skip


@dataclass(frozen=True)
class UnitAddress:
    """What was understood: building as said ("3", "A"), stairwell ("1"), room ("1201"); None when unsaid."""

    building: str | None
    stairwell: str | None
    room: str | None


def chinese_number(text: str) -> str:
    """Chinese numerals as digits: 一二零一 → 1201 (said digit by digit), 十二 → 12, 一千二百零一 → 1201."""
    if not any(ch in _UNITS for ch in text):
        return "".join(str(_DIGITS[ch]) for ch in text)
    total, current = 0, 0
    for ch in text:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        else:
            # 十二: a unit with no digit before it counts once
            total += (current or 1) * _UNITS[ch]
            current = 0
    return str(total + current)


def _normalised(text: str) -> str:
    # NFKC turns full-width digits and letters (３栋, Ａ座) into ASCII
    text = unicodedata.normalize("NFKC", text).upper().strip()
    return _CHINESE_NUMBER.sub(lambda m: chinese_number(m.group()), text)


def _role_of(marker: str | None, is_last: bool) -> str | None:
    if marker in _BUILDING_MARKERS:
        return "building"
    if marker in _STAIRWELL_MARKERS:
        return "stairwell"
    if marker in _ROOM_MARKERS:
        return "room"
    if marker == _AMBIGUOUS_MARKER:
        return "room" if is_last else "building"
    if marker in _FLOOR_MARKERS:
        return "floor"
    return None


def parse_unit_address(text: str) -> UnitAddress | None:
    """The building, stairwell and room in an address as typed or said; None when it cannot be read.

    Parts with a marker (栋, 号楼, 座, 单元, 室 …) take that role; unmarked parts fill what is left in order
    (building, stairwell, room), the last of them always the room: "3-1-1201", "3-1201", "1201".
    """
    rest = _SEPARATORS.sub(" ", _normalised(text)).strip()
    if not rest:
        return None
    parts: list[tuple[str, str | None]] = []
    for chunk in rest.split(" "):
        pos = 0
        while pos < len(chunk):
            match = _TOKEN.match(chunk, pos)
            if match is None:
                return None
            parts.append((match["value"], match["marker"]))
            pos = match.end()
    roles: dict[str, str] = {}
    unmarked: list[str] = []
    for i, (value, marker) in enumerate(parts):
        role = _role_of(marker, is_last=i == len(parts) - 1)
        if role is None:
            unmarked.append(value)
        elif role != "floor":
            if role in roles:
                return None
            roles[role] = value
    free = [r for r in ("building", "stairwell") if r not in roles]
    if unmarked and "room" not in roles:
        roles["room"] = unmarked.pop()
    if len(unmarked) > len(free):
        return None
    # two unmarked parts before the room are building and stairwell; one is the building
    roles.update(zip(free, unmarked, strict=False))
    room = roles.get("room")
    if room is not None and not room.isdigit():
        # "A" alone is a building, not a home
        if "building" in roles:
            return None
        roles["building"], room = room, None
    return UnitAddress(
        building=_plain(roles.get("building")), stairwell=_plain(roles.get("stairwell")), room=room
    )


def _plain(value: str | None) -> str | None:
    """A number without leading zeros ("03" is building 3); letters as they are."""
    if value is None or not value.isdigit():
        return value
    return str(int(value))


def building_number(name: str) -> str | None:
    """The number a building's name gives it ("3栋", "3号楼", "三栋" → "3"), if its name has one."""
    parsed = parse_unit_address(name)
    if parsed is None:
        return None
    return parsed.building or (parsed.room if parsed.stairwell is None else None)


def building_matches(said: str, *, code: str, name: str) -> bool:
    """Whether a building as said ("3", "C", "3栋") is this building, by its code, its name or its number."""
    said_norm = _plain(_normalised(said)) or ""
    code_norm = _plain(_normalised(code))
    if said_norm in (code_norm, _normalised(name)):
        return True
    return building_number(said) is not None and building_number(said) == building_number(name)


def number_candidates(address: UnitAddress) -> list[str]:
    """Unit numbers that are this address's home, most specific first: "1-1201" (stairwell-room), "1201"."""
    if address.room is None:
        return []
    if address.stairwell is None:
        return [address.room]
    return [f"{address.stairwell}-{address.room}", address.room]


def room_of(number: str) -> str:
    """The room of a unit number, without a stairwell prefix ("2-1201" → "1201")."""
    return number.rsplit("-", 1)[-1]


def one_slip_apart(a: str, b: str) -> bool:
    """One digit wrong, missing, extra, or two neighbours swapped: 1201 ~ 1202, 121, 12011, 1210."""
    if a == b:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        i, j = [*diffs, -1, -1][:2]
        return len(diffs) == 2 and j == i + 1 and (a[i], a[j]) == (b[j], b[i])
    if abs(len(a) - len(b)) != 1:
        return False
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


class NearReason(StrEnum):
    """Why a unit is offered instead of the one asked for."""

    OTHER_BUILDING = "other_building"
    OTHER_STAIRWELL = "other_stairwell"
    TYPO = "typo"


@dataclass(frozen=True)
class Candidate:
    """A unit a near miss may offer: its id, whether it is in a building that was said, its number."""

    unit_id: object
    in_said_building: bool
    number: str


# Enough to cover a building's neighbours and a slip of the finger without burying the right one.
MAX_NEAR_MISSES = 8


def near_misses(address: UnitAddress, candidates: Iterable[Candidate]) -> list[tuple[object, NearReason]]:
    """Units worth offering when the address matches none: the same room in another building or stairwell,
    then a room one slip away in the building that was said (ids with the reason, best first)."""
    if address.room is None:
        return []
    wanted = set(number_candidates(address))
    found: list[tuple[int, int, str, object, NearReason]] = []
    for c in candidates:
        room = room_of(c.number)
        if not c.in_said_building and (c.number in wanted or room == address.room):
            found.append((0, 0, c.number, c.unit_id, NearReason.OTHER_BUILDING))
        elif c.in_said_building and room == address.room and c.number not in wanted:
            found.append((1, 0, c.number, c.unit_id, NearReason.OTHER_STAIRWELL))
        elif c.in_said_building and one_slip_apart(room, address.room):
            # a wrong digit is likelier than a missing or an extra one: 1204 is 1201 before it is 104
            found.append((2, abs(len(room) - len(address.room)), c.number, c.unit_id, NearReason.TYPO))
    found.sort(key=lambda f: f[:3])
    return [(unit_id, reason) for *_, unit_id, reason in found[:MAX_NEAR_MISSES]]
