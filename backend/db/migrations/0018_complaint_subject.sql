-- A complaint may be about a member of staff (a guard's attitude, a technician's work): who it names.
-- Assigning the complaint to that person is refused (backend/domain/workflow.py), and dispatch leaves them out.
ALTER TABLE work_orders ADD COLUMN complained_about_id uuid REFERENCES users (id);
