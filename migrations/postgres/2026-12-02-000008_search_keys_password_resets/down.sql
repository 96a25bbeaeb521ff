DROP TABLE password_resets;
DROP INDEX resources_name_key_idx;
DROP INDEX members_name_key_idx;
ALTER TABLE bookings DROP COLUMN purpose_key;
ALTER TABLE resources DROP COLUMN name_key;
ALTER TABLE members DROP COLUMN name_key;
