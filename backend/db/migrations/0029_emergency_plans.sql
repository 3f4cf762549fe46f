-- Emergency plans (应急预案) run as timed checklists, and the register of drills and safety training.
-- The default plans and the drill rule live in backend/domain/emergency.py; a row here is a site's own plan.

CREATE TABLE IF NOT EXISTS emergency_plans (
    site_id     uuid NOT NULL REFERENCES sites(id),
    scenario    text NOT NULL CHECK (scenario IN ('entrapment', 'flooding', 'power_cut', 'fire')),
    steps       jsonb NOT NULL,
    phones      jsonb NOT NULL DEFAULT '[]',
    updated_by  uuid REFERENCES users(id),
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (site_id, scenario)
);

-- The plan copied onto an emergency work order when its alarm opened it: one row per step, ticked off once.
CREATE TABLE IF NOT EXISTS emergency_steps (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id        uuid NOT NULL REFERENCES sites(id),
    work_order_id  uuid NOT NULL REFERENCES work_orders(id),
    alarm_id       uuid REFERENCES alarms(id),
    scenario       text NOT NULL,
    position       int NOT NULL,
    label_zh       text NOT NULL,
    label_en       text NOT NULL,
    role           text NOT NULL,
    opened_at      timestamptz NOT NULL,
    due_at         timestamptz,
    done_at        timestamptz,
    done_by        uuid REFERENCES users(id),
    UNIQUE (work_order_id, position)
);
CREATE INDEX IF NOT EXISTS emergency_steps_alarm ON emergency_steps (alarm_id);

-- The numbers to call, as the plan had them when the emergency opened.
CREATE TABLE IF NOT EXISTS emergency_phones (
    work_order_id  uuid PRIMARY KEY REFERENCES work_orders(id),
    phones         jsonb NOT NULL,
    welfare_visits boolean NOT NULL DEFAULT false
);

CREATE TABLE IF NOT EXISTS drills (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id      uuid NOT NULL REFERENCES sites(id),
    scenario     text NOT NULL CHECK (scenario IN ('entrapment', 'flooding', 'power_cut', 'fire')),
    held_on      date NOT NULL,
    participants text[] NOT NULL DEFAULT '{}',
    timings      jsonb NOT NULL DEFAULT '[]',
    evaluation   text NOT NULL DEFAULT '' CHECK (length(evaluation) <= 4000),
    actions      text NOT NULL DEFAULT '' CHECK (length(actions) <= 4000),
    recorded_by  uuid REFERENCES users(id),
    recorded_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS drills_site ON drills (site_id, scenario, held_on DESC);

CREATE TABLE IF NOT EXISTS trainings (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id      uuid NOT NULL REFERENCES sites(id),
    topic        text NOT NULL CHECK (length(topic) <= 200),
    held_on      date NOT NULL,
    attendees    text[] NOT NULL DEFAULT '{}',
    note         text NOT NULL DEFAULT '' CHECK (length(note) <= 4000),
    trainer      text NOT NULL DEFAULT '' CHECK (length(trainer) <= 200),
    recorded_by  uuid REFERENCES users(id),
    recorded_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS trainings_site ON trainings (site_id, held_on DESC);

-- "No drill of this scenario within a year" told once per site, scenario and period (the day it fell due).
CREATE TABLE IF NOT EXISTS drill_reminders (
    site_id   uuid NOT NULL REFERENCES sites(id),
    scenario  text NOT NULL,
    due_from  date NOT NULL,
    sent_at   timestamptz NOT NULL,
    PRIMARY KEY (site_id, scenario, due_from)
);
