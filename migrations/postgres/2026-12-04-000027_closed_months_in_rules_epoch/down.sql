DROP FUNCTION lock_months_shared(INTEGER, INTEGER[]);
DROP TRIGGER month_closings_epoch ON month_closings;
