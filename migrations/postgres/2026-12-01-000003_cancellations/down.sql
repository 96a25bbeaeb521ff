UPDATE bookings
   SET decided_at = cancelled_at, decided_by = cancelled_by, decision_reason = NULL
 WHERE status = 'cancelled';
ALTER TABLE bookings DROP COLUMN cancelled_by;
ALTER TABLE bookings DROP COLUMN cancelled_at;
