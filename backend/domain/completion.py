"""What finishing a job needs, as one pure function: photos, which checklist items apply, fields, signature.

The same answer is sent with every work order (`requirements`) and checked when the finishing action
arrives, so the phone shows exactly what the server will demand — offline too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

import msgspec

from backend.domain.maintenance_checks import check_items_for
from backend.domain.models import Model
from backend.domain.workflow import FINISHING_ACTION, Flow, Kind, flow_of


class Place(StrEnum):
    """Where a checklist item applies (DOMAIN.md "On site": home-visit items only in a home)."""

    HOME = "home"
    COMMON = "common"  # public areas and plant rooms
    ANY = "any"


class ChecklistItem(Model, frozen=True):
    """One on-site check the technician confirms before completing."""

    code: str
    label_zh: str
    label_en: str
    required: bool
    position: int
    place: str = Place.ANY


class Requirements(Model, frozen=True):
    """What the finishing action (`action`) of this job needs for the current visit.

    fields: body fields that must say something; after_photos: 'after' photos of this visit needed, with
    after_photos_taken so far; checklist: codes that must be ticked; signature: the owner signs this visit
    (or a reason is recorded) before the callback or the close.
    """

    action: str
    visit: int
    fields: tuple[str, ...] = ()
    after_photos: int = 0
    after_photos_taken: int = 0
    checklist: tuple[str, ...] = ()
    signature: bool = False


class Shortfall(msgspec.Struct, frozen=True):
    """One thing a finishing action still lacks: the field to point at and a stable code."""

    field: str
    code: str
    detail: str


# Kinds whose completion needs an "after" photo and the on-site checklist (DESIGN.md "Domain rules").
EVIDENCE_KINDS = frozenset({Kind.REPAIR, Kind.EMERGENCY, Kind.MAINTENANCE})
# What the finishing action's body must say, per flow.
FINISHING_FIELDS: Mapping[Flow, tuple[str, ...]] = {
    Flow.IN_HOME: ("workDone",),
    Flow.PUBLIC: ("workDone",),
    # telling the owner the result is a recorded contact: how, and what was said
    Flow.COMPLAINT: ("via", "summary"),
}


def applicable_checklist(items: Iterable[ChecklistItem], *, in_home: bool) -> list[ChecklistItem]:
    """The items of a kind's checklist that apply at this job's place, in order."""
    place = Place.HOME if in_home else Place.COMMON
    return sorted(
        (item for item in items if item.place in (place, Place.ANY)), key=lambda i: (i.position, i.code)
    )


def job_checklist(
    kind: str, *, asset_kind: str | None, kind_checklist: Iterable[ChecklistItem]
) -> list[ChecklistItem]:
    """The whole checklist of one job: a maintenance job on an asset checks what its asset kind's visit
    checks (backend/domain/maintenance_checks.py, all required, anywhere); any other job its kind's list."""
    if kind == Kind.MAINTENANCE and asset_kind is not None:
        return [
            ChecklistItem(code=code, label_zh=zh, label_en=en, required=True, position=i + 1)
            for i, (code, zh, en) in enumerate(check_items_for(asset_kind))
        ]
    return list(kind_checklist)


def requirements(
    *,
    kind: str,
    in_home: bool,
    visit: int,
    checklist: Iterable[ChecklistItem],
    after_photos_taken: int,
    asset_kind: str | None = None,
) -> Requirements:
    """The finishing action's requirements for this job and visit; `checklist` is the work-order kind's
    whole list, `asset_kind` the kind of the job's asset (a maintenance job checks that kind's items)."""
    flow = flow_of(kind, in_home)
    evidence = kind in EVIDENCE_KINDS
    items = job_checklist(kind, asset_kind=asset_kind, kind_checklist=checklist)
    required = [i.code for i in applicable_checklist(items, in_home=in_home) if i.required]
    return Requirements(
        action=FINISHING_ACTION[flow].value,
        visit=visit,
        fields=FINISHING_FIELDS[flow],
        after_photos=1 if evidence else 0,
        after_photos_taken=after_photos_taken,
        checklist=tuple(required) if evidence else (),
        signature=flow == Flow.IN_HOME,
    )


def shortfalls(req: Requirements, payload: Mapping[str, Any]) -> list[Shortfall]:
    """What the finishing action's payload and the job's evidence still lack (empty: it may finish)."""
    missing = []
    for name in req.fields:
        value = payload.get(name)
        if not isinstance(value, str) or not value.strip():
            missing.append(Shortfall(name, "field_required", f"{name} is required to {req.action}"))
    if req.after_photos_taken < req.after_photos:
        missing.append(
            Shortfall("photos", "after_photo_required", "take at least one 'after' photo of this visit")
        )
    ticked = payload.get("checklist") or {}
    undone = [code for code in req.checklist if ticked.get(code) is not True]
    if undone:
        missing.append(
            Shortfall("checklist", "checklist_incomplete", f"checklist items not done: {', '.join(undone)}")
        )
    return missing
