-- The working-time check of an assignment reads some 110 shifts of one employee (23 weeks).
-- With the activity in the covering index that read never leaves the index: a few contiguous
-- index pages instead of one table page per shift scattered over the file.
DROP INDEX bookings_resource_cover_idx;
CREATE INDEX bookings_resource_cover_idx ON bookings
    (resource_id, block_start_at, block_end_at, status, member_id, start_at, end_at, quantity,
     activity);
