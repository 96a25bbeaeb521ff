-- Bookings and what the booking engine needs around them: recurring series, composite
-- resources (parent_id), per-member quotas, closed months, idempotency keys.
ALTER TABLE resources ADD COLUMN parent_id BIGINT REFERENCES resources (id);
-- Longest blocked span ever booked on the resource, in minutes: bounds overlap queries.
ALTER TABLE resources ADD COLUMN longest_block_minutes INTEGER NOT NULL DEFAULT 0;

CREATE TABLE series (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_id BIGINT NOT NULL REFERENCES resources (id),
    member_id BIGINT NOT NULL REFERENCES members (id),
    rule TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE bookings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_id BIGINT NOT NULL REFERENCES resources (id),
    member_id BIGINT NOT NULL REFERENCES members (id),
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    series_id BIGINT REFERENCES series (id),
    start_at TIMESTAMP NOT NULL,
    end_at TIMESTAMP NOT NULL,
    -- The interval widened by the resource's buffers: what the booking blocks.
    block_start_at TIMESTAMP NOT NULL,
    block_end_at TIMESTAMP NOT NULL,
    quantity INTEGER NOT NULL,
    -- The resource had capacity 1 when booked (PostgreSQL exclusion constraint).
    exclusive BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    purpose TEXT NOT NULL DEFAULT '',
    beneficiary TEXT,
    decision_reason TEXT,
    decided_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (start_at < end_at),
    CHECK (quantity > 0)
);
CREATE INDEX bookings_resource_block_idx ON bookings (resource_id, block_start_at);
CREATE INDEX bookings_member_idx ON bookings (member_id, start_at);
CREATE INDEX bookings_series_idx ON bookings (series_id);
CREATE INDEX bookings_status_idx ON bookings (status, start_at);

CREATE TABLE quotas (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- NULL: every member.
    member_id BIGINT REFERENCES members (id),
    -- One resource, or every resource of a kind, or (both NULL) every resource.
    resource_id BIGINT REFERENCES resources (id) ON DELETE CASCADE,
    kind TEXT,
    max_minutes_per_month INTEGER,
    max_future_bookings INTEGER,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE month_closings (
    month TEXT PRIMARY KEY,
    closed_at TIMESTAMP NOT NULL,
    closed_by BIGINT REFERENCES users (id) ON DELETE SET NULL
);

CREATE TABLE idempotency_keys (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
