-- Since when an alarm has waited for acknowledgement: its raise, or its latest re-raise within the
-- cool-down (which needs acknowledging afresh and climbs the escalation ladder again from the bottom).
ALTER TABLE alarms ADD COLUMN unacked_since timestamptz;
UPDATE alarms SET unacked_since = raised_at WHERE acked_at IS NULL;
