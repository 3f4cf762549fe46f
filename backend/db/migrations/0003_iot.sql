-- Alarms, telemetry, device state and the gateway's record of what it has processed.

CREATE TABLE alarms (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id         uuid NOT NULL REFERENCES sites(id),
    device_id       text NOT NULL REFERENCES devices(id),
    code            text NOT NULL,
    severity        text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning')),
    active          boolean NOT NULL DEFAULT true,
    open            boolean NOT NULL DEFAULT true,      -- false once resolved; open+inactive = cleared, in cool-down
    count           int NOT NULL DEFAULT 1,
    detail          jsonb NOT NULL DEFAULT '{}'::jsonb,
    raised_at       timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    cleared_at      timestamptz,
    acked_at        timestamptz,
    acked_by        uuid REFERENCES users(id),
    resolved_at     timestamptz,
    resolved_by     uuid REFERENCES users(id),
    escalation_level smallint NOT NULL DEFAULT 0
);
-- at most one open alarm per (device, code): repeats and races bump it instead
CREATE UNIQUE INDEX alarms_one_open ON alarms (device_id, code) WHERE open;
CREATE INDEX alarms_site_active ON alarms (site_id, raised_at DESC) WHERE active;
CREATE INDEX alarms_unacked ON alarms (raised_at) WHERE acked_at IS NULL AND open;
ALTER TABLE work_orders ADD CONSTRAINT work_orders_alarm FOREIGN KEY (alarm_id) REFERENCES alarms(id);
-- at most one open work order per alarm
CREATE UNIQUE INDEX work_orders_one_open_per_alarm ON work_orders (alarm_id)
    WHERE alarm_id IS NOT NULL AND status NOT IN ('closed', 'cancelled');

CREATE TABLE alarm_events (
    id          bigserial PRIMARY KEY,
    alarm_id    uuid NOT NULL REFERENCES alarms(id),
    action      text NOT NULL,                           -- raised, repeated, cleared, reraised, acked, escalated, resolved
    actor_id    uuid REFERENCES users(id),
    at          timestamptz NOT NULL,
    payload     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX alarm_events_alarm ON alarm_events (alarm_id, id);
CREATE TRIGGER alarm_events_append_only BEFORE UPDATE OR DELETE ON alarm_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- (deviceId, eventId) seen: a redelivered MQTT message changes nothing
CREATE TABLE device_events (
    device_id   text NOT NULL REFERENCES devices(id),
    event_id    text NOT NULL,
    code        text NOT NULL,
    state       text NOT NULL,
    ts          timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    alarm_id    uuid REFERENCES alarms(id),
    PRIMARY KEY (device_id, event_id)
);

CREATE TABLE telemetry (
    device_id   text NOT NULL,
    ts          timestamptz NOT NULL,
    seq         bigint,
    metrics     jsonb NOT NULL
) PARTITION BY RANGE (ts);
CREATE INDEX telemetry_device_ts ON telemetry (device_id, ts DESC);
CREATE TABLE telemetry_default PARTITION OF telemetry DEFAULT;

-- Monthly partitions are made ahead by the scheduler; this makes the current and next month now.
CREATE FUNCTION ensure_telemetry_partition(month_start date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    name text := 'telemetry_' || to_char(month_start, 'YYYYMM');
BEGIN
    IF to_regclass(name) IS NULL THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF telemetry FOR VALUES FROM (%L) TO (%L)',
                       name, month_start, (month_start + interval '1 month')::date);
    END IF;
END $$;
SELECT ensure_telemetry_partition(date_trunc('month', now())::date);
SELECT ensure_telemetry_partition((date_trunc('month', now()) + interval '1 month')::date);

CREATE TABLE device_state (
    device_id       text PRIMARY KEY REFERENCES devices(id),
    online          boolean,
    status_at       timestamptz,
    last_seen_at    timestamptz,
    last_seq        bigint,
    metrics         jsonb NOT NULL DEFAULT '{}'::jsonb,
    metrics_at      timestamptz,
    -- threshold bookkeeping: since when each rule's condition has held, by rule code
    pending         jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE TABLE threshold_rules (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id         uuid REFERENCES sites(id),          -- NULL: default for every site
    device_kind     text NOT NULL,
    metric          text NOT NULL,
    code            text NOT NULL,
    direction       text NOT NULL CHECK (direction IN ('below', 'above')),
    raise_at        double precision NOT NULL,
    clear_at        double precision NOT NULL,          -- hysteresis: clear only past this
    hold_seconds    int NOT NULL DEFAULT 30,
    UNIQUE NULLS NOT DISTINCT (site_id, device_kind, code)
);
