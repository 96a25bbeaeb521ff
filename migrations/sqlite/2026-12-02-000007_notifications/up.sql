-- Notifications and calendars: the mail outbox (written in the transaction of the change
-- that causes each message, sent by a worker with retries), each user's notification
-- preferences, the secret iCalendar feed URLs, and the revision number calendars need.

-- Grows on every change of a booking (move, cancellation, decision): iCalendar SEQUENCE.
ALTER TABLE bookings ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
-- Where a shared employee hears about their assignments (optional).
ALTER TABLE employees ADD COLUMN email TEXT;

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The event and recipient the message is for: the same event never queues twice, and
    -- the Message-ID is derived from it.
    event_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    -- The facts the message tells (JSON), rendered when it is sent or shown.
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at TIMESTAMP NOT NULL,
    -- A claim by one worker: others leave the row alone until it expires.
    locked_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);

CREATE TABLE notification_settings (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- Notification kinds the user does not want, comma-separated.
    muted TEXT NOT NULL DEFAULT '',
    -- Lead time of the reminder before each booking; none when NULL.
    reminder_hours INTEGER,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE feeds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    scope_id BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (user_id, scope, scope_id)
);
CREATE INDEX bookings_created_by_idx ON bookings (created_by, start_at);
