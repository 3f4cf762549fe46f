"""What management measures: the KPI report's shape and the pure rules behind it (periods, rates, trends).

Every definition is spelled out in docs/REPORTS.md; the SQL that counts is in backend/db/queries/reports.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from backend.domain.client_input import check_client_day
from backend.domain.models import Model, SiteRef
from backend.domain.work_orders import PriorityCode
from backend.errors import ValidationFailed

# A report without dates covers the last 30 days, today included (site time).
DEFAULT_PERIOD_DAYS = 30
# Beyond two years the report stops being a dashboard question; monthly exports answer it.
MAX_PERIOD_DAYS = 731
# Complaints are called back within 3 days, for 100 % of complainants (DOMAIN.md, "Complaint").
COMPLAINT_CALLBACK_DAYS = 3
# Callbacks rated 4 or 5 count as satisfied (the 1–5 scale of the follow-up call).
SATISFIED_FROM = 4
# The dashboard lists the most overdue jobs; the CSV export has all of them.
OVERDUE_LIST_LIMIT = 20
# The clocks a work order carries, in the order the job goes through them.
CLOCKS = ("respond", "arrive", "resolve", "callback")


class Period(Model, frozen=True):
    """A report period: whole days in the site's timezone; `start` inclusive, `end` exclusive (instants)."""

    from_date: date
    to_date: date
    timezone: str
    start: datetime
    end: datetime

    @property
    def days(self) -> int:
        """Length in days."""
        return (self.to_date - self.from_date).days + 1

    def previous(self) -> Period:
        """The period of equal length just before this one (for trends)."""
        return period_between(
            self.from_date - timedelta(days=self.days), self.from_date - timedelta(days=1), self.timezone
        )


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def period_between(from_date: date, to_date: date, timezone: str) -> Period:
    """The period covering `from_date`..`to_date` inclusive, as site-local midnights."""
    if to_date < from_date:
        raise ValidationFailed("the period ends before it starts", field="to")
    if (to_date - from_date).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationFailed(f"a report covers at most {MAX_PERIOD_DAYS} days", field="from")
    zone = ZoneInfo(timezone)
    return Period(
        from_date=from_date,
        to_date=to_date,
        timezone=timezone,
        start=_local_midnight(from_date, zone),
        end=_local_midnight(to_date + timedelta(days=1), zone),
    )


# A closed day's rollup (migration 0024) is computed only this long after the day ended at the site, so a
# write whose transaction began before midnight has committed by then (writes to today leave rollups alone).
ROLLUP_SETTLE = timedelta(minutes=5)


class DayRange(Model, frozen=True):
    """A stretch of a report period: a closed site-local `day`, which may be read from its daily rollup, or
    `day` None for the open edge (today and later days), read from the raw tables. `start` inclusive, `end`
    exclusive: the same instants as the period's own boundaries."""

    day: date | None
    start: datetime
    end: datetime


def period_ranges(period: Period, now: datetime, settle: timedelta = ROLLUP_SETTLE) -> list[DayRange]:
    """The period cut into its closed days (ended at least `settle` before `now`) and one open edge."""
    zone = ZoneInfo(period.timezone)
    ranges: list[DayRange] = []
    day = period.from_date
    start = period.start
    while day <= period.to_date:
        end = _local_midnight(day + timedelta(days=1), zone)
        if end + settle > now:
            break
        ranges.append(DayRange(day=day, start=start, end=end))
        day, start = day + timedelta(days=1), end
    if start < period.end:
        ranges.append(DayRange(day=None, start=start, end=period.end))
    return ranges


def parse_day(raw: str | None, field: str) -> date | None:
    """An ISO date from a query parameter, or None when absent; a bad value names its field."""
    if raw is None or raw == "":
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(f"{field} must be an ISO date (YYYY-MM-DD)", field=field) from None
    try:
        # the calendar's edges cannot be turned into the period's instants at the site
        return check_client_day(day, field)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field=field) from None


def local_today(now: datetime, timezone: str) -> date:
    """The calendar day it is at the site."""
    return now.astimezone(ZoneInfo(timezone)).date()


def report_period(from_date: date | None, to_date: date | None, timezone: str, now: datetime) -> Period:
    """The period asked for; missing ends default to the last DEFAULT_PERIOD_DAYS days up to today."""
    end = to_date or local_today(now, timezone)
    start = from_date or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    return period_between(start, end, timezone)


def share(part: int, whole: int) -> float | None:
    """part / whole rounded to four places; None when there is nothing to divide by (not zero: unknown)."""
    return round(part / whole, 4) if whole else None


def change_rate(current: int, previous: int) -> float | None:
    """Relative change against the previous period; None when the previous period had none."""
    return round((current - previous) / previous, 4) if previous else None


def minutes(value: float | None) -> float | None:
    """Minutes rounded to one decimal (the precision a dashboard shows)."""
    return None if value is None else round(value, 1)


class StepKpi(Model, frozen=True):
    """One step of the job (respond, arrive, resolve): its clock's compliance and how long it took.

    `due` counts clocks that fell due in the period and are decided (met, or past due); `on_time` those met
    by their due time. Times run from the work order's creation, over work orders created in the period.
    """

    due: int
    on_time: int
    late: int
    on_time_rate: float | None
    measured: int
    median_minutes: float | None
    p90_minutes: float | None


class CallbackKpi(Model, frozen=True):
    """Follow-up calls: the callback clock's compliance, and complaints called back within 3 days."""

    due: int
    on_time: int
    on_time_rate: float | None
    complaints_due: int
    complaints_called_in_time: int
    complaint_rate: float | None


# seeds-digest §7: response speed, attitude and facility maintenance make up 32 %, 28 % and 20 % of the
# owners' satisfaction; the remaining 20 % is not attributed, so the weighted score uses the three drivers'
# weights rescaled to their own total (80 %), which keeps it on the 1-5 scale of its parts.
DRIVER_WEIGHTS = {"speed": 32, "attitude": 28, "quality": 20}
# NPS: 9-10 promote, 0-6 detract (the standard bands; the seeds name the index, not the bands).
PROMOTER_FROM = 9
DETRACTOR_UP_TO = 6


def weighted_satisfaction(averages: dict[str, float | None]) -> float | None:
    """The drivers' averages weighted 32/28/20 (rescaled to 100 %), over the drivers that were answered."""
    given = {k: v for k, v in averages.items() if v is not None and k in DRIVER_WEIGHTS}
    if not given:
        return None
    total = sum(DRIVER_WEIGHTS[k] for k in given)
    return round(sum(DRIVER_WEIGHTS[k] * v for k, v in given.items()) / total, 2)


def net_promoter_score(promoters: int, detractors: int, answers: int) -> float | None:
    """Share of promoters minus share of detractors, in points from -100 to 100."""
    if not answers:
        return None
    return round((promoters - detractors) * 100 / answers, 1)


class SatisfactionKpi(Model, frozen=True):
    """Ratings (1–5) given on follow-up calls made in the period; the drivers' averages, their weighted
    score, and the net promoter score of the 0-10 answers."""

    ratings: int
    average: float | None
    satisfied: int
    satisfied_share: float | None
    speed: float | None = None
    attitude: float | None = None
    quality: float | None = None
    weighted: float | None = None
    recommend_answers: int = 0
    promoters: int = 0
    detractors: int = 0
    nps: float | None = None


class ReopenKpi(Model, frozen=True):
    """Work orders created in the period that were completed, and how many of those were reopened."""

    completed: int
    reopened: int
    rate: float | None


class CategoryTrend(Model, frozen=True):
    """Complaints of one category in this period against the previous period of equal length."""

    category: str
    count: int
    previous: int
    change: int
    change_rate: float | None


class ComplaintKpi(Model, frozen=True):
    """Complaints received in the period, by category with their trend."""

    total: int
    previous_total: int
    by_category: list[CategoryTrend]


class DeskClock(Model, frozen=True):
    """One of a complaint's clocks over the complaints received in the period: decided (met, or past due),
    met on time, and the rate."""

    due: int
    on_time: int
    rate: float | None


class DeskCategory(Model, frozen=True):
    """Complaints of one category received in the period and their 72 h resolution."""

    category: str
    received: int
    resolution: DeskClock


class ComplaintDeskKpi(Model, frozen=True):
    """How the desk handled the complaints received in the period (docs/REPORTS.md "Complaint desk")."""

    received: int
    handled: int
    handling_rate: float | None
    first_reply: DeskClock
    investigation: DeskClock
    resolution: DeskClock
    by_category: list[DeskCategory]
    repeats: int
    escalated: int


def desk_clock(due: int, on_time: int) -> DeskClock:
    """A clock's counts and their rate (null when nothing was decided)."""
    return DeskClock(due=due, on_time=on_time, rate=share(on_time, due))


class FeedbackKpi(Model, frozen=True):
    """Suggestions and praise received in the period, and how many were answered (docs/REPORTS.md)."""

    suggestions: int
    praise: int
    total: int
    answered: int
    answered_rate: float | None


class AppointmentKpi(Model, frozen=True):
    """Appointments agreed with owners that fell in the period and are decided, and how many were kept."""

    due: int
    kept: int
    missed: int
    rate: float | None


class PromiseKpi(Model, frozen=True):
    """Promises to owners due in the period and decided (kept, or past due): kept on time, kept late,
    broken (past due and still not kept); rate = kept on time / decided."""

    due: int
    kept_on_time: int
    kept_late: int
    broken: int
    rate: float | None


class CampaignOutcomes(Model, frozen=True):
    """One callback campaign's calls worked in the period (an outcome recorded then): reached, no answer,
    refused; reach rate = reached / worked; satisfaction the mean 1-5 score of those reached who gave one;
    follow-ups the jobs raised from a problem heard; open the calls owed and not worked at report time."""

    campaign: str
    worked: int
    reached: int
    no_answer: int
    refused: int
    reach_rate: float | None
    satisfaction_average: float | None
    rated: int
    follow_ups: int
    open: int


class CampaignKpi(Model, frozen=True):
    """The callback campaigns beyond single jobs: the monthly routine sample and the move-in call."""

    routine_sample: CampaignOutcomes
    move_in: CampaignOutcomes


class AlarmCount(Model, frozen=True):
    """Alarms of one code raised in the period."""

    code: str
    severity: str
    count: int


class AlarmKpi(Model, frozen=True):
    """Alarms raised in the period and how fast guards acknowledged them."""

    total: int
    by_code: list[AlarmCount]
    by_severity: dict[str, int]
    acknowledged: int
    unacknowledged: int
    ack_p50_seconds: float | None
    ack_p95_seconds: float | None


class OverdueItem(Model, frozen=True):
    """An open work order with a clock past due, for the overdue list."""

    id: UUID
    number: str
    title: str
    kind: str
    priority: PriorityCode
    """P1-P4, the one spelling of priority on the wire."""
    status: str
    clock: str
    due_at: datetime
    overdue_minutes: float
    assignee_name: str | None


class NowKpi(Model, frozen=True):
    """The state of things at the moment of the report, whatever the period."""

    open: int
    overdue: int
    overdue_list: list[OverdueItem]


class TechnicianKpi(Model, frozen=True):
    """One technician's workload now and results in the period."""

    user_id: UUID
    username: str
    display_name: str
    open_now: int
    overdue_now: int
    assigned: int
    completed: int
    arrival_due: int
    arrival_on_time_rate: float | None
    resolution_due: int
    resolution_on_time_rate: float | None
    median_resolution_minutes: float | None
    ratings: int
    satisfaction_average: float | None
    reopened: int


class KpiReport(Model, frozen=True):
    """Everything the management dashboard shows for one site and period."""

    site: SiteRef
    period: Period
    generated_at: datetime
    total: int
    by_kind: dict[str, int]
    by_status: dict[str, int]
    response: StepKpi
    arrival: StepKpi
    resolution: StepKpi
    callback: CallbackKpi
    satisfaction: SatisfactionKpi
    reopen: ReopenKpi
    complaints: ComplaintKpi
    desk: ComplaintDeskKpi
    feedback: FeedbackKpi
    appointments: AppointmentKpi
    promises: PromiseKpi
    campaigns: CampaignKpi
    alarms: AlarmKpi
    now: NowKpi
    technicians: list[TechnicianKpi]


class DigestFacts(Model, frozen=True):
    """What the daily digest tells supervisors and managers about one site and one day."""

    site_id: UUID
    day: date
    complaints: int
    complaints_by_category: dict[str, int]
    breaches: int
    open_overdue: int
    callbacks_due: int


def digest_text(facts: DigestFacts, site_name: str) -> tuple[str, str]:
    """Title and body of the daily digest (zh-CN, the staff's working language)."""
    categories = "，".join(f"{k} {v}" for k, v in sorted(facts.complaints_by_category.items()))
    title = f"{site_name} 每日简报 {facts.day.isoformat()}"
    body = (
        f"昨日投诉 {facts.complaints} 件"
        + (f"（{categories}）" if categories else "")
        + f"；超时 {facts.breaches} 次"
        + f"；当前逾期未完成 {facts.open_overdue} 单"
        + f"；今日待回访 {facts.callbacks_due} 单。"
    )
    return title, body
