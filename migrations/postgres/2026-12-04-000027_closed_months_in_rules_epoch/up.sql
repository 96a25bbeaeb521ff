-- Closed months join what a booking's rules keep between requests: closing or reopening a
-- month raises the rules epoch in its transaction, so a booking on a kept target knows which
-- months are closed without reading them under the lock.
CREATE TRIGGER month_closings_epoch AFTER INSERT OR UPDATE OR DELETE ON month_closings
    FOR EACH STATEMENT EXECUTE FUNCTION raise_rules_epoch();

-- The shared lock a booking takes on each month it touches (no close of it can commit before
-- the booking does), taken in the statement that locks the booked resources: one round trip
-- for both, before the rules epoch is read. Returns 0.
CREATE FUNCTION lock_months_shared(space INTEGER, keys INTEGER[]) RETURNS INTEGER
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    k INTEGER;
BEGIN
    FOREACH k IN ARRAY keys LOOP
        PERFORM pg_advisory_xact_lock_shared(space, k);
    END LOOP;
    RETURN 0;
END;
$$;
