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

CREATE FUNCTION raise_rules_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE rules_epoch SET version = version + 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER resources_epoch AFTER INSERT OR DELETE ON resources
    FOR EACH STATEMENT EXECUTE FUNCTION raise_rules_epoch();
CREATE TRIGGER resources_epoch_update AFTER UPDATE ON resources
    FOR EACH ROW WHEN (OLD.longest_block_minutes = NEW.longest_block_minutes)
    EXECUTE FUNCTION raise_rules_epoch();
CREATE TRIGGER opening_hours_epoch AFTER INSERT OR UPDATE OR DELETE ON opening_hours
    FOR EACH STATEMENT EXECUTE FUNCTION raise_rules_epoch();
CREATE TRIGGER quotas_epoch AFTER INSERT OR UPDATE OR DELETE ON quotas
    FOR EACH STATEMENT EXECUTE FUNCTION raise_rules_epoch();
CREATE TRIGGER employees_epoch AFTER INSERT OR UPDATE OR DELETE ON employees
    FOR EACH STATEMENT EXECUTE FUNCTION raise_rules_epoch();
CREATE TRIGGER employee_members_epoch AFTER INSERT OR UPDATE OR DELETE ON employee_members
    FOR EACH STATEMENT EXECUTE FUNCTION raise_rules_epoch();

-- The same for what a request's actor is made of besides the user row: pole roles and
-- memberships (with the members' names). Read with the token or session on every request,
-- it lets the roles and memberships be kept between requests.
CREATE TABLE access_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO access_epoch (id, version) VALUES (1, 0);

CREATE FUNCTION raise_access_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE access_epoch SET version = version + 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER user_roles_access AFTER INSERT OR UPDATE OR DELETE ON user_roles
    FOR EACH STATEMENT EXECUTE FUNCTION raise_access_epoch();
CREATE TRIGGER memberships_access AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH STATEMENT EXECUTE FUNCTION raise_access_epoch();
CREATE TRIGGER members_access AFTER INSERT OR UPDATE OR DELETE ON members
    FOR EACH STATEMENT EXECUTE FUNCTION raise_access_epoch();

ALTER TABLE resources DROP COLUMN rules_version;
