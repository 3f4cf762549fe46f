"""How loudly a notice about a job alerts the person it is for (the push payload's `severity`).

An emergency keeps ringing on the technician's phone until it is accepted and its notification stays on
screen (`critical`); any other P1 rings once with a sticky notification (`major`); the rest ring once.
"""

from __future__ import annotations


def assignment_severity(kind: str, priority: int) -> str:
    """critical | major | minor for a job assigned to a technician."""
    if kind == "emergency":
        return "critical"
    return "major" if priority == 1 else "minor"
