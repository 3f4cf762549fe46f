-- Rounds (巡逻/巡视): check points with an unguessable QR token, routes of ordered points, schedules that
-- make one round per slot, and the scans a guard or the manager records on the walk.

CREATE TABLE check_points (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id    uuid NOT NULL REFERENCES sites(id),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    place      text NOT NULL DEFAULT '' CHECK (length(place) <= 200),
    asset_id   uuid REFERENCES assets(id),
    -- what the printed QR code carries: random, so a point cannot be "scanned" by guessing its id
    token      text NOT NULL UNIQUE,
    active     boolean NOT NULL DEFAULT true,
    UNIQUE (site_id, name)
);

CREATE TABLE round_routes (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id          uuid NOT NULL REFERENCES sites(id),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    expected_minutes int NOT NULL CHECK (expected_minutes BETWEEN 1 AND 720),
    active           boolean NOT NULL DEFAULT true,
    UNIQUE (site_id, name)
);

CREATE TABLE round_route_points (
    route_id       uuid NOT NULL REFERENCES round_routes(id) ON DELETE CASCADE,
    position       int NOT NULL CHECK (position >= 1),
    check_point_id uuid NOT NULL REFERENCES check_points(id),
    PRIMARY KEY (route_id, position),
    UNIQUE (route_id, check_point_id)
);

-- Either every N hours inside a daily window (which may cross midnight), or fixed times of day; both in the
-- site's time zone. next_slot_at is the start of the next round still to be made.
CREATE TABLE round_schedules (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    route_id     uuid NOT NULL REFERENCES round_routes(id) ON DELETE CASCADE,
    every_hours  int CHECK (every_hours BETWEEN 1 AND 24),
    window_start time,
    window_end   time,
    fixed_times  time[],
    next_slot_at timestamptz NOT NULL,
    active       boolean NOT NULL DEFAULT true,
    CHECK ((every_hours IS NULL) <> (fixed_times IS NULL)),
    CHECK (every_hours IS NULL OR (window_start IS NOT NULL AND window_end IS NOT NULL))
);

CREATE TABLE rounds (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id     uuid NOT NULL REFERENCES sites(id),
    route_id    uuid NOT NULL REFERENCES round_routes(id),
    schedule_id uuid REFERENCES round_schedules(id) ON DELETE SET NULL,
    slot_start  timestamptz NOT NULL,
    slot_end    timestamptz NOT NULL CHECK (slot_end > slot_start),
    status      text NOT NULL DEFAULT 'scheduled'
                CHECK (status IN ('scheduled', 'in_progress', 'done', 'incomplete', 'missed')),
    started_by  uuid REFERENCES users(id),
    started_at  timestamptz,
    finished_at timestamptz,
    -- when the slot's end was judged (missed and late points told to the supervisor): exactly once
    judged_at   timestamptz,
    -- one round per schedule slot, however many schedulers run
    UNIQUE (schedule_id, slot_start)
);
CREATE INDEX rounds_site_slot ON rounds (site_id, slot_start DESC);
CREATE INDEX rounds_to_judge ON rounds (slot_end) WHERE judged_at IS NULL;

CREATE TABLE round_scans (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    round_id       uuid NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    check_point_id uuid NOT NULL REFERENCES check_points(id),
    position       int NOT NULL,
    scanned_by     uuid NOT NULL REFERENCES users(id),
    scanned_at     timestamptz NOT NULL,   -- the phone's time (clientAt), kept within the plausible window
    received_at    timestamptz NOT NULL,
    result         text NOT NULL CHECK (result IN ('normal', 'abnormal')),
    note           text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    photo_sha256   text REFERENCES blobs(sha256),
    thumb_sha256   text REFERENCES blobs(sha256),
    -- flagged, never refused: out_of_order, too_fast, late
    flags          text[] NOT NULL DEFAULT '{}',
    UNIQUE (round_id, check_point_id)
);
CREATE INDEX round_scans_abnormal ON round_scans (round_id) WHERE result = 'abnormal';
