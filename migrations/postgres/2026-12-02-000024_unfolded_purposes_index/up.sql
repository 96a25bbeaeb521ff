-- The bookings whose purpose has no folded search key yet: the start-up backfill reads only
-- these (none once filled) instead of scanning every booking at each start.
CREATE INDEX bookings_unfolded_purpose_idx ON bookings (id)
    WHERE purpose_key = '' AND purpose <> '';
