-- The hazard ledger (安全隐患台账): 登记 → 分析 → 临时管控 → 整改 → 复查 → 销号, each step an event.
-- The rules (who may move a hazard from which state) live in backend/domain/hazards.py.

CREATE SEQUENCE hazard_numbers;

CREATE TABLE hazards (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    number           text NOT NULL UNIQUE,
    site_id          uuid NOT NULL REFERENCES sites(id),
    source           text NOT NULL CHECK (source IN ('round', 'job', 'quarterly_check', 'manual')),
    -- an abnormal round finding becomes exactly one hazard
    round_scan_id    uuid UNIQUE REFERENCES round_scans(id),
    found_on_work_order_id uuid REFERENCES work_orders(id),
    place            text NOT NULL CHECK (length(place) <= 200),
    description      text NOT NULL CHECK (length(description) <= 4000),
    risk_level       text NOT NULL CHECK (risk_level IN ('major', 'high', 'medium', 'low')),
    status           text NOT NULL DEFAULT 'registered'
                     CHECK (status IN ('registered', 'analysed', 'controlled', 'rectifying', 'rechecked', 'closed')),
    photo_sha256     text REFERENCES blobs(sha256),
    thumb_sha256     text REFERENCES blobs(sha256),
    reported_by      uuid REFERENCES users(id),
    reported_at      timestamptz NOT NULL,
    cause            text,
    responsible_id   uuid REFERENCES users(id),
    deadline         date,
    due_at           timestamptz,          -- the end of the deadline day in the site's time zone
    standard         text,
    control_measure  text,
    rectification_work_order_id uuid REFERENCES work_orders(id),
    recheck_note     text,
    rechecked_by     uuid REFERENCES users(id),
    closing_evidence text,
    closed_by        uuid REFERENCES users(id),
    closed_at        timestamptz,
    escalated_at     timestamptz           -- overdue: told once
);
CREATE INDEX hazards_site ON hazards (site_id, reported_at DESC);
CREATE INDEX hazards_overdue ON hazards (due_at) WHERE status <> 'closed' AND escalated_at IS NULL;

CREATE TABLE hazard_events (
    id          bigserial PRIMARY KEY,
    hazard_id   uuid NOT NULL REFERENCES hazards(id) ON DELETE CASCADE,
    action      text NOT NULL,
    from_status text,
    to_status   text NOT NULL,
    actor_id    uuid REFERENCES users(id),
    at          timestamptz NOT NULL,
    client_at   timestamptz,
    payload     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX hazard_events_hazard ON hazard_events (hazard_id, id);
