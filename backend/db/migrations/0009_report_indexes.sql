-- Indexes for the management reports (backend/db/queries/reports.py): each KPI reads one site and one
-- period, so every index leads with the column the period is cut on, or with the site and then that column.

-- Complaints by category and trend, the daily digest's complaints: one range per site and kind.
CREATE INDEX work_orders_site_kind_created ON work_orders (site_id, kind, created_at) INCLUDE (category);

-- Completed in the period: complaint callbacks within 3 days, per-technician results.
CREATE INDEX work_orders_site_completed ON work_orders (site_id, completed_at)
    WHERE completed_at IS NOT NULL;

-- SLA compliance: clocks that fell due in the period; the covering columns spare a heap visit per clock.
CREATE INDEX work_order_clocks_due_period ON work_order_clocks (due_at) INCLUDE (clock, met_at, paused_since, work_order_id);

-- Satisfaction: ratings given in the period.
CREATE INDEX callbacks_rated ON callbacks (called_at) INCLUDE (work_order_id, satisfaction)
    WHERE satisfaction IS NOT NULL;

-- Alarms by code and severity and acknowledgement times: alarms raised in the period at a site.
CREATE INDEX alarms_site_raised ON alarms (site_id, raised_at) INCLUDE (code, severity, acked_at);
