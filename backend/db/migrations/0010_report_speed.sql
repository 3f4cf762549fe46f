-- The KPI report reads clocks and callbacks of one site and one period. Without the site on those rows each
-- query had to join every clock or callback to work_orders just to filter by site, and the planner hashed the
-- whole work_orders table to do it. A work order never moves to another site, so its site is copied onto its
-- clocks and callbacks once, at insert, by a trigger: every writer (services, imports, fixtures) gets it
-- without having to know.

ALTER TABLE work_order_clocks ADD COLUMN site_id uuid REFERENCES sites(id);
UPDATE work_order_clocks c SET site_id = w.site_id FROM work_orders w WHERE w.id = c.work_order_id;
ALTER TABLE work_order_clocks ALTER COLUMN site_id SET NOT NULL;

ALTER TABLE callbacks ADD COLUMN site_id uuid REFERENCES sites(id);
UPDATE callbacks cb SET site_id = w.site_id FROM work_orders w WHERE w.id = cb.work_order_id;
ALTER TABLE callbacks ALTER COLUMN site_id SET NOT NULL;

CREATE FUNCTION site_of_work_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- always the work order's site: a caller cannot file a row under another site by mistake
    SELECT w.site_id INTO NEW.site_id FROM work_orders w WHERE w.id = NEW.work_order_id;
    RETURN NEW;
END $$;
CREATE TRIGGER work_order_clocks_site BEFORE INSERT ON work_order_clocks
    FOR EACH ROW EXECUTE FUNCTION site_of_work_order();
CREATE TRIGGER callbacks_site BEFORE INSERT ON callbacks
    FOR EACH ROW EXECUTE FUNCTION site_of_work_order();

-- Clock compliance, the digest's breaches: clocks of a site that fell due in a period, read index-only.
CREATE INDEX work_order_clocks_site_due ON work_order_clocks (site_id, due_at)
    INCLUDE (clock, met_at, paused_since, work_order_id);
DROP INDEX work_order_clocks_due_period;

-- Overdue now (report, technicians' workload, digest): the few clocks still running, by site and due time.
CREATE INDEX work_order_clocks_site_running ON work_order_clocks (site_id, due_at) INCLUDE (work_order_id, clock)
    WHERE met_at IS NULL AND paused_since IS NULL;

-- Satisfaction, overall and per technician: ratings given at a site in a period.
CREATE INDEX callbacks_site_rated ON callbacks (site_id, called_at) INCLUDE (work_order_id, satisfaction)
    WHERE satisfaction IS NOT NULL;
DROP INDEX callbacks_rated;

-- Work orders created in a period (summary, per-technician counts and attribution): every column those
-- reads need, so they are answered from the index alone. Same key as work_orders_site_created, which it
-- replaces.
CREATE INDEX work_orders_site_created_report ON work_orders (site_id, created_at)
    INCLUDE (id, kind, status, responded_at, arrived_at, completed_at, reopen_count, assignee_id,
             last_assignee_id);
DROP INDEX work_orders_site_created;

-- Completed in a period (complaint callbacks, per-technician results), likewise covering; replaces 0009's.
CREATE INDEX work_orders_site_completed_report ON work_orders (site_id, completed_at)
    INCLUDE (id, kind, status, created_at, assignee_id, last_assignee_id)
    WHERE completed_at IS NOT NULL;
DROP INDEX work_orders_site_completed;

-- Clock compliance leaves out cancelled jobs: their ids, without a visit to the table.
CREATE INDEX work_orders_site_cancelled ON work_orders (site_id, id) WHERE status = 'cancelled';
