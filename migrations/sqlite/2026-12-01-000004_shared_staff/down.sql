ALTER TABLE bookings DROP COLUMN activity;
DROP TABLE employee_members;
DROP TABLE employees;
