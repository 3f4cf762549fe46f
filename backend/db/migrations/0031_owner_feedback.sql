-- Suggestions and praise filed from the owner's page: the request's Idempotency-Key, so a send the phone
-- repeats (a retry after a dropped answer) files it once per unit; and the unit's list for the owner.
ALTER TABLE feedback ADD COLUMN IF NOT EXISTS owner_request_key text;
CREATE UNIQUE INDEX IF NOT EXISTS feedback_owner_request ON feedback (unit_id, owner_request_key)
    WHERE owner_request_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS feedback_unit_created ON feedback (unit_id, created_at) WHERE unit_id IS NOT NULL;
