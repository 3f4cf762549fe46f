-- Staff side of owners' messages: an email handed to the SMTP server is marked before its DATA goes, so a
-- sender that dies while the server takes it is not sent again; what owners tell staff about a case.

ALTER TABLE owner_messages ADD COLUMN IF NOT EXISTS handed_over_at timestamptz;
-- a failed message staff sent again by hand: who and when (a new attempt through the same row)
ALTER TABLE owner_messages ADD COLUMN IF NOT EXISTS retried_by uuid REFERENCES users(id);
ALTER TABLE owner_messages ADD COLUMN IF NOT EXISTS retried_at timestamptz;

-- What an owner told staff from the owner's page about a case: `confirm` (the work is done, once per case)
CREATE TABLE IF NOT EXISTS owner_case_notes (
    id            bigserial PRIMARY KEY,
    work_order_id uuid NOT NULL REFERENCES work_orders(id),
    resident_id   uuid NOT NULL REFERENCES residents(id),
    kind          text NOT NULL CHECK (kind IN ('confirm')),
    body          text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS owner_case_notes_confirm ON owner_case_notes (work_order_id)
    WHERE kind = 'confirm';

-- What a vulnerable resident needs when the water or power goes (e.g. "独居老人，行动不便"): shown to the guard
ALTER TABLE residents ADD COLUMN IF NOT EXISTS vulnerable_need text;

-- Planned water or power cuts a manager announces for a building: one notice to each resident, one more
-- ("restored") when it is over.
CREATE TABLE IF NOT EXISTS planned_outages (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id     uuid NOT NULL REFERENCES sites(id),
    building_id uuid NOT NULL REFERENCES buildings(id),
    kind        text NOT NULL CHECK (kind IN ('water', 'power')),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
    note        text NOT NULL DEFAULT '',
    created_by  uuid REFERENCES users(id),
    created_at  timestamptz NOT NULL,
    restored_at timestamptz,
    restored_by uuid REFERENCES users(id)
);
CREATE INDEX IF NOT EXISTS planned_outages_open ON planned_outages (site_id, ends_at) WHERE restored_at IS NULL;

-- A guard's visit to a vulnerable resident during a water or power alarm or a planned outage (once each)
CREATE TABLE IF NOT EXISTS outage_visits (
    id          bigserial PRIMARY KEY,
    alarm_id    uuid REFERENCES alarms(id),
    outage_id   uuid REFERENCES planned_outages(id),
    resident_id uuid NOT NULL REFERENCES residents(id),
    visited_by  uuid NOT NULL REFERENCES users(id),
    visited_at  timestamptz NOT NULL,
    CHECK ((alarm_id IS NULL) <> (outage_id IS NULL))
);
CREATE UNIQUE INDEX IF NOT EXISTS outage_visits_once
    ON outage_visits (COALESCE(alarm_id, outage_id), resident_id);

-- owners' messages about a planned outage are logged against it
ALTER TABLE owner_messages ADD COLUMN IF NOT EXISTS planned_outage_id uuid REFERENCES planned_outages(id);
