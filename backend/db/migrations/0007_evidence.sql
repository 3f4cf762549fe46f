-- Evidence: a job reopened after it was signed is signed again when it is completed again. The earlier
-- signature moves here whole, with the record it bound and its hash, so no signed record is ever lost;
-- the sign events in the append-only log still carry every record hash.
CREATE TABLE superseded_signatures (
    id              bigserial PRIMARY KEY,
    work_order_id   uuid NOT NULL REFERENCES work_orders(id),
    sha256          text REFERENCES blobs(sha256),
    signer_name     text,
    relation        text,
    no_sign_reason  text,
    record_hash     text NOT NULL,
    record          jsonb NOT NULL,
    signed_by       uuid REFERENCES users(id),
    signed_at       timestamptz NOT NULL,
    client_at       timestamptz,
    superseded_at   timestamptz NOT NULL
);
CREATE INDEX superseded_signatures_work_order ON superseded_signatures (work_order_id, signed_at);

CREATE TRIGGER superseded_signatures_append_only BEFORE UPDATE OR DELETE ON superseded_signatures
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
