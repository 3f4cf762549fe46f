"""What owners are told: a building's water cut reaches each resident once and its clearing once more;
a case's assignment, completion and rating request reach the unit's owner with the right words."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg

from backend.domain.clock import ManualClock
from backend.services import alarms
from tests.integration.work_order_evidence import act, create, user_id
from tests.owners.conftest import TEMPLATES, Owners


async def _event(db: asyncpg.Connection, device_id: str, code: str, state: str, clock: ManualClock) -> None:
    async with db.transaction():
        device = (await alarms.lookup_devices(db, [device_id]))[device_id]
        await alarms.record_device_event(
            db,
            device,
            event_id=str(uuid.uuid4()),
            code=code,
            state=state,
            ts=clock.now(),
            detail={},
            now=clock.now(),
        )


async def test_a_water_cut_tells_each_resident_of_the_building_once_and_its_end_once(owners: Owners) -> None:
    db, day_clock, fake_sms = owners.db, owners.clock, owners.sms
    building = await db.fetchrow("SELECT id, name FROM buildings ORDER BY code LIMIT 1")
    await db.execute(
        "UPDATE assets SET building_id = $1 WHERE id = (SELECT asset_id FROM devices WHERE id = 'pump-1')",
        building["id"],
    )
    phones = {
        r["phone"]
        for r in await db.fetch(
            """SELECT r.phone FROM residents r JOIN units u ON u.id = r.unit_id
               WHERE u.building_id = $1 AND r.phone IS NOT NULL""",
            building["id"],
        )
    }
    assert len(phones) > 10
    # one resident opted out of routine messages: a water cut still reaches them
    await db.execute("UPDATE residents SET messages_opt_out = true WHERE phone = $1", sorted(phones)[0])
    await _event(db, "pump-1", "PUMP_FAILURE", "raised", day_clock)
    day_clock.advance(timedelta(seconds=30))
    await _event(db, "pump-1", "PUMP_FAILURE", "raised", day_clock)  # the pump reports again
    outbox = owners.outbox(batch_size=500)
    await outbox.run_once(db)
    outage = [s for s in fake_sms.accepted if s.template == TEMPLATES["building_outage"]]
    assert sorted(s.phone.removeprefix("+86") for s in outage) == sorted(phones)
    assert outage[0].params[1] == building["name"] and outage[0].params[2] == "停水"
    day_clock.advance(timedelta(minutes=20))
    await _event(db, "pump-1", "PUMP_FAILURE", "cleared", day_clock)
    await _event(db, "pump-1", "PUMP_FAILURE", "cleared", day_clock)
    await outbox.run_once(db)
    restored = [s for s in fake_sms.accepted if s.template == TEMPLATES["building_restored"]]
    assert sorted(s.phone.removeprefix("+86") for s in restored) == sorted(phones)
    # nobody outside the building was told
    others = await db.fetchval(
        """SELECT count(*) FROM owner_messages m JOIN residents r ON r.id = m.resident_id
           JOIN units u ON u.id = r.unit_id WHERE u.building_id <> $1""",
        building["id"],
    )
    assert others == 0


async def test_a_case_tells_its_owner_who_comes_when_and_asks_for_a_rating(owners: Owners, login_as) -> None:
    client, db, fake_sms = owners.client, owners.db, owners.sms
    agent = await login_as("agent")
    wo = await create(client, agent)
    unit_phone = await db.fetchval(
        "SELECT r.phone FROM residents r JOIN work_orders w ON w.unit_id = r.unit_id WHERE w.id = $1::uuid",
        wo["id"],
    )
    await db.execute("UPDATE users SET badge = 'W-017' WHERE username = 'tech1'")
    r = await act(client, agent, wo["id"], "assign", {"assigneeId": await user_id(db, "tech1")})
    assert r.status_code == 200, r.text
    tech = await login_as("tech1")
    for step in ("accept", "depart"):
        assert (await act(client, tech, wo["id"], step)).status_code == 200
    await owners.outbox().run_once(db)
    sent = {s.template: s for s in fake_sms.to(unit_phone)}
    assigned = sent[TEMPLATES["technician_assigned"]]
    assert assigned.params[1] == wo["number"] and assigned.params[3] == "W-017" and assigned.params[4]
    assert sent[TEMPLATES["on_the_way"]].params[2] == assigned.params[2]
    logged = await db.fetch(
        "SELECT kind, status FROM owner_messages WHERE work_order_id = $1::uuid ORDER BY id", wo["id"]
    )
    assert ("technician_assigned", "sent") in [(r["kind"], r["status"]) for r in logged]
