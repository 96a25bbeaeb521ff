-- Cancelling no longer overwrites the approval decision: who cancelled and when get their
-- own columns. Rows cancelled before carried the cancellation in the decision columns.
ALTER TABLE bookings ADD COLUMN cancelled_at TIMESTAMP;
ALTER TABLE bookings ADD COLUMN cancelled_by BIGINT REFERENCES users (id) ON DELETE SET NULL;
UPDATE bookings
   SET cancelled_at = decided_at, cancelled_by = decided_by,
       decided_at = NULL, decided_by = NULL, decision_reason = NULL
 WHERE status = 'cancelled';
