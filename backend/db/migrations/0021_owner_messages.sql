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
