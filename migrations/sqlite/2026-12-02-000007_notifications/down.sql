DROP INDEX bookings_created_by_idx;
DROP TABLE feeds;
DROP TABLE notification_settings;
DROP TABLE outbox;
ALTER TABLE employees DROP COLUMN email;
ALTER TABLE bookings DROP COLUMN sequence;
