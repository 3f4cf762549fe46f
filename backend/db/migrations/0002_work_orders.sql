-- Work orders with their append-only event log, SLA clocks, evidence, callbacks and planned maintenance.

CREATE TABLE sla_policies (
    site_id             uuid REFERENCES sites(id),       -- NULL: the company-wide default
    kind                text NOT NULL,
    priority            smallint NOT NULL CHECK (priority BETWEEN 1 AND 4),
    respond_minutes     int,
    arrive_minutes      int,
    resolve_minutes     int,
    callback_minutes    int,
    UNIQUE NULLS NOT DISTINCT (site_id, kind, priority)
);

CREATE TABLE work_order_numbers (
    site_id  uuid NOT NULL REFERENCES sites(id),
    day      date NOT NULL,
    last     int  NOT NULL,
    PRIMARY KEY (site_id, day)
);

CREATE TABLE work_orders (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id         uuid NOT NULL REFERENCES sites(id),
    number          text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('repair', 'complaint', 'emergency', 'maintenance', 'inspection')),
    status          text NOT NULL CHECK (status IN ('new', 'assigned', 'accepted', 'en_route', 'on_site', 'paused',
                                                    'completed', 'signed', 'closed', 'cancelled')),
    priority        smallint NOT NULL CHECK (priority BETWEEN 1 AND 4),
    category        text NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('phone', 'counter', 'app', 'sensor', 'patrol', 'schedule')),
    title           text NOT NULL,
    description     text NOT NULL DEFAULT '',
    unit_id         uuid REFERENCES units(id),
    asset_id        uuid REFERENCES assets(id),
    alarm_id        uuid,                              -- set for work orders raised by an alarm (FK in 0003)
    plan_id         uuid,                              -- set for planned maintenance (FK below)
    reporter_name   text,
    reporter_phone  text,
    location        text NOT NULL DEFAULT '',
    in_home         boolean NOT NULL DEFAULT false,    -- a home visit needs the owner's signature
    major           boolean NOT NULL DEFAULT false,    -- a major complaint goes to management at once
    appointment_at  timestamptz,
    assignee_id     uuid REFERENCES users(id),
    last_assignee_id uuid REFERENCES users(id),
    created_by      uuid REFERENCES users(id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    responded_at    timestamptz,
    arrived_at      timestamptz,
    completed_at    timestamptz,
    closed_at       timestamptz,
    reopen_count    int NOT NULL DEFAULT 0,
    version         int NOT NULL DEFAULT 0,            -- seq of the last event: row and log move together
    resolution      jsonb NOT NULL DEFAULT '{}'::jsonb, -- cause, work done, parts, chargeable, advice, checklist
    UNIQUE (site_id, number)
);
CREATE INDEX work_orders_assignee_open ON work_orders (assignee_id, priority, created_at)
    WHERE status NOT IN ('closed', 'cancelled');
CREATE INDEX work_orders_site_status ON work_orders (site_id, status, created_at DESC);
CREATE INDEX work_orders_site_created ON work_orders (site_id, created_at);
CREATE INDEX work_orders_unit ON work_orders (unit_id, created_at DESC) WHERE unit_id IS NOT NULL;
CREATE INDEX work_orders_asset ON work_orders (asset_id, created_at DESC) WHERE asset_id IS NOT NULL;

CREATE TABLE work_order_events (
    id              bigserial PRIMARY KEY,
    work_order_id   uuid NOT NULL REFERENCES work_orders(id),
    seq             int NOT NULL,
    action          text NOT NULL,
    from_status     text,
    to_status       text NOT NULL,
    actor_id        uuid REFERENCES users(id),
    at              timestamptz NOT NULL,               -- server time of receipt
    client_at       timestamptz,                        -- when it happened on the phone (maybe offline)
    geo             jsonb,
    payload         jsonb NOT NULL DEFAULT '{}'::jsonb,
    UNIQUE (work_order_id, seq)
);

-- The audit trail is append-only: the database refuses to rewrite history.
CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER work_order_events_append_only BEFORE UPDATE OR DELETE ON work_order_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- One row per clock per work order; the escalation job claims due rows with SKIP LOCKED.
CREATE TABLE work_order_clocks (
    work_order_id   uuid NOT NULL REFERENCES work_orders(id),
    clock           text NOT NULL CHECK (clock IN ('respond', 'arrive', 'resolve', 'callback')),
    due_at          timestamptz NOT NULL,
    met_at          timestamptz,
    paused_since    timestamptz,
    breached_at     timestamptz,                        -- first escalation: assignee + supervisor
    escalated_at    timestamptz,                        -- second escalation: manager
    PRIMARY KEY (work_order_id, clock)
);
CREATE INDEX work_order_clocks_due ON work_order_clocks (due_at)
    WHERE met_at IS NULL AND paused_since IS NULL AND escalated_at IS NULL;

CREATE TABLE blobs (
    sha256      text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size        bigint NOT NULL,
    media_type  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE photos (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    work_order_id   uuid NOT NULL REFERENCES work_orders(id),
    stage           text NOT NULL CHECK (stage IN ('before', 'during', 'after')),
    sha256          text NOT NULL REFERENCES blobs(sha256),
    thumb_sha256    text NOT NULL REFERENCES blobs(sha256),
    width           int NOT NULL,
    height          int NOT NULL,
    taken_at        timestamptz,                        -- EXIF capture time when present
    client_at       timestamptz,
    uploaded_by     uuid REFERENCES users(id),
    uploaded_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (work_order_id, sha256, stage)
);

CREATE TABLE signatures (
    work_order_id   uuid PRIMARY KEY REFERENCES work_orders(id),
    sha256          text REFERENCES blobs(sha256),      -- NULL when nobody could sign
    signer_name     text,
    relation        text CHECK (relation IN ('owner', 'tenant', 'family', 'agent')),
    no_sign_reason  text CHECK (no_sign_reason IN ('owner_absent', 'public_area', 'refused', 'other')),
    record_hash     text NOT NULL,
    record          jsonb NOT NULL,                      -- the canonical record that was hashed
    signed_by       uuid REFERENCES users(id),
    signed_at       timestamptz NOT NULL,
    client_at       timestamptz,
    CHECK ((sha256 IS NOT NULL AND signer_name IS NOT NULL AND relation IS NOT NULL) OR no_sign_reason IS NOT NULL)
);

-- The on-site checklist is data: per kind, optionally per site.
CREATE TABLE checklist_items (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id     uuid REFERENCES sites(id),              -- NULL: default for every site
    kind        text NOT NULL,
    code        text NOT NULL,
    position    int NOT NULL,
    label_zh    text NOT NULL,
    label_en    text NOT NULL,
    required    boolean NOT NULL DEFAULT true,
    UNIQUE NULLS NOT DISTINCT (site_id, kind, code)
);

CREATE TABLE callbacks (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    work_order_id   uuid NOT NULL REFERENCES work_orders(id),
    attempt         int NOT NULL,
    reached         boolean NOT NULL,
    satisfaction    smallint CHECK (satisfaction BETWEEN 1 AND 5),
    comment         text NOT NULL DEFAULT '',
    called_by       uuid REFERENCES users(id),
    called_at       timestamptz NOT NULL,
    UNIQUE (work_order_id, attempt),
    CHECK (reached OR satisfaction IS NULL)
);

CREATE TABLE maintenance_plans (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id         uuid NOT NULL REFERENCES sites(id),
    asset_id        uuid NOT NULL REFERENCES assets(id),
    title           text NOT NULL,
    interval_days   int CHECK (interval_days > 0),
    cron            text,                               -- alternative to interval_days, 5-field crontab
    lead_days       int NOT NULL DEFAULT 2 CHECK (lead_days >= 0),
    next_due_on     date NOT NULL,
    active          boolean NOT NULL DEFAULT true,
    CHECK ((interval_days IS NULL) <> (cron IS NULL))
);
ALTER TABLE work_orders ADD CONSTRAINT work_orders_plan FOREIGN KEY (plan_id) REFERENCES maintenance_plans(id);
-- exactly one work order per plan and period, however many schedulers run
CREATE UNIQUE INDEX work_orders_plan_period ON work_orders (plan_id, (resolution ->> 'periodDue'))
    WHERE plan_id IS NOT NULL;

CREATE TABLE idempotency_keys (
    user_id     uuid NOT NULL REFERENCES users(id),
    key         text NOT NULL,
    request     text NOT NULL,                           -- method and path: a key reused elsewhere is refused
    status      int,
    body        bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
