-- Per-technician KPIs count a job's clocks and ratings for its technician: the current assignee, or the last
-- one when nobody holds it. Finding that meant joining every clock and rating of the period to the whole
-- work_orders table. The technician is copied onto clocks and callbacks and kept in step by the database
-- itself: filled at insert, rewritten whenever a work order's assignee or last assignee changes, so the
-- copy cannot drift from the work order, whoever writes.

ALTER TABLE work_order_clocks ADD COLUMN technician_id uuid REFERENCES users(id);
ALTER TABLE callbacks ADD COLUMN technician_id uuid REFERENCES users(id);
UPDATE work_order_clocks c SET technician_id = coalesce(w.assignee_id, w.last_assignee_id)
FROM work_orders w WHERE w.id = c.work_order_id;
UPDATE callbacks cb SET technician_id = coalesce(w.assignee_id, w.last_assignee_id)
FROM work_orders w WHERE w.id = cb.work_order_id;

CREATE OR REPLACE FUNCTION site_of_work_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- always the work order's site and technician: a caller cannot file a row under another one by mistake
    SELECT w.site_id, coalesce(w.assignee_id, w.last_assignee_id) INTO NEW.site_id, NEW.technician_id
    FROM work_orders w WHERE w.id = NEW.work_order_id;
    RETURN NEW;
END $$;

CREATE FUNCTION technician_of_work_order_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE work_order_clocks SET technician_id = coalesce(NEW.assignee_id, NEW.last_assignee_id)
    WHERE work_order_id = NEW.id;
    UPDATE callbacks SET technician_id = coalesce(NEW.assignee_id, NEW.last_assignee_id)
    WHERE work_order_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER work_orders_technician AFTER UPDATE OF assignee_id, last_assignee_id ON work_orders
    FOR EACH ROW
    WHEN (coalesce(OLD.assignee_id, OLD.last_assignee_id)
          IS DISTINCT FROM coalesce(NEW.assignee_id, NEW.last_assignee_id))
    EXECUTE FUNCTION technician_of_work_order_changed();

-- The period's clocks and ratings with their technician, read from the index alone.
DROP INDEX work_order_clocks_site_due;
CREATE INDEX work_order_clocks_site_due ON work_order_clocks (site_id, due_at)
    INCLUDE (clock, met_at, paused_since, work_order_id, technician_id);
DROP INDEX callbacks_site_rated;
CREATE INDEX callbacks_site_rated ON callbacks (site_id, called_at)
    INCLUDE (work_order_id, satisfaction, technician_id)
    WHERE satisfaction IS NOT NULL;
