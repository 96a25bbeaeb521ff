-- Members, users and their roles, sessions, API tokens, login throttling,
-- the resource catalogue and closures. Instants are UTC, money in cents.
CREATE TABLE members (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    legal_form TEXT NOT NULL,
    pricing_category TEXT NOT NULL,
    siret TEXT,
    email TEXT,
    headcount_hundredths INTEGER NOT NULL DEFAULT 0,
    turnover_cents BIGINT NOT NULL DEFAULT 0,
    surface_m2 INTEGER NOT NULL DEFAULT 0,
    active BOOLEAN NOT NULL DEFAULT 1,
    archived_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX members_name_key ON members (name);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE user_roles (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE memberships (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id),
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, member_id)
);
CREATE INDEX memberships_member_idx ON memberships (member_id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX api_tokens_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    ip TEXT NOT NULL,
    succeeded BOOLEAN NOT NULL,
    attempted_at TIMESTAMP NOT NULL
);
CREATE INDEX login_attempts_email_idx ON login_attempts (email, attempted_at);
CREATE INDEX login_attempts_ip_idx ON login_attempts (ip, attempted_at);

CREATE TABLE resources (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    location TEXT NOT NULL DEFAULT '',
    capacity INTEGER NOT NULL DEFAULT 1,
    min_duration_minutes INTEGER,
    max_duration_minutes INTEGER,
    buffer_before_minutes INTEGER NOT NULL DEFAULT 0,
    buffer_after_minutes INTEGER NOT NULL DEFAULT 0,
    requires_approval BOOLEAN NOT NULL DEFAULT 0,
    allowed_categories TEXT NOT NULL DEFAULT '',
    hourly_cents BIGINT NOT NULL DEFAULT 0,
    daily_cap_cents BIGINT,
    per_km_cents BIGINT,
    billing_unit_minutes INTEGER NOT NULL DEFAULT 60,
    seats INTEGER,
    plate TEXT,
    energy TEXT,
    odometer_km BIGINT,
    employer_member_id BIGINT REFERENCES members (id),
    weekly_contract_minutes INTEGER,
    hourly_cost_cents BIGINT,
    archived_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX resources_kind_idx ON resources (kind);

CREATE TABLE opening_hours (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_id BIGINT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    weekday INTEGER NOT NULL,
    open_minute INTEGER NOT NULL,
    close_minute INTEGER NOT NULL
);
CREATE INDEX opening_hours_resource_idx ON opening_hours (resource_id);

CREATE TABLE closures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_id BIGINT REFERENCES resources (id) ON DELETE CASCADE,
    start_at TIMESTAMP NOT NULL,
    end_at TIMESTAMP NOT NULL,
    reason TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX closures_resource_idx ON closures (resource_id, start_at);
