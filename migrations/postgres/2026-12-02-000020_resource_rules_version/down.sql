ALTER TABLE resources DROP COLUMN rules_version;
