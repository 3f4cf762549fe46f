-- Callback campaigns beyond single jobs (DOMAIN.md "Callbacks"): a monthly routine sample of units per site
-- and a move-in call a week after a resident is registered. One row is one call owed; its outcome is
-- written once. A routine sample is drawn once per site and month (campaign_runs claims it); a move-in
-- call is made once per resident. The rules live in backend/domain/campaigns.py.

CREATE TABLE IF NOT EXISTS campaign_runs (
    site_id      uuid NOT NULL REFERENCES sites(id),
    campaign     text NOT NULL CHECK (campaign IN ('routine_sample')),
    period       text NOT NULL CHECK (period ~ '^[0-9]{4}-[0-9]{2}$'),
    generated_at timestamptz NOT NULL,
    units        int NOT NULL,
    PRIMARY KEY (site_id, campaign, period)
);

CREATE TABLE IF NOT EXISTS campaign_calls (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id       uuid NOT NULL REFERENCES sites(id),
    campaign      text NOT NULL CHECK (campaign IN ('routine_sample', 'move_in')),
    -- the month sampled ('2026-03') of a routine call; a move-in call names its resident instead. The
    -- resident is named by id without a foreign key: one who moves out is deleted, the call stays.
    period        text CHECK (period ~ '^[0-9]{4}-[0-9]{2}$'),
    unit_id       uuid NOT NULL REFERENCES units(id),
    resident_id   uuid,
    resident_name text,
    due_at        timestamptz NOT NULL,
    created_at    timestamptz NOT NULL,
    outcome       text CHECK (outcome IN ('reached', 'no_answer', 'refused')),
    satisfaction  int CHECK (satisfaction BETWEEN 1 AND 5),
    notes         text NOT NULL DEFAULT '' CHECK (length(notes) <= 4000),
    follow_up_work_order_id uuid REFERENCES work_orders(id),
    called_by     uuid REFERENCES users(id),
    called_at     timestamptz,
    CHECK ((campaign = 'routine_sample') = (period IS NOT NULL)),
    CHECK ((campaign = 'move_in') = (resident_id IS NOT NULL))
);
CREATE UNIQUE INDEX IF NOT EXISTS campaign_calls_routine ON campaign_calls (site_id, period, unit_id)
    WHERE campaign = 'routine_sample';
CREATE UNIQUE INDEX IF NOT EXISTS campaign_calls_move_in ON campaign_calls (resident_id) WHERE campaign = 'move_in';
CREATE INDEX IF NOT EXISTS campaign_calls_open ON campaign_calls (site_id, due_at) WHERE outcome IS NULL;
CREATE INDEX IF NOT EXISTS campaign_calls_done ON campaign_calls (site_id, called_at) WHERE outcome IS NOT NULL;
