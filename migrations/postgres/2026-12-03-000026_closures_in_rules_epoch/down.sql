DROP TRIGGER closures_epoch ON closures;
