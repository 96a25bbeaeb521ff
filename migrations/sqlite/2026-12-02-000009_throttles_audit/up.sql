-- Fair sign-in throttling and the security journal.
--
-- One counter per (scope, e-mail, address): the pair (both set) is strict, the account
-- (address '') and the address (e-mail '') are loose. A counter is read and moved in one
-- write transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: SELECT ... FOR UPDATE), so that
-- concurrent attempts, from one process or several, never get more password checks than
-- the rule allows. The rule itself is domain::throttle. Replaces login_attempts.
CREATE TABLE login_throttles (
    scope TEXT NOT NULL,
    email TEXT NOT NULL,
    ip TEXT NOT NULL,
    failures INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_attempt_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, email, ip)
);
CREATE INDEX login_throttles_last_idx ON login_throttles (last_attempt_at);
DROP TABLE login_attempts;

-- Security events, kept a year. No foreign keys: the journal outlives what it names.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at TIMESTAMP NOT NULL,
    kind TEXT NOT NULL,
    actor_id BIGINT,
    subject_id BIGINT,
    subject_email TEXT,
    ip TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at, id);
CREATE INDEX audit_events_kind_idx ON audit_events (kind, occurred_at);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, occurred_at);
CREATE INDEX audit_events_subject_idx ON audit_events (subject_id, occurred_at);
