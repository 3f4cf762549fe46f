-- A technician's list shows their closed jobs too (after the open ones), so the partial index on open
-- work orders does not serve it; this one does.
CREATE INDEX work_orders_assignee_all ON work_orders (assignee_id, site_id);
