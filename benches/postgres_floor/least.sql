-- The least a booking can be while keeping its guarantees: a transaction locking the
-- resource, reading the bookings near the slot, inserting the booking (its exclusion
-- constraint checked) and its message. The floor of any booking's cost here.
-- Run against a database filled by `mutualise bench seed` (resources 1-50, members 1-36,
-- user 1), PostgreSQL alone, nothing else running:
--   pgbench -n -M prepared -c 32 -j 2 -T 15 -f benches/postgres_floor/least.sql mutualise_bench
-- then benches/postgres_floor/cleanup.sql. Bookings land from the year 2100 on, one hour each,
-- at random minutes over ~190 000 years: they almost never meet.
\set r random(1, 50)
\set m random(0, 100000000000)
\set ms :m - 1440
\set me :m + 60
\set mem random(1, 36)
BEGIN;
SELECT id FROM resources WHERE id = ANY(ARRAY[:r]::bigint[]) ORDER BY id FOR UPDATE;
SELECT id, resource_id, member_id, start_at, end_at, quantity FROM bookings WHERE resource_id = :r AND block_start_at >= ('2100-01-01'::timestamp + (:ms)::float8 * interval '1 minute') AND block_start_at < ('2100-01-01'::timestamp + (:me)::float8 * interval '1 minute') AND block_end_at > ('2100-01-01'::timestamp + (:m)::float8 * interval '1 minute') AND (status = 'pending' OR status = 'confirmed');
INSERT INTO bookings (resource_id, member_id, created_by, series_id, start_at, end_at, block_start_at, block_end_at, quantity, exclusive, status, purpose, beneficiary, created_at, updated_at, activity, purpose_key) VALUES (:r, :mem, 1, NULL, ('2100-01-01'::timestamp + (:m)::float8 * interval '1 minute'), ('2100-01-01'::timestamp + (:me)::float8 * interval '1 minute'), ('2100-01-01'::timestamp + (:m)::float8 * interval '1 minute'), ('2100-01-01'::timestamp + (:me)::float8 * interval '1 minute'), 1, true, 'confirmed', 'Réunion de bureau', NULL, now()::timestamp, now()::timestamp, 'work', 'reunion de bureau') RETURNING *;
INSERT INTO outbox (event_key, kind, recipient, user_id, payload, status, attempts, next_attempt_at, created_at) VALUES ('pgb-' || (:client_id)::text || '-' || (:m)::text || '-' || (:r)::text, 'booking_created', 'booker@example.org', 1, '{"booking_id":123456,"resource":"Salle de réunion","member":"Association","start":"2100-01-01T10:00:00Z","end":"2100-01-01T11:00:00Z","purpose":"Réunion de bureau"}', 'pending', 0, now()::timestamp, now()::timestamp) ON CONFLICT DO NOTHING;
COMMIT;
