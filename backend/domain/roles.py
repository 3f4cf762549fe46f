"""Staff roles and who may do what at the level of the whole application."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's one role; what it may do is decided per action by the rules that use it."""

    ADMIN = "admin"
    MANAGER = "manager"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    TECHNICIAN = "technician"
    GUARD = "guard"


ALL_ROLES = frozenset(Role)
# People who take calls and dispatch (客服 and up).
DESK_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.SUPERVISOR, Role.AGENT})
# People who oversee: they are told of breaches and escalations.
OVERSIGHT_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.SUPERVISOR})
# People who work on jobs in the field or oversee them: they add photos and signatures.
EVIDENCE_ROLES = OVERSIGHT_ROLES | {Role.TECHNICIAN}
