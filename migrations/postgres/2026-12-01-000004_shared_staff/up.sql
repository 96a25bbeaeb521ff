-- Shared employees of employer groups: what the staff resource does not say (contract,
-- date of birth for the rules of minors, the group's fee, skills), the members named in the
-- employee's mise-à-disposition agreements, and what a booking of an employee is (work at a
-- member, training, absence).
CREATE TABLE employees (
    resource_id BIGINT PRIMARY KEY REFERENCES resources (id) ON DELETE CASCADE,
    -- cdi, cdd, apprenticeship, professionalisation
    contract_type TEXT NOT NULL,
    contract_end DATE,
    birth_date DATE,
    -- The group's management fee: a coefficient in thousandths (1150 = ×1.15), or a flat
    -- monthly amount in cents, or neither.
    fee_permille INTEGER,
    fee_monthly_cents BIGINT,
    -- Tags separated by commas, as typed.
    skills TEXT NOT NULL DEFAULT ''
);

CREATE TABLE employee_members (
    resource_id BIGINT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id),
    PRIMARY KEY (resource_id, member_id)
);

-- work (at the booking's member), training (working time, not billed), absence (leave,
-- sickness: the slot is blocked, it is not working time).
ALTER TABLE bookings ADD COLUMN activity TEXT NOT NULL DEFAULT 'work';
