-- Messages to owners (SMS, email) through one outbox, and what owners choose to receive.

ALTER TABLE residents ADD COLUMN email text;
ALTER TABLE residents ADD COLUMN locale text NOT NULL DEFAULT 'zh-CN' CHECK (locale IN ('zh-CN', 'en'));
-- opted out of non-urgent messages (urgent ones, e.g. a water cut, still go)
ALTER TABLE residents ADD COLUMN messages_opt_out boolean NOT NULL DEFAULT false;

CREATE TABLE owner_messages (
    id              bigserial PRIMARY KEY,
    site_id         uuid NOT NULL REFERENCES sites(id),
    resident_id     uuid REFERENCES residents(id),
    work_order_id   uuid REFERENCES work_orders(id),     -- the case the message is logged against
    alarm_id        uuid REFERENCES alarms(id),
    -- the fact being told, e.g. "wo:<id>:received"; with recipient and channel it makes a message unique
    event_key       text NOT NULL,
    kind            text NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient       text NOT NULL,                      -- phone number or email address
    locale          text NOT NULL DEFAULT 'zh-CN',
    urgent          boolean NOT NULL DEFAULT false,
    params          jsonb NOT NULL DEFAULT '{}'::jsonb, -- template parameters, in order for SMS
    body            text NOT NULL,
    -- pending → sending → sent | pending (retry) | failed; suppressed: opted out or switched off by the site
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'suppressed')),
    attempts        int NOT NULL DEFAULT 0,
    -- pending: when to try; sending: when the lease runs out and the send is in doubt
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    provider_ref    text,                               -- the provider's serial number once accepted
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    failed_at       timestamptz,
    UNIQUE (event_key, recipient, channel)
);
CREATE INDEX owner_messages_due ON owner_messages (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX owner_messages_case ON owner_messages (work_order_id, created_at) WHERE work_order_id IS NOT NULL;
CREATE INDEX owner_messages_failed ON owner_messages (site_id, failed_at DESC) WHERE status = 'failed';

-- The owner's page: a link per unit (printed as a QR code), sign-in by one-time SMS code, owner sessions.
ALTER TABLE units ADD COLUMN owner_link text NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', '');
CREATE UNIQUE INDEX units_owner_link ON units (owner_link);
-- the number on the technician's badge (工号), shown to owners instead of any phone number
ALTER TABLE users ADD COLUMN badge text;

CREATE TABLE owner_codes (
    id          bigserial PRIMARY KEY,
    unit_id     uuid NOT NULL REFERENCES units(id),
    resident_id uuid REFERENCES residents(id),       -- NULL: the number is not registered for the unit
    phone       text NOT NULL,
    address     text NOT NULL,
    salt        bytea NOT NULL,
    code_hash   bytea,                                -- NULL when no code was sent
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    wrong       int NOT NULL DEFAULT 0,
    used_at     timestamptz
);
CREATE INDEX owner_codes_phone ON owner_codes (phone, created_at DESC);
CREATE INDEX owner_codes_address ON owner_codes (address, created_at DESC);

-- every failed sign-in (wrong or expired code): throttling reads it, staff can audit it
CREATE TABLE owner_sign_in_failures (
    id          bigserial PRIMARY KEY,
    phone       text NOT NULL,
    address     text NOT NULL,
    reason      text NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX owner_sign_in_failures_address ON owner_sign_in_failures (address, at DESC);
CREATE INDEX owner_sign_in_failures_phone ON owner_sign_in_failures (phone, at DESC);

CREATE TABLE owner_sessions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash  bytea NOT NULL UNIQUE,
    resident_id uuid NOT NULL REFERENCES residents(id),
    unit_id     uuid NOT NULL REFERENCES units(id),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);

-- photos an owner attached from the owner's page (no staff uploader; shown with the job as the fault)
ALTER TABLE photos ADD COLUMN by_owner boolean NOT NULL DEFAULT false;
