-- More daily rollups: the per-technician results, the complaint desk and complaint callbacks of a closed day,
-- so a year's report reads none of the period's rows (docs/REPORTS.md "Daily rollups").
--
-- They ride on kpi_days' validity: each is computed and stored with its day's kpi_days row, and counts only
-- while that row is valid (`computed = generation`). The triggers below widen what bumps a day's generation
-- to everything these parts read. Figures that depend on the report's "now" even for a closed day (a desk
-- clock not met yet, a complaint's 3-day callback window still open) are kept as the due instants of what
-- is still open, and counted against "now" when read.

CREATE TABLE IF NOT EXISTS kpi_technician_days (
    site_id             uuid NOT NULL,
    day                 date NOT NULL,
    technician_id       uuid NOT NULL,
    assigned            integer NOT NULL DEFAULT 0,     -- created that day, counted for this technician
    reopened            integer NOT NULL DEFAULT 0,
    completed           integer NOT NULL DEFAULT 0,     -- completed that day (not cancelled)
    resolve_minutes     float8[] NOT NULL DEFAULT '{}', -- of those, creation to completion (the median is exact)
    arrival_due         integer NOT NULL DEFAULT 0,     -- arrive/resolve clocks due that day, decided
    arrival_on_time     integer NOT NULL DEFAULT 0,
    resolution_due      integer NOT NULL DEFAULT 0,
    resolution_on_time  integer NOT NULL DEFAULT 0,
    ratings             integer NOT NULL DEFAULT 0,     -- ratings given that day
    rating_sum          integer NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, technician_id),
    FOREIGN KEY (site_id, day) REFERENCES kpi_days (site_id, day) ON DELETE CASCADE
);

-- Complaints received that day (not cancelled), per category. A desk clock is decided once met or past due:
-- the met ones are counted, the unmet ones kept as their due instants.
CREATE TABLE IF NOT EXISTS kpi_desk_days (
    site_id             uuid NOT NULL,
    day                 date NOT NULL,
    category            text NOT NULL,
    received            integer NOT NULL DEFAULT 0,
    handled             integer NOT NULL DEFAULT 0,
    repeats             integer NOT NULL DEFAULT 0,
    escalated           integer NOT NULL DEFAULT 0,
    reply_met           integer NOT NULL DEFAULT 0,
    reply_on_time       integer NOT NULL DEFAULT 0,
    reply_open          timestamptz[] NOT NULL DEFAULT '{}',
    investigate_met     integer NOT NULL DEFAULT 0,
    investigate_on_time integer NOT NULL DEFAULT 0,
    investigate_open    timestamptz[] NOT NULL DEFAULT '{}',
    resolve_met         integer NOT NULL DEFAULT 0,
    resolve_on_time     integer NOT NULL DEFAULT 0,
    resolve_open        timestamptz[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (site_id, day, category),
    FOREIGN KEY (site_id, day) REFERENCES kpi_days (site_id, day) ON DELETE CASCADE
);

-- Complaints completed that day (not cancelled): called back (reached) within 3 days, and for the others
-- the end of their window (completed + 3 days), decided once it has passed.
ALTER TABLE kpi_days
    ADD COLUMN IF NOT EXISTS complaints_called integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS complaints_uncalled_until timestamptz[] NOT NULL DEFAULT '{}';

-- Ratings given that day (follow-up calls with a 1-5 satisfaction): counts and sums, so every average of the
-- satisfaction block is exact as sum / count.
ALTER TABLE kpi_days
    ADD COLUMN IF NOT EXISTS ratings integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS rating_sum integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS satisfied integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS speed_n integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS speed_sum integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS attitude_n integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS attitude_sum integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS quality_n integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS quality_sum integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS recommend_answers integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS promoters integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS detractors integer NOT NULL DEFAULT 0;

-- Rows stored before these parts existed lack them.
UPDATE kpi_days SET generation = generation + 1;

-- Work orders: also the completed day (old and new), and the assignee, category, repeat and escalation marks.
CREATE OR REPLACE FUNCTION kpi_days_work_orders_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s uuid[];
    a timestamptz[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(site_id), array_agg(at) INTO s, a
        FROM new_rows, LATERAL (VALUES (created_at), (completed_at)) v(at);
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(site_id), array_agg(at) INTO s, a
        FROM old_rows, LATERAL (VALUES (created_at), (completed_at)) v(at);
    ELSE
        -- the created and completed days of each changed job (old and new), and the due days of its clocks
        -- when it was cancelled or brought back (a cancelled job's clocks leave the compliance figures)
        WITH changed AS (
            SELECT o.site_id AS old_site, o.created_at AS old_created, o.completed_at AS old_completed,
                   n.site_id AS new_site, n.created_at AS new_created, n.completed_at AS new_completed, n.id,
                   (o.status = 'cancelled') IS DISTINCT FROM (n.status = 'cancelled') AS cancel_changed
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.site_id, o.kind, o.status, o.created_at, o.responded_at, o.arrived_at, o.completed_at,
                   o.reopen_count, o.category, coalesce(o.assignee_id, o.last_assignee_id),
                   o.resolution ? 'repeatOf', o.resolution ? 'escalatedTo')
                  IS DISTINCT FROM
                  (n.site_id, n.kind, n.status, n.created_at, n.responded_at, n.arrived_at, n.completed_at,
                   n.reopen_count, n.category, coalesce(n.assignee_id, n.last_assignee_id),
                   n.resolution ? 'repeatOf', n.resolution ? 'escalatedTo')
        ), touched AS (
            SELECT old_site AS site_id, old_created AS at FROM changed
            UNION ALL SELECT new_site, new_created FROM changed
            UNION ALL SELECT old_site, old_completed FROM changed
            UNION ALL SELECT new_site, new_completed FROM changed
            UNION ALL SELECT c.site_id, c.due_at FROM changed ch
                      JOIN work_order_clocks c ON c.work_order_id = ch.id WHERE ch.cancel_changed
        )
        SELECT array_agg(site_id), array_agg(at) INTO s, a FROM touched;
    END IF;
    IF s IS NOT NULL THEN
        PERFORM kpi_days_touch(s, a);
    END IF;
    RETURN NULL;
END $$;

-- The received (created) or completed instants of the complaints among some jobs, with their sites.
CREATE OR REPLACE FUNCTION kpi_days_complaints(jobs uuid[], completed boolean, OUT sites uuid[],
                                               OUT instants timestamptz[])
LANGUAGE sql AS $$
    SELECT coalesce(array_agg(site_id), '{}'),
           coalesce(array_agg(CASE WHEN completed THEN completed_at ELSE created_at END), '{}')
    FROM work_orders WHERE id = ANY(jobs) AND kind = 'complaint'
$$;

-- Clocks: also the technician they count for, and a complaint's received day (the desk reads its clocks).
CREATE OR REPLACE FUNCTION kpi_days_clocks_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s uuid[];
    a timestamptz[];
    j uuid[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(site_id), array_agg(due_at), array_agg(work_order_id) INTO s, a, j FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(site_id), array_agg(due_at), array_agg(work_order_id) INTO s, a, j FROM old_rows;
    ELSE
        -- only what the figures read: escalation marks leave the days alone; old and new due days
        SELECT array_agg(v.site_id), array_agg(v.at), array_agg(n.work_order_id) INTO s, a, j
        FROM old_rows o JOIN new_rows n ON n.work_order_id = o.work_order_id AND n.clock = o.clock
        CROSS JOIN LATERAL (VALUES (o.site_id, o.due_at), (n.site_id, n.due_at)) v(site_id, at)
        WHERE (o.site_id, o.due_at, o.met_at, o.paused_since, o.technician_id)
              IS DISTINCT FROM (n.site_id, n.due_at, n.met_at, n.paused_since, n.technician_id);
    END IF;
    IF s IS NOT NULL THEN
        -- one call: every writer locks the days it bumps in one order
        PERFORM kpi_days_touch(s || c.sites, a || c.instants) FROM kpi_days_complaints(j, false) c;
    END IF;
    RETURN NULL;
END $$;

-- Callbacks: the day of the call (ratings, answers) and the completed day of a complaint (called back in time).
CREATE OR REPLACE FUNCTION kpi_days_callbacks_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s uuid[];
    a timestamptz[];
    j uuid[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(site_id), array_agg(called_at), array_agg(work_order_id) INTO s, a, j FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(site_id), array_agg(called_at), array_agg(work_order_id) INTO s, a, j FROM old_rows;
    ELSE
        SELECT array_agg(v.site_id), array_agg(v.at), array_agg(v.job) INTO s, a, j
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        CROSS JOIN LATERAL (VALUES (o.site_id, o.called_at, o.work_order_id),
                                   (n.site_id, n.called_at, n.work_order_id)) v(site_id, at, job)
        WHERE (o.site_id, o.work_order_id, o.called_at, o.reached, o.satisfaction, o.technician_id,
               o.speed, o.attitude, o.quality, o.recommend)
              IS DISTINCT FROM
              (n.site_id, n.work_order_id, n.called_at, n.reached, n.satisfaction, n.technician_id,
               n.speed, n.attitude, n.quality, n.recommend);
    END IF;
    IF s IS NOT NULL THEN
        PERFORM kpi_days_touch(s || c.sites, a || c.instants) FROM kpi_days_complaints(j, true) c;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS kpi_days_callbacks_insert ON callbacks;
DROP TRIGGER IF EXISTS kpi_days_callbacks_update ON callbacks;
DROP TRIGGER IF EXISTS kpi_days_callbacks_delete ON callbacks;
CREATE TRIGGER kpi_days_callbacks_insert AFTER INSERT ON callbacks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kpi_days_callbacks_changed();
CREATE TRIGGER kpi_days_callbacks_update AFTER UPDATE ON callbacks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kpi_days_callbacks_changed();
CREATE TRIGGER kpi_days_callbacks_delete AFTER DELETE ON callbacks
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION kpi_days_callbacks_changed();

-- The report's appointment figures read the period's appointments of a site; without an index that was a scan
-- of every work order (most have no appointment).
CREATE INDEX IF NOT EXISTS work_orders_site_appointment ON work_orders (site_id, appointment_at)
    INCLUDE (status, arrived_at) WHERE appointment_at IS NOT NULL;
