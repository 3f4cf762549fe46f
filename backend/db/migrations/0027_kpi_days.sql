-- Daily per-site KPI rollups: a year's report reads 365 small rows instead of every work order and clock.
--
-- One row per site and site-local day, holding what the report's summary and clock compliance need for that
-- whole day: work orders created that day (count, by kind, by status, completed, reopened, and every step
-- duration in minutes, so the percentiles stay exact) and clocks falling due that day (decided and on time,
-- per clock). Rows exist only for closed days; the report computes a missing or outdated day from the raw
-- tables and stores it, and reads today (and any day it could not store) from the raw tables directly.
--
-- Validity: every change to a work order or clock of a closed day bumps that day's `generation` (the
-- triggers below, whoever writes); a row's figures count only while `computed = generation`. A report stores
-- a day only if its generation is still the one it read, so a change committing while the report computes
-- leaves the day outdated instead of storing figures that miss it.

CREATE TABLE IF NOT EXISTS kpi_days (
    site_id             uuid NOT NULL REFERENCES sites(id),
    day                 date NOT NULL,
    generation          bigint NOT NULL DEFAULT 1,
    computed            bigint,                 -- the generation the figures below were computed at
    total               integer NOT NULL DEFAULT 0,
    by_kind             jsonb NOT NULL DEFAULT '{}',
    by_status           jsonb NOT NULL DEFAULT '{}',
    respond_minutes     float8[] NOT NULL DEFAULT '{}',
    arrive_minutes      float8[] NOT NULL DEFAULT '{}',
    resolve_minutes     float8[] NOT NULL DEFAULT '{}',
    completed           integer NOT NULL DEFAULT 0,
    reopened            integer NOT NULL DEFAULT 0,
    respond_due         integer NOT NULL DEFAULT 0,
    respond_on_time     integer NOT NULL DEFAULT 0,
    arrive_due          integer NOT NULL DEFAULT 0,
    arrive_on_time      integer NOT NULL DEFAULT 0,
    resolve_due         integer NOT NULL DEFAULT 0,
    resolve_on_time     integer NOT NULL DEFAULT 0,
    callback_due        integer NOT NULL DEFAULT 0,
    callback_on_time    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day)
);

-- Bump the generation of each closed (site, local day) the given instants fall on. Today and later days are
-- left alone: they have no row yet (a day is computed only once it has closed), and today's row would be the
-- one every writer of the day contends for.
CREATE OR REPLACE FUNCTION kpi_days_touch(sites_at uuid[], instants timestamptz[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO kpi_days AS k (site_id, day)
    SELECT t.site_id, t.day
    FROM (
        SELECT DISTINCT x.site_id, (x.at AT TIME ZONE s.timezone)::date AS day,
               (clock_timestamp() AT TIME ZONE s.timezone)::date AS today
        FROM unnest(sites_at, instants) AS x(site_id, at)
        JOIN sites s ON s.id = x.site_id
        WHERE x.at IS NOT NULL
    ) t
    WHERE t.day < t.today
    ORDER BY t.site_id, t.day          -- one lock order for every writer
    ON CONFLICT (site_id, day) DO UPDATE SET generation = k.generation + 1
$$;

CREATE OR REPLACE FUNCTION kpi_days_work_orders_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s uuid[];
    a timestamptz[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(site_id), array_agg(created_at) INTO s, a FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(site_id), array_agg(created_at) INTO s, a FROM old_rows;
    ELSE
        -- the created day of each changed job (old and new), and the due days of its clocks when it was
        -- cancelled or brought back (a cancelled job's clocks leave the compliance figures)
        WITH changed AS (
            SELECT o.site_id AS old_site, o.created_at AS old_created, n.site_id AS new_site,
                   n.created_at AS new_created, n.id,
                   (o.status = 'cancelled') IS DISTINCT FROM (n.status = 'cancelled') AS cancel_changed
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.site_id, o.kind, o.status, o.created_at, o.responded_at, o.arrived_at, o.completed_at,
                   o.reopen_count)
                  IS DISTINCT FROM
                  (n.site_id, n.kind, n.status, n.created_at, n.responded_at, n.arrived_at, n.completed_at,
                   n.reopen_count)
        ), touched AS (
            SELECT old_site AS site_id, old_created AS at FROM changed
            UNION ALL SELECT new_site, new_created FROM changed
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

CREATE OR REPLACE FUNCTION kpi_days_clocks_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s uuid[];
    a timestamptz[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(site_id), array_agg(due_at) INTO s, a FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(site_id), array_agg(due_at) INTO s, a FROM old_rows;
    ELSE
        -- only what the figures read: escalation marks and the copied technician leave the days alone
        WITH changed AS (
            SELECT o.site_id AS old_site, o.due_at AS old_due, n.site_id AS new_site, n.due_at AS new_due
            FROM old_rows o JOIN new_rows n ON n.work_order_id = o.work_order_id AND n.clock = o.clock
            WHERE (o.site_id, o.due_at, o.met_at, o.paused_since)
                  IS DISTINCT FROM (n.site_id, n.due_at, n.met_at, n.paused_since)
        ), touched AS (
            SELECT old_site AS site_id, old_due AS at FROM changed
            UNION ALL SELECT new_site, new_due FROM changed
        )
        SELECT array_agg(site_id), array_agg(at) INTO s, a FROM touched;
    END IF;
    IF s IS NOT NULL THEN
        PERFORM kpi_days_touch(s, a);
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS kpi_days_work_orders_insert ON work_orders;
DROP TRIGGER IF EXISTS kpi_days_work_orders_update ON work_orders;
DROP TRIGGER IF EXISTS kpi_days_work_orders_delete ON work_orders;
CREATE TRIGGER kpi_days_work_orders_insert AFTER INSERT ON work_orders
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kpi_days_work_orders_changed();
CREATE TRIGGER kpi_days_work_orders_update AFTER UPDATE ON work_orders
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kpi_days_work_orders_changed();
CREATE TRIGGER kpi_days_work_orders_delete AFTER DELETE ON work_orders
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION kpi_days_work_orders_changed();

DROP TRIGGER IF EXISTS kpi_days_clocks_insert ON work_order_clocks;
DROP TRIGGER IF EXISTS kpi_days_clocks_update ON work_order_clocks;
DROP TRIGGER IF EXISTS kpi_days_clocks_delete ON work_order_clocks;
CREATE TRIGGER kpi_days_clocks_insert AFTER INSERT ON work_order_clocks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kpi_days_clocks_changed();
CREATE TRIGGER kpi_days_clocks_update AFTER UPDATE ON work_order_clocks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kpi_days_clocks_changed();
CREATE TRIGGER kpi_days_clocks_delete AFTER DELETE ON work_order_clocks
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION kpi_days_clocks_changed();

-- A site moving to another timezone moves every day boundary: all its days are outdated.
CREATE OR REPLACE FUNCTION kpi_days_site_timezone_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE kpi_days SET generation = generation + 1 WHERE site_id = NEW.id;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS kpi_days_site_timezone ON sites;
CREATE TRIGGER kpi_days_site_timezone AFTER UPDATE OF timezone ON sites
    FOR EACH ROW WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone)
    EXECUTE FUNCTION kpi_days_site_timezone_changed();
