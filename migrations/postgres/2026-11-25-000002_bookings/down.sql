DROP TABLE idempotency_keys;
DROP TABLE month_closings;
DROP TABLE quotas;
DROP TABLE bookings;
DROP TABLE series;
ALTER TABLE resources DROP COLUMN longest_block_minutes;
ALTER TABLE resources DROP COLUMN parent_id;
