"""Every API controller and handler, in one list that create_app() mounts."""

from __future__ import annotations

from backend.api.alarm_actions import AlarmActionController
from backend.api.alarms import AlarmController
from backend.api.auth import AuthController
from backend.api.campaigns import CampaignController
from backend.api.catalogue import catalogue
from backend.api.emergency import EmergencyController
from backend.api.evidence import EvidenceController
from backend.api.feedback import FeedbackController
from backend.api.hazards import MOVE_HANDLERS, HazardController
from backend.api.health import health, ready
from backend.api.job_notices import JobNoticeController
from backend.api.ledger_print import print_ledger
from backend.api.outages import OutageController
from backend.api.owner import OwnerController
from backend.api.owner_desk import OwnerDeskController, UnitLinkSheetController
from backend.api.personal_data import PersonalDataController
from backend.api.promises import PromiseController
from backend.api.push import PushController
from backend.api.pwa import service_worker, web_manifest
from backend.api.registry import REGISTRY_HANDLERS
from backend.api.reports import ReportsController
from backend.api.rounds import RoundsController
from backend.api.safety_checks import SafetyCheckController
from backend.api.stream import stream, stream_ticket
from backend.api.work_order_actions import ACTION_HANDLERS
from backend.api.work_orders import CallbackController, MaintenancePlanController, WorkOrderController

ROUTE_HANDLERS: list = [
    health,
    ready,
    AuthController,
    catalogue,
    AlarmActionController,
    AlarmController,
    PushController,
    stream,
    stream_ticket,
    WorkOrderController,
    *ACTION_HANDLERS,
    CallbackController,
    FeedbackController,
    MaintenancePlanController,
    EvidenceController,
    service_worker,
    web_manifest,
    ReportsController,
    PersonalDataController,
    OwnerController,
    OwnerDeskController,
    OutageController,
    JobNoticeController,
    UnitLinkSheetController,
    *REGISTRY_HANDLERS,
    RoundsController,
    SafetyCheckController,
    HazardController,
    print_ledger,
    *MOVE_HANDLERS,
    PromiseController,
    CampaignController,
    EmergencyController,
]
