-- Suggestions and praise (建议/表扬, DOMAIN.md "Complaint"): recorded at the desk or filed by an owner,
-- routed to the site's supervisor (praise also onto the praised person's record), answered once.
CREATE TABLE IF NOT EXISTS feedback (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id          uuid NOT NULL REFERENCES sites(id),
    unit_id          uuid REFERENCES units(id),
    kind             text NOT NULL CHECK (kind IN ('suggestion', 'praise')),
    text             text NOT NULL CHECK (length(text) BETWEEN 1 AND 4000),
    channel          text NOT NULL CHECK (channel IN ('phone', 'counter', 'app')),
    reporter_name    text,
    reporter_phone   text,
    praised_user_id  uuid REFERENCES users(id),
    routed_to        uuid REFERENCES users(id),
    received_by      uuid REFERENCES users(id),  -- null: the owner filed it themselves
    created_at       timestamptz NOT NULL,
    answered_at      timestamptz,
    answered_by      uuid REFERENCES users(id),
    answer_via       text,
    answer           text,
    CHECK ((answered_at IS NULL) = (answer IS NULL))
);
CREATE INDEX IF NOT EXISTS feedback_site_created ON feedback (site_id, created_at);
CREATE INDEX IF NOT EXISTS feedback_open ON feedback (site_id, created_at) WHERE answered_at IS NULL;
CREATE INDEX IF NOT EXISTS feedback_praised ON feedback (praised_user_id) WHERE praised_user_id IS NOT NULL;
