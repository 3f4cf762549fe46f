"""Every API controller and handler, in one list that create_app() mounts."""

from __future__ import annotations

from backend.api.auth import AuthController
from backend.api.evidence import EvidenceController
from backend.api.health import health, ready
from backend.api.pwa import service_worker, web_manifest
from backend.api.registry import REGISTRY_CONTROLLERS
from backend.api.reports import ReportsController

ROUTE_HANDLERS: list = [
    health,
    ready,
    AuthController,
    EvidenceController,
    service_worker,
    web_manifest,
    ReportsController,
    *REGISTRY_CONTROLLERS,
]
