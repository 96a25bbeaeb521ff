-- The working-time check of an assignment reads some 110 shifts of one employee (23 weeks).
-- With the activity in the covering index that read is an index-only scan: a few contiguous
-- index pages instead of one heap page per shift.
DROP INDEX bookings_resource_cover_idx;
CREATE INDEX bookings_resource_cover_idx ON bookings (resource_id, block_start_at)
    INCLUDE (block_end_at, status, member_id, start_at, end_at, quantity, activity);
