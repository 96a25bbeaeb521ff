-- Monthly allocation: tariffs and pricing coefficients versioned by effective date, the
-- pricing rules of each resource kind, pools of resources, cost entries and adjustments, the
-- pole's settings for statements and accounting exports, and the statements frozen at each
-- close with their hash chain.

-- A resource's tariff in force from a date (pole's local date) until the next version.
CREATE TABLE tariffs (
    resource_id BIGINT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    effective_from DATE NOT NULL,
    hourly_cents BIGINT NOT NULL DEFAULT 0,
    daily_cap_cents BIGINT,
    per_km_cents BIGINT,
    billing_unit_minutes INTEGER NOT NULL DEFAULT 60,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (resource_id, effective_from)
);
-- The tariff each resource carried becomes its first version, in force since always.
INSERT INTO tariffs (resource_id, effective_from, hourly_cents, daily_cap_cents, per_km_cents,
                     billing_unit_minutes, created_at)
SELECT id, '1970-01-01', hourly_cents, daily_cap_cents, per_km_cents, billing_unit_minutes,
       created_at
FROM resources;
ALTER TABLE resources DROP COLUMN hourly_cents;
ALTER TABLE resources DROP COLUMN daily_cap_cents;
ALTER TABLE resources DROP COLUMN per_km_cents;
ALTER TABLE resources DROP COLUMN billing_unit_minutes;

-- A named pool of resources (« bâtiment », « flotte ») whose costs are split together.
ALTER TABLE resources ADD COLUMN pool TEXT;

-- The social-pricing coefficient of a members' pricing category, from a date
-- (thousandths: 500 = ×0.5). A category with no version pays ×1.
CREATE TABLE pricing_coefficients (
    category TEXT NOT NULL,
    effective_from DATE NOT NULL,
    coefficient_permille INTEGER NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (category, effective_from)
);

-- Per resource kind: the late-cancellation rule and the monthly free allowance per member.
CREATE TABLE kind_pricing (
    kind TEXT PRIMARY KEY,
    late_notice_minutes INTEGER,
    late_charged_permille INTEGER NOT NULL DEFAULT 0,
    free_minutes_per_month INTEGER NOT NULL DEFAULT 0,
    updated_at TIMESTAMP NOT NULL
);

-- A cost of one month, on a resource, on a pool, or on the whole pole (neither), split by
-- `split_key` (JSON). A recurring entry generates each later month's entry once (until
-- `until_month` if set); a generated entry points at it. A generated entry the treasurer
-- deletes stays as a tombstone (`deleted_at`), so it is not generated again.
CREATE TABLE costs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    month TEXT NOT NULL,
    label TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    resource_id BIGINT REFERENCES resources (id),
    pool TEXT,
    split_key TEXT NOT NULL,
    recurring BOOLEAN NOT NULL DEFAULT FALSE,
    until_month TEXT,
    generated_from BIGINT REFERENCES costs (id) ON DELETE SET NULL,
    deleted_at TIMESTAMP,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (generated_from, month)
);
CREATE INDEX costs_month ON costs (month);

-- A correction of a member's statement in an open month (positive or negative).
CREATE TABLE adjustments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    month TEXT NOT NULL,
    member_id BIGINT NOT NULL REFERENCES members (id),
    label TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX adjustments_month ON adjustments (month);

-- The pole's settings (statements, accounting export), by name.
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The statement frozen at the close: its total and the hash chained to the previous closed
-- month's, over the canonical text of every line. Months closed before statements were
-- stored keep an empty hash: they are read as computed, and verified as such.
ALTER TABLE month_closings ADD COLUMN total_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE month_closings ADD COLUMN previous_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE month_closings ADD COLUMN hash TEXT NOT NULL DEFAULT '';

CREATE TABLE statement_lines (
    month TEXT NOT NULL REFERENCES month_closings (month) ON DELETE CASCADE,
    member_id BIGINT NOT NULL,
    position INTEGER NOT NULL,
    member_name TEXT NOT NULL,
    source TEXT NOT NULL,
    resource_id BIGINT,
    label TEXT NOT NULL,
    basis TEXT NOT NULL,
    quantity_milli BIGINT NOT NULL,
    unit TEXT NOT NULL,
    unit_price_cents BIGINT NOT NULL,
    amount_cents BIGINT NOT NULL,
    refs TEXT NOT NULL,
    PRIMARY KEY (month, member_id, position)
);

-- Who reopened a closed month, when and why, with the hash of the statement set aside.
CREATE TABLE month_reopenings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    month TEXT NOT NULL,
    reopened_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    reopened_at TIMESTAMP NOT NULL,
    reason TEXT NOT NULL,
    statement_hash TEXT NOT NULL
);

-- Each month's use per member and resource as the cost keys weigh it, summed once and kept
-- until a booking around that month changes: `month_usage_state` lists the months whose sums
-- are current (every booking write deletes the months it may touch).
CREATE TABLE month_usage (
    month TEXT NOT NULL,
    member_id BIGINT NOT NULL,
    resource_id BIGINT NOT NULL,
    minutes BIGINT NOT NULL,
    PRIMARY KEY (month, member_id, resource_id)
);
CREATE TABLE month_usage_state (
    month TEXT PRIMARY KEY,
    computed_at TIMESTAMP NOT NULL
);
