"""Emergency plans (应急预案) and drills (应急演练): the scenarios, each scenario's default plan
(ordered steps, who does each, how long after the alarm it is due; the numbers to call), and the drill rule.
Pure rules.

A site keeps the defaults until a manager edits its own plan. When an alarm opens an emergency work order,
the plan of the alarm's scenario (backend/domain/alarm_codes.py `EMERGENCY_SCENARIO`) becomes a timed
checklist on that work order: each step due `due_minutes` after the alarm, done by whoever did it.

Sources: DOMAIN.md "Emergencies" and "Rounds and safety"; the entrapment times follow TSG T5002 (the
maintenance unit on site within 30 minutes). Drills: at least one a year per scenario (seeds-digest §2.7).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from backend.domain.client_input import ClientBody, ClientTime, LongText, ShortText
from backend.domain.models import Model, Page

Scenario = Literal["entrapment", "flooding", "power_cut", "fire"]
SCENARIOS: tuple[Scenario, ...] = ("entrapment", "flooding", "power_cut", "fire")
SCENARIO_LABELS: dict[str, tuple[str, str]] = {
    "entrapment": ("电梯困人", "Lift entrapment"),
    "flooding": ("水浸/爆管", "Flooding"),
    "power_cut": ("停电", "Power cut"),
    "fire": ("火灾", "Fire"),
}
# The roles a step may name: who on the estate does it.
STEP_ROLES = ("guard", "technician", "supervisor", "manager")
StepRole = Literal["guard", "technician", "supervisor", "manager"]
# Who may tick a step off (whoever did it), edit a site's plans, keep the drill register.
STEP_DOERS = frozenset({"guard", "technician", "supervisor", "manager", "admin"})
PLAN_EDITORS = frozenset({"manager", "admin"})
REGISTER_KEEPERS = frozenset({"supervisor", "manager", "admin"})

# At least one drill of each scenario within this long, or the site's managers are reminded.
DRILL_INTERVAL = timedelta(days=365)

Label = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
PhoneNumber = Annotated[str, msgspec.Meta(max_length=32, pattern=r"^[0-9+\- ]*$")]
DueMinutes = Annotated[int, msgspec.Meta(ge=1, le=7 * 24 * 60)]


class PlanStep(Model, frozen=True):
    """One step of a plan: what to do, who does it, due how many minutes after the alarm (None: no limit)."""

    label_zh: Label
    label_en: Label
    role: StepRole
    due_minutes: DueMinutes | None = None


class PlanPhone(Model, frozen=True):
    """A number to call in this emergency (an empty number: the site has not filled it in yet)."""

    label_zh: Label
    label_en: Label
    number: PhoneNumber


class PlanEdit(ClientBody, frozen=True):
    """A site's own plan for one scenario: its ordered steps and numbers (the whole plan, replaced)."""

    steps: Annotated[list[PlanStep], msgspec.Meta(min_length=1, max_length=30)]
    phones: Annotated[list[PlanPhone], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    site: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class Plan(Model, frozen=True):
    """A site's plan for a scenario; `custom` is false while the site keeps the default."""

    scenario: str
    label_zh: str
    label_en: str
    steps: list[PlanStep]
    phones: list[PlanPhone]
    welfare_visits: bool
    custom: bool
    updated_at: datetime | None = None


class PlanList(Model, frozen=True):
    """Every scenario's plan of one site; `editable`: whether the caller may replace them."""

    site_id: UUID
    items: list[Plan]
    total: int
    limit: int
    offset: int
    editable: bool = False


def _step(zh: str, en: str, role: StepRole, minutes: int | None = None) -> PlanStep:
    return PlanStep(label_zh=zh, label_en=en, role=role, due_minutes=minutes)


_EMERGENCY_NUMBERS = (
    PlanPhone(label_zh="火警", label_en="Fire brigade", number="119"),
    PlanPhone(label_zh="报警", label_en="Police", number="110"),
    PlanPhone(label_zh="急救", label_en="Ambulance", number="120"),
)
_LIFT_CONTRACTOR = PlanPhone(label_zh="电梯维保单位", label_en="Lift contractor", number="")
_POWER_COMPANY = PlanPhone(label_zh="供电抢修", label_en="Power company", number="95598")

DEFAULT_STEPS: dict[str, tuple[PlanStep, ...]] = {
    "entrapment": (
        _step("用对讲安抚被困乘客", "Talk to the passengers on the intercom", "guard", 5),
        _step("通知电梯维保单位", "Call the lift contractor", "guard", 5),
        _step("技术员到场", "Technician on site", "technician", 30),
        _step("救出被困乘客", "Passengers out", "technician", 60),
        _step("电梯停用挂牌", "Lift locked out", "technician", 90),
        _step("记录并上报", "Record and report", "supervisor", 240),
    ),
    "flooding": (
        _step("关闭进水阀门", "Shut off the water supply", "technician", 15),
        _step("切断受影响区域电源", "Cut power to the affected area", "technician", 20),
        _step("电梯停靠安全楼层", "Send the lifts to a safe floor", "guard", 15),
        _step("通知受影响住户", "Tell the residents affected", "supervisor", 30),
        _step("排水并清理", "Pump out and clean up", "technician", 240),
        _step("记录并上报", "Record and report", "supervisor", 480),
    ),
    "power_cut": (
        _step("检查电梯有无困人", "Check every lift for trapped passengers", "guard", 5),
        _step("确认发电机启动", "Make sure the generator has started", "technician", 10),
        _step("联系供电部门", "Call the power company", "supervisor", 15),
        _step("探访独居老人等重点住户", "Visit the vulnerable residents", "guard", 60),
        _step("通知住户停电情况", "Tell the residents about the outage", "supervisor", 30),
        _step("来电后恢复设备并记录", "Restore plant when power returns and record", "technician", None),
    ),
    "fire": (
        _step("拨打119报警", "Call 119", "guard", 2),
        _step("组织疏散", "Evacuate the building", "guard", 10),
        _step("启动消防水泵", "Start the fire pumps", "technician", 10),
        _step("引导消防车进场", "Meet and guide the fire brigade", "supervisor", 15),
        _step("清点人员", "Account for everyone", "supervisor", 30),
        _step("记录并上报", "Record and report", "manager", 480),
    ),
}

DEFAULT_PHONES: dict[str, tuple[PlanPhone, ...]] = {
    "entrapment": (_LIFT_CONTRACTOR, *_EMERGENCY_NUMBERS),
    "flooding": _EMERGENCY_NUMBERS,
    "power_cut": (_POWER_COMPANY, *_EMERGENCY_NUMBERS),
    "fire": _EMERGENCY_NUMBERS,
}

# A power cut sends the guards door to door to the vulnerable residents of the building it hits.
WELFARE_SCENARIOS = frozenset({"power_cut"})


def default_plan(scenario: str) -> Plan:
    """The plan a site has until its manager edits it."""
    zh, en = SCENARIO_LABELS[scenario]
    return Plan(
        scenario=scenario,
        label_zh=zh,
        label_en=en,
        steps=list(DEFAULT_STEPS[scenario]),
        phones=list(DEFAULT_PHONES[scenario]),
        welfare_visits=scenario in WELFARE_SCENARIOS,
        custom=False,
    )


def site_plan(
    scenario: str,
    steps: list[PlanStep] | None,
    phones: list[PlanPhone] | None,
    updated_at: datetime | None = None,
) -> Plan:
    """A site's own plan where it has one, else the default."""
    if steps is None:
        return default_plan(scenario)
    zh, en = SCENARIO_LABELS[scenario]
    return Plan(
        scenario=scenario,
        label_zh=zh,
        label_en=en,
        steps=steps,
        phones=phones or [],
        welfare_visits=scenario in WELFARE_SCENARIOS,
        custom=True,
        updated_at=updated_at,
    )


def step_due_at(opened_at: datetime, step: PlanStep) -> datetime | None:
    """When a step falls due: counted from the alarm that opened the emergency."""
    return opened_at + timedelta(minutes=step.due_minutes) if step.due_minutes is not None else None


def is_overdue(due_at: datetime | None, done_at: datetime | None, now: datetime) -> bool:
    """A step not done by its due time (a done step is never overdue, even if done late)."""
    return due_at is not None and done_at is None and now > due_at


# --- the running checklist ---------------------------------------------------------------------------------


class ChecklistStep(Model, frozen=True):
    """One step of an emergency's checklist: due when, done when and by whom."""

    id: UUID
    position: int
    label_zh: str
    label_en: str
    role: str
    due_at: datetime | None
    overdue: bool
    done_at: datetime | None = None
    done_by: UUID | None = None
    done_by_name: str | None = None


class Checklist(Model, frozen=True):
    """The plan running for one emergency: its steps, its numbers, and whether it asks for welfare visits."""

    work_order_id: UUID
    alarm_id: UUID | None
    scenario: str
    label_zh: str
    label_en: str
    opened_at: datetime
    steps: list[ChecklistStep]
    phones: list[PlanPhone]
    welfare_visits: bool


class StepDone(ClientBody, frozen=True):
    """Tick a step off; `clientAt`: when it was done on the phone (credited between the alarm and receipt)."""

    client_at: ClientTime | None = None


# --- an emergency reported by a person ---------------------------------------------------------------------

# Who opens an emergency by hand (a fire seen, an entrapment or a flood called in): the desk and the guards.
REPORTERS = frozenset({"guard", "agent", "supervisor", "manager", "admin"})
# The repair category of the emergency work order a reported scenario opens.
SCENARIO_CATEGORY: dict[str, str] = {
    "entrapment": "elevator",
    "flooding": "water",
    "power_cut": "electrical",
    "fire": "fire_safety",
}


def reported_channel(role: str) -> str:
    """How a hand-reported emergency came in: a guard saw it on patrol, the desk took a call."""
    return "patrol" if role == "guard" else "phone"


class EmergencyReport(ClientBody, frozen=True):
    """Open an emergency by hand: the scenario, where, what was seen; `clientAt` when it was reported."""

    scenario: Scenario
    location: ShortText = ""
    description: LongText = ""
    site: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    client_at: ClientTime | None = None


class RunningEmergency(Model, frozen=True):
    """An emergency opened by hand, still open: its work order and the plan it runs."""

    work_order_id: UUID
    number: str
    status: str
    location: str
    reported_by_name: str | None
    checklist: Checklist


class RunningEmergencyPage(Page[RunningEmergency], frozen=True):
    items: list[RunningEmergency]


class DrillDue(Model, frozen=True):
    """A scenario the site has not drilled within a year, and the day of its last drill (None: never)."""

    scenario: str
    label_zh: str
    label_en: str
    last_held_on: date | None


class DrillsDue(Model, frozen=True):
    """The dashboard's drill reminder for one site."""

    site_id: UUID
    items: list[DrillDue]


# --- drills and training -----------------------------------------------------------------------------------

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Names = Annotated[list[Name], msgspec.Meta(max_length=500)]


class DrillTiming(Model, frozen=True):
    """A timing taken during a drill: what (e.g. "all out of building 1") and how many minutes it took."""

    label: Label
    minutes: Annotated[float, msgspec.Meta(ge=0, le=10_000)]


class DrillCreate(ClientBody, frozen=True):
    """A drill held: scenario, day, who took part, the timings taken, the evaluation and what to improve."""

    scenario: Scenario
    held_on: date
    participants: Names = msgspec.field(default_factory=list)
    timings: Annotated[list[DrillTiming], msgspec.Meta(max_length=50)] = msgspec.field(default_factory=list)
    evaluation: LongText = ""
    actions: LongText = ""
    site: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class Drill(Model, frozen=True):
    """A drill in the register."""

    id: UUID
    site_id: UUID
    scenario: str
    held_on: date
    participants: list[str]
    timings: list[DrillTiming]
    evaluation: str
    actions: str
    recorded_by_name: str | None
    recorded_at: datetime


class DrillPage(Model, frozen=True):
    """One page of drills, newest first."""

    items: list[Drill]
    total: int
    limit: int
    offset: int


class TrainingCreate(ClientBody, frozen=True):
    """A safety training session: topic, day, who attended."""

    topic: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    held_on: date
    attendees: Names = msgspec.field(default_factory=list)
    note: LongText = ""
    trainer: ShortText = ""
    site: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class Training(Model, frozen=True):
    """A training session in the register."""

    id: UUID
    site_id: UUID
    topic: str
    held_on: date
    attendees: list[str]
    note: str
    trainer: str
    recorded_by_name: str | None
    recorded_at: datetime


class TrainingPage(Model, frozen=True):
    """One page of training sessions, newest first."""

    items: list[Training]
    total: int
    limit: int
    offset: int


# A site with no drill of a scenario on record is due at once; its reminder is keyed to this day.
NEVER_DRILLED = date(2000, 1, 1)  # fixed-date: a key for "no drill ever", not a day anything happens on


def drill_due_from(last_held_on: date | None) -> date:
    """The day from which a site lacks a drill of a scenario: a year after the last one (the far past when
    there is none). One reminder is sent per such day, so a new drill starts a new period."""
    return last_held_on + DRILL_INTERVAL if last_held_on is not None else NEVER_DRILLED


def drill_is_due(last_held_on: date | None, today: date) -> bool:
    """No drill of the scenario within the last year."""
    return today >= drill_due_from(last_held_on)
