"""Staff endpoints: the desk lists the staff; admins create and change accounts; duty on and off."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, delete, get, patch, post
from litestar.params import Body, FromPath, Parameter

from backend.api.deps import Call
from backend.api.paging import Limit, Offset, Page
from backend.api.registry.common import (
    ADMIN_ONLY,
    UNSET,
    Code,
    Name,
    Phone,
    Search,
    SiteRef,
    Skill,
    Unset,
    patch_fields,
)
from backend.api.security import forget_user, requires_role
from backend.domain.models import Model
from backend.domain.registry import (
    StaffMember,
)
from backend.domain.roles import DESK_ROLES, OVERSIGHT_ROLES, Role
from backend.errors import Conflict, Forbidden
from backend.services import registry as svc
from backend.services import users as users_svc


class UserCreate(Model):
    """A new account; `sites` are site codes."""

    username: Annotated[str, msgspec.Meta(min_length=2, max_length=64)]
    display_name: Name
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    role: Role
    sites: Annotated[list[Code], msgspec.Meta(max_length=100)] = msgspec.field(default_factory=list)
    skills: Annotated[list[Skill], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    on_duty: bool = False
    phone: Phone | None = None


class UserUpdate(Model):
    """Changes to an account."""

    display_name: Name | Unset = UNSET
    role: Role | Unset = UNSET
    phone: Phone | Unset | None = UNSET
    skills: Annotated[list[Skill], msgspec.Meta(max_length=20)] | Unset = UNSET
    on_duty: bool | Unset = UNSET
    active: bool | Unset = UNSET
    locale: Annotated[str, msgspec.Meta(max_length=5, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] | Unset = UNSET
    sites: Annotated[list[Code], msgspec.Meta(max_length=100)] | Unset = UNSET
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)] | Unset = UNSET


class DutyChange(Model):
    """Going on or off duty."""

    on_duty: bool


class UserController(Controller):
    """Staff accounts: the desk lists colleagues for dispatch; admins manage accounts."""

    path = "/api/v1/users"
    tags = ("registry",)

    @get(
        "/",
        guards=[requires_role(*DESK_ROLES)],
        summary="Colleagues (dispatch: on-duty technicians by skill)",
    )
    async def list_users(
        self,
        call: Call,
        site: SiteRef = None,
        role: Annotated[str | None, Parameter(max_length=16)] = None,
        skill: Annotated[str | None, Parameter(max_length=32)] = None,
        on_duty: Annotated[bool | None, Parameter(query="onDuty")] = None,
        active: bool | None = None,
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[StaffMember]:
        """Users of the caller's sites, e.g. `?role=technician&onDuty=true&skill=water`."""
        site_id = (await svc.resolve_site(call.conn, call.user, site)).id if site else None
        items, total = await users_svc.list_users(
            call.conn,
            call.user,
            site_id=site_id,
            role=role,
            skill=skill,
            on_duty=on_duty,
            active=active,
            q_text=q,
            limit=limit,
            offset=offset,
        )
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/{user_id:uuid}", guards=[requires_role(*DESK_ROLES)], summary="One colleague")
    async def get_user(self, call: Call, user_id: FromPath[UUID]) -> StaffMember:
        """A user of the caller's sites."""
        return await users_svc.get_user(call.conn, call.user, user_id)

    @post("/", guards=ADMIN_ONLY, summary="Create an account")
    async def create_user(self, call: Call, data: Annotated[UserCreate, Body()]) -> Response[StaffMember]:
        """A new account (admins); the demo password is refused."""
        return await call.once(
            lambda: users_svc.create_user(
                call.conn,
                username=data.username,
                display_name=data.display_name,
                password=data.password,
                role=data.role,
                site_codes=data.sites,
                skills=data.skills,
                on_duty=data.on_duty,
                phone=data.phone,
            ),
            status=201,
        )

    @patch("/{user_id:uuid}", guards=ADMIN_ONLY, summary="Change an account")
    async def update_user(
        self, call: Call, user_id: FromPath[UUID], data: Annotated[UserUpdate, Body()]
    ) -> Response[StaffMember]:
        """Change names, role, skills, duty, sites, password or active (admins)."""
        changes = patch_fields(data)
        site_codes = changes.pop("sites", None)
        if user_id == call.user.id and (
            changes.get("active") is False or changes.get("role", Role.ADMIN) != Role.ADMIN
        ):
            raise Conflict("admins cannot lock themselves out", code="self_lockout")
        forget_user(call.request, user_id)
        return await call.once(
            lambda: users_svc.update_user(call.conn, user_id, changes, site_codes=site_codes)
        )

    @delete("/{user_id:uuid}", guards=ADMIN_ONLY, status_code=200, summary="Deactivate an account")
    async def deactivate_user(self, call: Call, user_id: FromPath[UUID]) -> Response[StaffMember]:
        """Accounts are never deleted (the audit trail names them); this switches one off, tokens too."""
        if user_id == call.user.id:
            raise Conflict("admins cannot lock themselves out", code="self_lockout")
        forget_user(call.request, user_id)
        return await call.once(lambda: users_svc.deactivate(call.conn, user_id))

    @post("/{user_id:uuid}/duty", status_code=200, summary="Go on or off duty")
    async def set_duty(
        self, call: Call, user_id: FromPath[UUID], data: Annotated[DutyChange, Body()]
    ) -> Response[StaffMember]:
        """Anyone for themselves; supervisors and up for colleagues of their sites."""
        if user_id != call.user.id and call.user.role not in OVERSIGHT_ROLES:
            raise Forbidden("only supervisors and up put colleagues on or off duty", code="role_forbidden")

        async def change() -> StaffMember:
            await users_svc.get_user(call.conn, call.user, user_id)
            return await users_svc.set_on_duty(call.conn, user_id, data.on_duty)

        forget_user(call.request, user_id)
        return await call.once(change)
