-- A hazard's history steps were written with their payload encoded twice, so jsonb held a JSON string
-- instead of an object; turn each such string back into the object it spells.
UPDATE hazard_events SET payload = (payload #>> '{}')::jsonb WHERE jsonb_typeof(payload) = 'string';
