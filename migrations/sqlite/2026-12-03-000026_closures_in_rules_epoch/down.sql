DROP TRIGGER closures_epoch_insert;
DROP TRIGGER closures_epoch_update;
DROP TRIGGER closures_epoch_delete;
