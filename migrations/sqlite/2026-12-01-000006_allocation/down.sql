DROP TABLE month_usage_state;
DROP TABLE month_usage;
DROP TABLE month_reopenings;
DROP TABLE statement_lines;
ALTER TABLE month_closings DROP COLUMN hash;
ALTER TABLE month_closings DROP COLUMN previous_hash;
ALTER TABLE month_closings DROP COLUMN total_cents;
DROP TABLE settings;
DROP TABLE adjustments;
DROP TABLE costs;
DROP TABLE kind_pricing;
DROP TABLE pricing_coefficients;
ALTER TABLE resources DROP COLUMN pool;
ALTER TABLE resources ADD COLUMN hourly_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE resources ADD COLUMN daily_cap_cents BIGINT;
ALTER TABLE resources ADD COLUMN per_km_cents BIGINT;
ALTER TABLE resources ADD COLUMN billing_unit_minutes INTEGER NOT NULL DEFAULT 60;
UPDATE resources SET
    hourly_cents = COALESCE((SELECT t.hourly_cents FROM tariffs t WHERE t.resource_id = resources.id ORDER BY t.effective_from DESC LIMIT 1), 0),
    daily_cap_cents = (SELECT t.daily_cap_cents FROM tariffs t WHERE t.resource_id = resources.id ORDER BY t.effective_from DESC LIMIT 1),
    per_km_cents = (SELECT t.per_km_cents FROM tariffs t WHERE t.resource_id = resources.id ORDER BY t.effective_from DESC LIMIT 1),
    billing_unit_minutes = COALESCE((SELECT t.billing_unit_minutes FROM tariffs t WHERE t.resource_id = resources.id ORDER BY t.effective_from DESC LIMIT 1), 60);
DROP TABLE tariffs;
