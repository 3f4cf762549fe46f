-- Owners write to staff about a case from the owner's page: a `message` note (free text), kept once per
-- request (the page's Idempotency-Key) and unread until a desk user opens the case. Staff replies carry
-- who sent them, so the owner's thread can name the role and name (never a phone number).

ALTER TABLE owner_case_notes DROP CONSTRAINT IF EXISTS owner_case_notes_kind_check;
ALTER TABLE owner_case_notes ADD CONSTRAINT owner_case_notes_kind_check CHECK (kind IN ('confirm', 'message'));
ALTER TABLE owner_case_notes ADD COLUMN IF NOT EXISTS request_key text;
ALTER TABLE owner_case_notes ADD COLUMN IF NOT EXISTS read_at timestamptz;
ALTER TABLE owner_case_notes ADD COLUMN IF NOT EXISTS read_by uuid REFERENCES users(id);
CREATE UNIQUE INDEX IF NOT EXISTS owner_case_notes_request
    ON owner_case_notes (work_order_id, resident_id, request_key) WHERE request_key IS NOT NULL;
-- an owner's messages in the last hour (the rate limit) and the desk's unread ones
CREATE INDEX IF NOT EXISTS owner_case_notes_by_resident ON owner_case_notes (resident_id, created_at)
    WHERE kind = 'message';
CREATE INDEX IF NOT EXISTS owner_case_notes_unread ON owner_case_notes (work_order_id)
    WHERE kind = 'message' AND read_at IS NULL;

ALTER TABLE owner_messages ADD COLUMN IF NOT EXISTS sent_by uuid REFERENCES users(id);
