-- Registry: estates, their buildings and homes, the people who live there, staff and their sites,
-- facilities (设施设备) and the devices that watch them.

CREATE TABLE sites (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code        text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
    name        text NOT NULL,
    timezone    text NOT NULL DEFAULT 'Asia/Shanghai',
    -- per-site overrides of DESIGN.md defaults (alarm ack escalation seconds, callback delays, ...)
    settings    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE buildings (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id     uuid NOT NULL REFERENCES sites(id),
    code        text NOT NULL,
    name        text NOT NULL,
    floors      int  NOT NULL DEFAULT 1 CHECK (floors > 0),
    UNIQUE (site_id, code)
);

CREATE TABLE units (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id     uuid NOT NULL REFERENCES sites(id),
    building_id uuid NOT NULL REFERENCES buildings(id),
    number      text NOT NULL,
    floor       int,
    area_m2     numeric(8, 2),
    UNIQUE (building_id, number)
);
CREATE INDEX units_site ON units (site_id);

CREATE TABLE residents (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id     uuid NOT NULL REFERENCES sites(id),
    unit_id     uuid NOT NULL REFERENCES units(id),
    name        text NOT NULL,
    phone       text,
    relation    text NOT NULL DEFAULT 'owner' CHECK (relation IN ('owner', 'tenant', 'family')),
    -- elderly living alone and the like: checked on first in an outage, called back with care
    vulnerable  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX residents_unit ON residents (unit_id);
CREATE INDEX residents_phone ON residents (site_id, phone);

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username      text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.-]{2,64}$'),
    display_name  text NOT NULL,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'manager', 'supervisor', 'agent', 'technician', 'guard')),
    phone         text,
    skills        text[] NOT NULL DEFAULT '{}',
    on_duty       boolean NOT NULL DEFAULT false,
    active        boolean NOT NULL DEFAULT true,
    locale        text NOT NULL DEFAULT 'zh-CN',
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_sites (
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    site_id uuid NOT NULL REFERENCES sites(id),
    PRIMARY KEY (user_id, site_id)
);
CREATE INDEX user_sites_site ON user_sites (site_id);

CREATE TABLE assets (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id            uuid NOT NULL REFERENCES sites(id),
    building_id        uuid REFERENCES buildings(id),
    code               text NOT NULL,
    name               text NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('elevator', 'pump', 'water_tank', 'pipework', 'switchgear',
                                                    'generator', 'fire_system', 'access_control', 'lighting', 'other')),
    location           text NOT NULL DEFAULT '',
    parameters         jsonb NOT NULL DEFAULT '{}'::jsonb,
    maintenance_days   int CHECK (maintenance_days > 0),
    installed_on       date,
    UNIQUE (site_id, code)
);

CREATE TABLE devices (
    id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),  -- the MQTT identity in the topic
    site_id     uuid NOT NULL REFERENCES sites(id),
    asset_id    uuid REFERENCES assets(id),
    kind        text NOT NULL CHECK (kind IN ('elevator', 'pump', 'pressure', 'tank', 'leak', 'power', 'generator')),
    name        text NOT NULL,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_site ON devices (site_id);
