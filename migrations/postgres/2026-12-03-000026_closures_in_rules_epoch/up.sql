-- Closures join what a booking's rules keep between requests: any change of them raises the
-- rules epoch, in the transaction of the change, so a booking on a kept target reads them
-- no more under the lock.
CREATE TRIGGER closures_epoch AFTER INSERT OR UPDATE OR DELETE ON closures
    FOR EACH STATEMENT EXECUTE FUNCTION raise_rules_epoch();
