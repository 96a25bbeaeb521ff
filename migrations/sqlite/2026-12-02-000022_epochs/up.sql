-- One number for everything a booking's rules read of the settings: the resource rows (their
-- capacity, hours, buffers, composition), the opening hours, the quotas and the shared
-- employees' facts. Triggers raise it in the transaction of any change, whatever code made it,
-- so a booking may keep what it read of those settings between requests and read only this
-- number (and the resource's longest span) under the lock. Raising the longest span itself,
-- which bookings do, does not count. It replaces the per-resource `rules_version`.
CREATE TABLE rules_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO rules_epoch (id, version) VALUES (1, 0);

CREATE TRIGGER resources_epoch_insert AFTER INSERT ON resources
BEGIN UPDATE rules_epoch SET version = version + 1; END;
CREATE TRIGGER resources_epoch_delete AFTER DELETE ON resources
BEGIN UPDATE rules_epoch SET version = version + 1; END;
CREATE TRIGGER resources_epoch_update AFTER UPDATE ON resources
WHEN OLD.longest_block_minutes = NEW.longest_block_minutes
BEGIN UPDATE rules_epoch SET version = version + 1; END;
CREATE TRIGGER opening_hours_epoch_insert AFTER INSERT ON opening_hours
BEGIN UPDATE rules_epoch SET version = version + 1; END;
CREATE TRIGGER opening_hours_epoch_update AFTER UPDATE ON opening_hours
BEGIN UPDATE rules_epoch SET version = version + 1; END;
CREATE TRIGGER opening_hours_epoch_delete AFTER DELETE ON opening_hours
BEGIN UPDATE rules_epoch SET version = version + 1; END;
CREATE TRIGGER quotas_epoch_insert AFTER INSERT ON quotas
BEGIN UPDATE rules_epoch SET version = version + 1; END;
CREATE TRIGGER quotas_epoch_update AFTER UPDATE ON quotas
BEGIN UPDATE rules_epoch SET version = version + 1; END;
CREATE TRIGGER quotas_epoch_delete AFTER DELETE ON quotas
BEGIN UPDATE rules_epoch SET version = version + 1; END;
CREATE TRIGGER employees_epoch_insert AFTER INSERT ON employees
BEGIN UPDATE rules_epoch SET version = version + 1; END;
CREATE TRIGGER employees_epoch_update AFTER UPDATE ON employees
BEGIN UPDATE rules_epoch SET version = version + 1; END;
CREATE TRIGGER employees_epoch_delete AFTER DELETE ON employees
BEGIN UPDATE rules_epoch SET version = version + 1; END;
CREATE TRIGGER employee_members_epoch_insert AFTER INSERT ON employee_members
BEGIN UPDATE rules_epoch SET version = version + 1; END;
CREATE TRIGGER employee_members_epoch_update AFTER UPDATE ON employee_members
BEGIN UPDATE rules_epoch SET version = version + 1; END;
CREATE TRIGGER employee_members_epoch_delete AFTER DELETE ON employee_members
BEGIN UPDATE rules_epoch SET version = version + 1; END;

-- The same for what a request's actor is made of besides the user row: pole roles and
-- memberships (with the members' names). Read with the token or session on every request,
-- it lets the roles and memberships be kept between requests.
CREATE TABLE access_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO access_epoch (id, version) VALUES (1, 0);
CREATE TRIGGER user_roles_access_insert AFTER INSERT ON user_roles
BEGIN UPDATE access_epoch SET version = version + 1; END;
CREATE TRIGGER user_roles_access_update AFTER UPDATE ON user_roles
BEGIN UPDATE access_epoch SET version = version + 1; END;
CREATE TRIGGER user_roles_access_delete AFTER DELETE ON user_roles
BEGIN UPDATE access_epoch SET version = version + 1; END;
CREATE TRIGGER memberships_access_insert AFTER INSERT ON memberships
BEGIN UPDATE access_epoch SET version = version + 1; END;
CREATE TRIGGER memberships_access_update AFTER UPDATE ON memberships
BEGIN UPDATE access_epoch SET version = version + 1; END;
CREATE TRIGGER memberships_access_delete AFTER DELETE ON memberships
BEGIN UPDATE access_epoch SET version = version + 1; END;
CREATE TRIGGER members_access_insert AFTER INSERT ON members
BEGIN UPDATE access_epoch SET version = version + 1; END;
CREATE TRIGGER members_access_update AFTER UPDATE ON members
BEGIN UPDATE access_epoch SET version = version + 1; END;
CREATE TRIGGER members_access_delete AFTER DELETE ON members
BEGIN UPDATE access_epoch SET version = version + 1; END;

ALTER TABLE resources DROP COLUMN rules_version;
