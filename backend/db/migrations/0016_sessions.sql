-- Sessions that can be ended. Every login opens a session; its id is the bearer token's `jti`. A token is good
-- only while its session is open and unexpired and its user active, so logging out, signing out everywhere,
-- a password change and deactivation end tokens at once rather than at their expiry.

CREATE TABLE sessions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    -- why it ended, for whoever reads the table after an incident
    ended_why   text CHECK (ended_why IN ('logout', 'logout_all', 'password_changed', 'password_reset',
                                          'deactivated')),
    CHECK ((ended_at IS NULL) = (ended_why IS NULL))
);
-- "every open session of this user": logout-all, password change, deactivation
CREATE INDEX sessions_user_open ON sessions (user_id) WHERE ended_at IS NULL;
-- housekeeping drops sessions long past their expiry
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Single-use tickets that open the live stream: EventSource cannot send an Authorization header, and a
-- bearer token in a URL ends up in logs. Only the ticket's sha256 is stored.
CREATE TABLE stream_tickets (
    ticket_hash bytea PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX stream_tickets_expires ON stream_tickets (expires_at);

-- NOTIFY caretaker_access, payload the user id, whenever what that user's tokens may do changes: role,
-- active, password, site memberships, a session ended. Every API process LISTENs and rechecks that user's
-- open streams (and any cache of authenticated users must drop that user's entries). A trigger, so that no
-- path that changes access — the API, the CLI, an operator's UPDATE — can forget to say so. The NOTIFY is
-- delivered at commit, and PostgreSQL folds identical payloads of one transaction into one.
CREATE FUNCTION notify_access_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- TG_ARGV[0] names the column holding the user id (users.id, user_sites.user_id, sessions.user_id)
    PERFORM pg_notify(
        'caretaker_access',
        (CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END) ->> TG_ARGV[0]
    );
    RETURN NULL;
END
$$;

CREATE TRIGGER users_access_changed
    AFTER UPDATE OF role, active, password_hash ON users
    FOR EACH ROW
    WHEN (OLD.role IS DISTINCT FROM NEW.role
          OR OLD.active IS DISTINCT FROM NEW.active
          OR OLD.password_hash IS DISTINCT FROM NEW.password_hash)
    EXECUTE FUNCTION notify_access_changed('id');

CREATE TRIGGER users_removed
    AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION notify_access_changed('id');

CREATE TRIGGER user_sites_changed
    AFTER INSERT OR UPDATE OR DELETE ON user_sites
    FOR EACH ROW EXECUTE FUNCTION notify_access_changed('user_id');

CREATE TRIGGER sessions_ended
    AFTER UPDATE OF ended_at ON sessions
    FOR EACH ROW
    WHEN (OLD.ended_at IS NULL AND NEW.ended_at IS NOT NULL)
    EXECUTE FUNCTION notify_access_changed('user_id');
