-- Promises made to an owner on a case ("reply before 3 pm"): who made it, due when, kept when; the
-- scheduler reminds the maker shortly before it is due and tells them and the supervisor once it is broken
-- (each once: reminded_at, broken_at). The rules live in backend/domain/promises.py.

CREATE TABLE IF NOT EXISTS promises (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    work_order_id  uuid NOT NULL REFERENCES work_orders(id),
    site_id        uuid NOT NULL REFERENCES sites(id),
    text           text NOT NULL CHECK (length(text) BETWEEN 1 AND 500),
    due_at         timestamptz NOT NULL,
    made_by        uuid NOT NULL REFERENCES users(id),
    made_at        timestamptz NOT NULL,
    kept_at        timestamptz,
    kept_by        uuid REFERENCES users(id),
    kept_note      text CHECK (length(kept_note) <= 500),
    reminded_at    timestamptz,
    broken_at      timestamptz
);
CREATE INDEX IF NOT EXISTS promises_work_order ON promises (work_order_id, made_at);
CREATE INDEX IF NOT EXISTS promises_site_due ON promises (site_id, due_at);
CREATE INDEX IF NOT EXISTS promises_open ON promises (due_at) WHERE kept_at IS NULL AND broken_at IS NULL;
