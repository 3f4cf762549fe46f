-- Who was shown a resident's personal data in full, when, why and through which endpoint.
-- Append-only like the work-order events: the log of who looked must not be editable by those who looked.
-- Units and residents are named by id without a foreign key: a resident who moves out is deleted, but the
-- record that somebody read their number stays.
CREATE TABLE personal_data_reads (
    id           bigserial PRIMARY KEY,
    read_at      timestamptz NOT NULL,
    user_id      uuid NOT NULL REFERENCES users(id),
    role         text NOT NULL,                       -- the reader's role at the time
    site_id      uuid NOT NULL REFERENCES sites(id),
    unit_id      uuid NOT NULL,
    resident_id  uuid NOT NULL,
    fields       text[] NOT NULL,                     -- name, phone, vulnerable
    reason       text NOT NULL CHECK (reason IN ('oversight', 'desk', 'assigned_job', 'emergency')),
    endpoint     text NOT NULL                        -- method and path, never the query (it may hold a phone)
);
CREATE INDEX personal_data_reads_site ON personal_data_reads (site_id, read_at DESC);
CREATE INDEX personal_data_reads_user ON personal_data_reads (user_id, read_at DESC);
CREATE INDEX personal_data_reads_unit ON personal_data_reads (unit_id, read_at DESC);
CREATE TRIGGER personal_data_reads_append_only BEFORE UPDATE OR DELETE ON personal_data_reads
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER personal_data_reads_no_truncate BEFORE TRUNCATE ON personal_data_reads
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_change();

-- Emergency scope: open emergency work orders of a site, found by kind without scanning closed history.
CREATE INDEX work_orders_open_emergencies ON work_orders (site_id)
    WHERE kind = 'emergency' AND status NOT IN ('completed', 'signed', 'closed', 'cancelled');
