CREATE INDEX bookings_resource_block_idx ON bookings (resource_id, block_start_at);
DROP INDEX bookings_resource_cover_idx;
