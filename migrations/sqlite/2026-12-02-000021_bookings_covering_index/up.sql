-- The rule checks and availability read, for one resource, the active bookings whose blocked
-- span meets a window. With every column they need in the index, a month of a dense resource
-- (some 2 000 rows) is read from a few contiguous index pages instead of one table page per
-- row scattered over the file. It replaces the narrower index it extends.
CREATE INDEX bookings_resource_cover_idx ON bookings
    (resource_id, block_start_at, block_end_at, status, member_id, start_at, end_at, quantity);
DROP INDEX bookings_resource_block_idx;
