-- The quarterly safety check (季度安全检查): one per site per quarter (the unique key refuses a second however
-- many schedulers run), one row per focus point of the template in backend/domain/safety_checks.py; a
-- finding is linked to the hazard it registered.

CREATE TABLE IF NOT EXISTS safety_checks (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id      uuid NOT NULL REFERENCES sites(id),
    quarter      text NOT NULL CHECK (quarter ~ '^[0-9]{4}Q[1-4]$'),
    period_start date NOT NULL,
    due_on       date NOT NULL,
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    created_at   timestamptz NOT NULL,
    completed_at timestamptz,
    UNIQUE (site_id, quarter)
);

CREATE TABLE IF NOT EXISTS safety_check_points (
    check_id     uuid NOT NULL REFERENCES safety_checks(id) ON DELETE CASCADE,
    code         text NOT NULL,
    position     int NOT NULL,
    outcome      text CHECK (outcome IN ('ok', 'finding')),
    note         text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    risk_level   text CHECK (risk_level IN ('major', 'high', 'medium', 'low')),
    photo_sha256 text REFERENCES blobs(sha256),
    thumb_sha256 text REFERENCES blobs(sha256),
    hazard_id    uuid REFERENCES hazards(id),
    answered_by  uuid REFERENCES users(id),
    answered_at  timestamptz,
    client_at    timestamptz,
    PRIMARY KEY (check_id, code)
);

-- a hazard found on a quarterly check names the check it came from
ALTER TABLE hazards ADD COLUMN IF NOT EXISTS safety_check_id uuid REFERENCES safety_checks(id);
