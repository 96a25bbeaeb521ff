-- Closures join what a booking's rules keep between requests: any change of them raises the
-- rules epoch, in the transaction of the change, so a booking on a kept target reads them
-- no more under the lock.
CREATE TRIGGER closures_epoch_insert AFTER INSERT ON closures
BEGIN UPDATE rules_epoch SET version = version + 1; END;
CREATE TRIGGER closures_epoch_update AFTER UPDATE ON closures
BEGIN UPDATE rules_epoch SET version = version + 1; END;
CREATE TRIGGER closures_epoch_delete AFTER DELETE ON closures
BEGIN UPDATE rules_epoch SET version = version + 1; END;
