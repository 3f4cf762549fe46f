-- Building notices from maintenance work: a job on a building's shared asset (a pump, a lift, a transformer)
-- may tell the building's residents what it interrupts and when, once, and once more when it is done. The
-- notice is a planned outage linked to its job (one per job); a lift stop joins water and power cuts.
ALTER TABLE planned_outages ADD COLUMN IF NOT EXISTS work_order_id uuid UNIQUE REFERENCES work_orders(id);
ALTER TABLE planned_outages DROP CONSTRAINT IF EXISTS planned_outages_kind_check;
ALTER TABLE planned_outages ADD CONSTRAINT planned_outages_kind_check CHECK (kind IN ('water', 'power', 'lift'));

-- A maintenance plan whose work interrupts a service announces each job it generates, lead_hours before
-- the work (its due day at the start hour of backend/domain/job_notices.py), for window_hours.
ALTER TABLE maintenance_plans ADD COLUMN IF NOT EXISTS notice_kind text
    CHECK (notice_kind IN ('water', 'power', 'lift'));
ALTER TABLE maintenance_plans ADD COLUMN IF NOT EXISTS notice_lead_hours int NOT NULL DEFAULT 24
    CHECK (notice_lead_hours BETWEEN 1 AND 168);
ALTER TABLE maintenance_plans ADD COLUMN IF NOT EXISTS notice_window_hours int NOT NULL DEFAULT 4
    CHECK (notice_window_hours BETWEEN 1 AND 72);
