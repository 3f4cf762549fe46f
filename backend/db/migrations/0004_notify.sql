-- The transactional outbox, the live stream's event log, push subscriptions and app-wide secrets.

CREATE TABLE notifications (
    id              bigserial PRIMARY KEY,
    site_id         uuid REFERENCES sites(id),
    recipient_id    uuid REFERENCES users(id),
    kind            text NOT NULL,                      -- alarm, assignment, breach, escalation, digest, ...
    urgency         text NOT NULL DEFAULT 'normal' CHECK (urgency IN ('very-low', 'low', 'normal', 'high')),
    title           text NOT NULL,
    body            text NOT NULL DEFAULT '',
    data            jsonb NOT NULL DEFAULT '{}'::jsonb,
    dedupe_key      text,                               -- one notification per recipient per fact
    created_at      timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    attempts        int NOT NULL DEFAULT 0,
    sent_at         timestamptz,
    failed_at       timestamptz,
    last_error      text,
    UNIQUE (recipient_id, dedupe_key)
);
CREATE INDEX notifications_pending ON notifications (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX notifications_recipient ON notifications (recipient_id, created_at DESC);

CREATE TABLE push_subscriptions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    endpoint    text NOT NULL UNIQUE,
    p256dh      text NOT NULL,
    auth        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE push_deliveries (
    id              bigserial PRIMARY KEY,
    notification_id bigint NOT NULL REFERENCES notifications(id),
    endpoint        text NOT NULL,
    status          int,
    error           text,
    at              timestamptz NOT NULL DEFAULT now()
);

-- What the SSE stream replays: NOTIFY carries only the id.
CREATE TABLE stream_events (
    id          bigserial PRIMARY KEY,
    site_id     uuid NOT NULL REFERENCES sites(id),
    type        text NOT NULL,
    roles       text[],                                 -- NULL: every staff role of the site
    data        jsonb NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stream_events_at ON stream_events (at);

CREATE TABLE app_secrets (
    name        text PRIMARY KEY,
    value       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Once-per-period jobs (daily digest, partition upkeep) record that they ran.
CREATE TABLE job_runs (
    job         text NOT NULL,
    scope       text NOT NULL,
    period      text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job, scope, period)
);
