"""Emergency plans, the checklists they run as on alarms and work orders, the vulnerable residents to visit in
a power cut, and the register of drills and safety training."""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

from litestar import Controller, Response, get, post, put
from litestar.params import Body, FromPath, Parameter

from backend.api.deps import Call
from backend.api.paging import Limit, Offset, SiteRef
from backend.api.personal_data import VulnerableResidents, read_by
from backend.api.security import requires_role
from backend.domain import emergency as rules
from backend.domain.emergency import (
    Checklist,
    Drill,
    DrillCreate,
    DrillPage,
    DrillsDue,
    EmergencyReport,
    Plan,
    PlanEdit,
    PlanList,
    RunningEmergency,
    RunningEmergencyPage,
    StepDone,
    Training,
    TrainingCreate,
    TrainingPage,
)
from backend.services import emergency


class EmergencyController(Controller):
    """Plans per scenario, the running checklists, drills and training."""

    path = "/api/v1"
    tags: ClassVar[list[str]] = ["emergency"]

    @get("/emergency-plans", summary="The site's emergency plan for each scenario (its own or the default)")
    async def plans(self, call: Call, site: SiteRef = None) -> PlanList:
        """For staff of the site."""
        return await emergency.list_plans(call.conn, call.user, site=site)

    @put(
        "/emergency-plans/{scenario:str}",
        summary="Replace the site's plan for a scenario: ordered steps, roles, minutes, numbers",
        guards=[requires_role(*rules.PLAN_EDITORS)],
    )
    async def save_plan(self, call: Call, scenario: FromPath[str], data: Annotated[PlanEdit, Body()]) -> Plan:
        """Managers and admins; later emergencies run the new plan, running ones keep theirs."""
        return await emergency.save_plan(call.conn, call.user, scenario=scenario, data=data, now=call.now())

    @get("/alarms/{alarm_id:uuid}/checklist", summary="The emergency plan running for an alarm, step by step")
    async def alarm_checklist(self, call: Call, alarm_id: FromPath[UUID]) -> Checklist:
        """404 emergency_plan_not_found when the alarm opened no emergency with a plan."""
        return await emergency.checklist_of_alarm(call.conn, call.user, alarm_id, now=call.now())

    @get(
        "/work-orders/{work_order_id:uuid}/checklist",
        summary="The emergency plan running on a work order, step by step",
    )
    async def work_order_checklist(self, call: Call, work_order_id: FromPath[UUID]) -> Checklist:
        """404 emergency_plan_not_found for a work order that runs no plan."""
        return await emergency.checklist_of_work_order(call.conn, call.user, work_order_id, now=call.now())

    @post(
        "/emergency-steps/{step_id:uuid}/done",
        status_code=200,
        summary="Tick a step off: who did it and when",
        guards=[requires_role(*rules.STEP_DOERS)],
    )
    async def step_done(
        self, call: Call, step_id: FromPath[UUID], data: Annotated[StepDone, Body()]
    ) -> Response[Checklist]:
        """The first tick is the record; a second one changes nothing. Answers with the whole checklist."""
        return await call.once(
            lambda: emergency.mark_step_done(call.conn, call.user, step_id, data, now=call.now())
        )

    @post(
        "/emergencies",
        status_code=201,
        summary="Report an emergency by hand (a fire, or a call-in): its work order runs the scenario's plan",
        guards=[requires_role(*rules.REPORTERS)],
    )
    async def report(
        self, call: Call, data: Annotated[EmergencyReport, Body()]
    ) -> Response[RunningEmergency]:
        """Guards and the desk. One emergency per Idempotency-Key, however often the phone retries."""
        return await call.once(
            lambda: emergency.report_emergency(call.conn, call.user, data, now=call.now()), status=201
        )

    @get("/emergencies", summary="Emergencies reported by hand and still open, each with its checklist")
    async def reported(
        self, call: Call, site: SiteRef = None, limit: Limit = 50, offset: Offset = 0
    ) -> RunningEmergencyPage:
        """For whoever runs plans or reports emergencies (the guard's console)."""
        return await emergency.reported_emergencies(
            call.conn, call.user, site=site, limit=limit, offset=offset, now=call.now()
        )

    @get(
        "/drills/due",
        summary="The scenarios the site has not drilled within a year, with the last drill's day",
        guards=[requires_role(*rules.REGISTER_KEEPERS)],
    )
    async def drills_due(self, call: Call, site: SiteRef = None) -> DrillsDue:
        """The dashboard's drill reminder (supervisors, managers, admins)."""
        return await emergency.drills_due(call.conn, call.user, site=site, now=call.now())

    @get(
        "/alarms/{alarm_id:uuid}/welfare-visits",
        summary="The vulnerable residents to visit in the power cut this alarm reports",
    )
    async def welfare_visits(
        self, call: Call, alarm_id: FromPath[UUID], limit: Limit = 200, offset: Offset = 0
    ) -> VulnerableResidents:
        """Of the building whose plant raised it (the whole estate for estate plant); shown as docs/PRIVACY.md
        says (a guard in full while the emergency lasts, each read logged). Empty for other scenarios."""
        items, total = await emergency.welfare_visits(
            call.conn, call.user, alarm_id, limit=limit, offset=offset, **read_by(call.request)
        )
        return VulnerableResidents(items=items, total=total, limit=limit, offset=offset)

    @get(
        "/drills", summary="The drill register, newest first", guards=[requires_role(*rules.REGISTER_KEEPERS)]
    )
    async def drills(
        self,
        call: Call,
        site: SiteRef = None,
        scenario: Annotated[str | None, Parameter(max_length=32)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> DrillPage:
        """Supervisors, managers and admins."""
        return await emergency.list_drills(
            call.conn, call.user, site=site, scenario=scenario, limit=limit, offset=offset
        )

    @post(
        "/drills",
        status_code=201,
        summary="Register a drill: scenario, day, participants, timings, evaluation, actions",
        guards=[requires_role(*rules.REGISTER_KEEPERS)],
    )
    async def add_drill(self, call: Call, data: Annotated[DrillCreate, Body()]) -> Response[Drill]:
        """A drill held (not a future one)."""
        return await call.once(
            lambda: emergency.add_drill(call.conn, call.user, data, now=call.now()), status=201
        )

    @get(
        "/trainings",
        summary="The safety training register, newest first",
        guards=[requires_role(*rules.REGISTER_KEEPERS)],
    )
    async def trainings(
        self, call: Call, site: SiteRef = None, limit: Limit = 50, offset: Offset = 0
    ) -> TrainingPage:
        """Supervisors, managers and admins."""
        return await emergency.list_trainings(call.conn, call.user, site=site, limit=limit, offset=offset)

    @post(
        "/trainings",
        status_code=201,
        summary="Register a safety training session: topic, day, attendees",
        guards=[requires_role(*rules.REGISTER_KEEPERS)],
    )
    async def add_training(self, call: Call, data: Annotated[TrainingCreate, Body()]) -> Response[Training]:
        """A session held."""
        return await call.once(
            lambda: emergency.add_training(call.conn, call.user, data, now=call.now()), status=201
        )
