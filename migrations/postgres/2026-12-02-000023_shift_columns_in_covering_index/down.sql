DROP INDEX bookings_resource_cover_idx;
CREATE INDEX bookings_resource_cover_idx ON bookings (resource_id, block_start_at)
    INCLUDE (block_end_at, status, member_id, start_at, end_at, quantity);
