"""Staff accounts: creating them (with the password rules), duty, deactivation, and who may see whom."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from backend.db.queries import staff as q
from backend.db.queries.registry import sites as registry_sites_q
from backend.domain.models import CurrentUser
from backend.domain.registry import SKILLS, StaffMember
from backend.domain.roles import ALL_ROLES, Role
from backend.errors import NotFound, ValidationFailed
from backend.services.passwords import check_new_password, hash_password
from backend.services.sessions import EndedWhy, end_user_sessions

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")


def _check_role(role: str) -> None:
    if role not in ALL_ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(sorted(ALL_ROLES))}", field="role")


def _check_skills(skills: Sequence[str]) -> list[str]:
    unknown = sorted(set(skills) - SKILLS)
    if unknown:
        raise ValidationFailed(
            f"unknown skills {', '.join(unknown)}; known: {', '.join(sorted(SKILLS))}", field="skills"
        )
    return list(dict.fromkeys(skills))


async def _site_ids(conn: asyncpg.Connection, site_codes: Sequence[str], role: str) -> list[UUID]:
    codes = list(dict.fromkeys(site_codes))
    found = await registry_sites_q.site_ids_by_code(conn, codes)
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationFailed(f"unknown sites: {', '.join(unknown)}", field="sites")
    if not codes and role != Role.ADMIN:
        # everyone but an admin works for at least one estate, or they would see nothing at all
        raise ValidationFailed("a user needs at least one site", field="sites")
    return [found[c] for c in codes]


async def create_user(
    conn: asyncpg.Connection,
    *,
    username: str,
    display_name: str,
    password: str,
    role: str,
    site_codes: Sequence[str],
    skills: Sequence[str] = (),
    on_duty: bool = False,
    phone: str | None = None,
    demo: bool = False,
) -> StaffMember:
    """Create an account; the demo password is refused unless `demo` (seeding the demo estate)."""
    if not USERNAME_PATTERN.match(username):
        raise ValidationFailed("username must be 2-64 letters, digits, '.', '_' or '-'", field="username")
    if not display_name.strip():
        raise ValidationFailed("display name must not be empty", field="displayName")
    _check_role(role)
    check_new_password(password, names=(username, display_name), demo=demo)
    site_ids = await _site_ids(conn, site_codes, role)
    user_id = await q.insert_user(
        conn,
        username=username,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        role=role,
        phone=phone,
        skills=_check_skills(skills),
        on_duty=on_duty,
        site_ids=site_ids,
    )
    created = await q.get_staff(conn, user_id)
    assert created is not None
    return created


def _visible(viewer: CurrentUser, member: StaffMember) -> bool:
    return viewer.is_admin or viewer.id == member.id or any(viewer.may_see_site(s) for s in member.site_ids)


async def get_user(conn: asyncpg.Connection, viewer: CurrentUser, user_id: UUID) -> StaffMember:
    """A colleague of one of the viewer's sites (NotFound for anyone else)."""
    member = await q.get_staff(conn, user_id)
    if member is None or not _visible(viewer, member):
        raise NotFound("no such user", code="user_not_found")
    return member


async def list_users(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    *,
    site_id: UUID | None = None,
    role: str | None = None,
    skill: str | None = None,
    on_duty: bool | None = None,
    active: bool | None = None,
    q_text: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[StaffMember], int]:
    """Colleagues of the viewer's sites, filtered (dispatch asks for on-duty technicians with a skill)."""
    return await q.list_staff(
        conn,
        site_ids=None if viewer.is_admin else list(viewer.site_ids),
        site_id=site_id,
        role=role,
        skill=skill,
        on_duty=on_duty,
        active=active,
        q=q_text,
        limit=limit,
        offset=offset,
    )


async def update_user(
    conn: asyncpg.Connection, user_id: UUID, changes: dict[str, Any], site_codes: Sequence[str] | None = None
) -> StaffMember:
    """Change an account (admins): names, role, skills, duty, sites, password, active."""
    changes = dict(changes)
    if "role" in changes:
        _check_role(changes["role"])
    if "skills" in changes:
        changes["skills"] = _check_skills(changes["skills"])
    if "display_name" in changes:
        if not changes["display_name"].strip():
            raise ValidationFailed("display name must not be empty", field="displayName")
        changes["display_name"] = changes["display_name"].strip()
    if "password" in changes:
        password = changes.pop("password")
        current = await q.get_staff(conn, user_id)
        if current is None:
            raise NotFound("no such user", code="user_not_found")
        names = (current.username, changes.get("display_name", current.display_name))
        check_new_password(password, names=names)
        changes["password_hash"] = hash_password(password)
    if not await q.update_user(conn, user_id, changes):
        raise NotFound("no such user", code="user_not_found")
    # A switched-off account or a password an admin reset ends every session: reactivating the account
    # later must not bring old tokens back to life.
    if changes.get("active") is False:
        await end_user_sessions(conn, user_id, EndedWhy.DEACTIVATED)
    elif "password_hash" in changes:
        await end_user_sessions(conn, user_id, EndedWhy.PASSWORD_RESET)
    if site_codes is not None:
        current = await q.get_staff(conn, user_id)
        assert current is not None
        await q.set_memberships(conn, user_id, await _site_ids(conn, site_codes, current.role))
    updated = await q.get_staff(conn, user_id)
    assert updated is not None
    return updated


async def set_on_duty(conn: asyncpg.Connection, user_id: UUID, on_duty: bool) -> StaffMember:
    """Put a user on or off duty (dispatch offers jobs only to those on duty)."""
    return await update_user(conn, user_id, {"on_duty": on_duty})


async def deactivate(conn: asyncpg.Connection, user_id: UUID) -> StaffMember:
    """Switch an account off: its sessions end, its streams close, and it can no longer log in."""
    return await update_user(conn, user_id, {"active": False, "on_duty": False})
