"""Rounds (巡逻/巡视): when a schedule's rounds fall, how a scan is judged, what a shift is. Pure rules.

A scan is never refused for being out of order, too fast or late: it is flagged, and the flags are what the
supervisor and the shift report read. Times of day are the site's wall clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

from backend.domain.client_input import ClientBody, ClientTime, ShortText
from backend.domain.models import Model, Page

# The QR code carries this prefix and the point's random token; anything else is not one of our points.
QR_PREFIX = "caretaker:cp:"
RESULTS = ("normal", "abnormal")
FLAGS = ("out_of_order", "too_fast", "late")
STATUSES = ("scheduled", "in_progress", "done", "incomplete", "missed")
# Rounds appear on the phone this long before their slot starts, so the guard can see what is next.
GENERATE_AHEAD = timedelta(minutes=30)
# A walk between two points faster than this share of the route's expected time per leg is "too fast":
# nobody walks a 10-minute leg in under 2.5 minutes while looking at anything.
TOO_FAST_SHARE = 0.25
# Shifts as the round report counts them: day 08:00–20:00, night 20:00–08:00 the next morning.
SHIFTS: dict[str, tuple[time, timedelta]] = {
    "day": (time(8, 0), timedelta(hours=12)),
    "night": (time(20, 0), timedelta(hours=12)),
}
# Who lays out points, routes and schedules, and reads the reports; who walks the rounds.
PLANNER_ROLES = frozenset({"admin", "manager", "supervisor"})
WALKER_ROLES = frozenset({"guard", "supervisor", "manager", "admin"})

Result = Literal["normal", "abnormal"]
# A time of day on the wire: "20:00" (site time).
TimeOfDay = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["20:00"])]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class Schedule(msgspec.Struct, frozen=True):
    """When a route is walked: every N hours from window_start until window_end, or at fixed times."""

    every_hours: int | None = None
    window_start: time | None = None
    window_end: time | None = None
    fixed_times: tuple[time, ...] | None = None


def slot_starts_on(day: date, schedule: Schedule, tz: ZoneInfo) -> list[datetime]:
    """The starts of the slots that begin on a local day (a window crossing midnight ends the next day)."""
    if schedule.fixed_times is not None:
        return sorted(datetime.combine(day, t, tzinfo=tz) for t in schedule.fixed_times)
    assert schedule.every_hours and schedule.window_start is not None and schedule.window_end is not None
    start = datetime.combine(day, schedule.window_start, tzinfo=tz)
    end_day = day if schedule.window_end > schedule.window_start else day + timedelta(days=1)
    end = datetime.combine(end_day, schedule.window_end, tzinfo=tz)
    slots = []
    while start < end:
        slots.append(start)
        start += timedelta(hours=schedule.every_hours)
    return slots


def next_slot(schedule: Schedule, tz: ZoneInfo, after: datetime) -> datetime:
    """The first slot starting at or after `after` (UTC)."""
    first_day = after.astimezone(tz).date() - timedelta(days=1)
    for offset in range(4):
        for start in slot_starts_on(first_day + timedelta(days=offset), schedule, tz):
            if start >= after:
                return start.astimezone(UTC)
    raise ValueError("this schedule has no slot within three days")


def parse_time_of_day(text: str | None) -> time | None:
    """ "20:00" as a time."""
    return None if text is None else time.fromisoformat(text)


def time_of_day(value: time | None) -> str | None:
    """A time as "20:00"."""
    return None if value is None else value.strftime("%H:%M")


def check_schedule(schedule: Schedule) -> str | None:
    """Why a schedule is not usable (the field to blame), or None."""
    if (schedule.every_hours is None) == (schedule.fixed_times is None):
        return "everyHours"
    if schedule.every_hours is not None:
        if schedule.window_start is None:
            return "windowStart"
        if schedule.window_end is None or schedule.window_end == schedule.window_start:
            return "windowEnd"
    elif not schedule.fixed_times:
        return "fixedTimes"
    return None


class PriorScan(msgspec.Struct, frozen=True):
    """A scan already recorded on the round, as judging the next one needs it."""

    position: int
    scanned_at: datetime


def scan_flags(
    *,
    position: int,
    scanned_at: datetime,
    prior: Sequence[PriorScan],
    positions: Sequence[int],
    expected_minutes: int,
    slot_end: datetime,
) -> list[str]:
    """Flags for a scan of the point at `position`: out of order, too fast since the previous, late."""
    flags = []
    done = {p.position for p in prior}
    waiting = [p for p in sorted(positions) if p not in done]
    if waiting and position != waiting[0]:
        flags.append("out_of_order")
    earlier = [p.scanned_at for p in prior if p.scanned_at <= scanned_at]
    if earlier and len(positions) > 1:
        leg = timedelta(minutes=expected_minutes) / (len(positions) - 1)
        if scanned_at - max(earlier) < leg * TOO_FAST_SHARE:
            flags.append("too_fast")
    if scanned_at > slot_end:
        flags.append("late")
    return flags


def judged_notice(
    route_name: str, *, missed: Sequence[str], late: Sequence[str], locale: str
) -> tuple[str, str]:
    """The supervisor's notice of a judged round, titled by what happened: points never scanned are missed
    (漏巡), points scanned after the slot's end are late (迟巡). (title, body) in the reader's language."""
    if locale == "en":
        parts = [f"{len(missed)} missed"] if missed else []
        parts += [f"{len(late)} late"] if late else []
        lines = [f"Missed: {', '.join(missed)}"] if missed else []
        lines += [f"Late: {', '.join(late)}"] if late else []
        return (
            f"{route_name}: {', '.join(parts)} point{'s' if len(missed) + len(late) > 1 else ''}",
            "\n".join(lines),
        )
    parts = [f"漏巡 {len(missed)} 个点"] if missed else []
    parts += [f"迟巡 {len(late)} 个点"] if late else []
    lines = [f"漏巡：{'、'.join(missed)}"] if missed else []
    lines += [f"迟巡：{'、'.join(late)}"] if late else []
    return f"{route_name} {'，'.join(parts)}", "\n".join(lines)


def shift_bounds(day: date, shift: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC start and end of a shift that begins on a local day."""
    starts, length = SHIFTS[shift]
    start = datetime.combine(day, starts, tzinfo=tz)
    return start.astimezone(UTC), (start + length).astimezone(UTC)


def qr_payload(token: str) -> str:
    """What the printed QR code of a point says."""
    return QR_PREFIX + token


def qr_hash(token: str) -> str:
    """The sha256 of a point's QR payload: phones get this, not the token, so an offline phone can tell which
    point it scanned without being able to make up a scan of a point it never reached."""
    return hashlib.sha256(qr_payload(token).encode()).hexdigest()


def token_of(payload: str) -> str | None:
    """The point token a scanned QR payload carries, or None when it is not one of ours."""
    payload = payload.strip()
    if not payload.startswith(QR_PREFIX) or len(payload) > 200:
        return None
    return payload[len(QR_PREFIX) :] or None


# ---- wire shapes ----


class CheckPointCreate(ClientBody, frozen=True):
    """A new check point; the server makes its QR token."""

    site: Annotated[str, msgspec.Meta(max_length=64)]
    name: Name
    place: ShortText = ""
    asset_id: UUID | None = None


class CheckPointUpdate(ClientBody, frozen=True):
    """A point's changes: what is given changes (its QR token never does, so the printed code stays good)."""

    name: Name | None = None
    place: ShortText | None = None
    active: bool | None = None


class CheckPoint(Model, frozen=True):
    """A check point with the payload its QR code carries."""

    id: UUID
    site_id: UUID
    name: str
    place: str
    asset_id: UUID | None
    qr: str
    active: bool


class RouteCreate(ClientBody, frozen=True):
    """A new route: its points in walking order."""

    name: Name
    expected_minutes: Annotated[int, msgspec.Meta(ge=1, le=720)]
    check_point_ids: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=100)]


class RouteUpdate(ClientBody, frozen=True):
    """A route's changes. Its points stay as they are (past rounds are read against them): another walking
    order is a new route, and the old one is switched off."""

    name: Name | None = None
    expected_minutes: Annotated[int, msgspec.Meta(ge=1, le=720)] | None = None
    active: bool | None = None


class RoutePoint(Model, frozen=True):
    """A point of a route, at its place in the walking order."""

    position: int
    check_point_id: UUID
    name: str
    place: str
    qr_hash: str


class Route(Model, frozen=True):
    """A route and its points."""

    id: UUID
    site_id: UUID
    name: str
    expected_minutes: int
    active: bool
    points: list[RoutePoint]


class ScheduleCreate(ClientBody, frozen=True):
    """Every N hours inside a window, or fixed times ("HH:MM"), in the site's time zone."""

    every_hours: Annotated[int, msgspec.Meta(ge=1, le=24)] | None = None
    window_start: TimeOfDay | None = None
    window_end: TimeOfDay | None = None
    fixed_times: Annotated[list[TimeOfDay], msgspec.Meta(min_length=1, max_length=24)] | None = None

    def schedule(self) -> Schedule:
        """The schedule as the rules read it."""
        return Schedule(
            every_hours=self.every_hours,
            window_start=parse_time_of_day(self.window_start),
            window_end=parse_time_of_day(self.window_end),
            fixed_times=tuple(time.fromisoformat(t) for t in self.fixed_times) if self.fixed_times else None,
        )


class ScheduleUpdate(ClientBody, frozen=True):
    """Switch a schedule off, or on again (its next round is then the first slot from now)."""

    active: bool


class RoundSchedule(Model, frozen=True):
    """A stored schedule with the start of the next round it will make."""

    id: UUID
    route_id: UUID
    every_hours: int | None
    window_start: str | None
    window_end: str | None
    fixed_times: list[str] | None
    next_slot_at: datetime
    active: bool


class RoundStart(ClientBody, frozen=True):
    """Start a round: a scheduled one by its path, or an unscheduled walk of a route (id made on the phone,
    so an offline phone can scan into it before the server has seen it)."""

    id: UUID | None = None
    route_id: UUID | None = None
    client_at: ClientTime | None = None


class ScanForm(ClientBody, frozen=True):
    """A scan's text fields (JSON, or multipart with a photo in `file`)."""

    qr: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    result: Result = "normal"
    note: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    client_at: ClientTime | None = None


class Scan(Model, frozen=True):
    """A recorded scan."""

    id: UUID
    round_id: UUID
    check_point_id: UUID
    position: int
    name: str
    scanned_by: UUID
    scanned_at: datetime
    received_at: datetime
    result: str
    note: str
    has_photo: bool
    flags: list[str]


class Round(Model, frozen=True):
    """A round with its route's points and what has been scanned."""

    id: UUID
    site_id: UUID
    route_id: UUID
    route_name: str
    schedule_id: UUID | None
    slot_start: datetime
    slot_end: datetime
    status: str
    started_by: UUID | None
    started_at: datetime | None
    finished_at: datetime | None
    points: list[RoutePoint]
    scans: list[Scan]


class RoundPage(Page[Round], frozen=True):
    """A page of rounds."""

    items: list[Round]


class RoundReportLine(Model, frozen=True):
    """One round of the shift: how many points were done, late, missed, abnormal."""

    round_id: UUID
    route_name: str
    slot_start: datetime
    status: str
    walked_by: str | None
    points: int
    done: int
    late: int
    missed: int
    abnormal: int
    flagged: int


class RoundReport(Model, frozen=True):
    """The rounds of one shift at one site, with totals."""

    site: str
    day: date
    shift: str
    start: datetime
    end: datetime
    rounds: list[RoundReportLine]
    totals: dict[str, int]
