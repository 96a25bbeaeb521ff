-- Every booking looks up the parts of its resource (the whole and parts share capacity):
-- without this index that was a scan of the whole catalogue per booking.
CREATE INDEX resources_parent_idx ON resources (parent_id);
