-- Lists that scale and forgotten passwords.
--
-- Names and purposes in the folded form of domain::text::fold (lower case, no accents,
-- ligatures spelt out), written by the application beside the text: searches and name
-- order run in SQL, identical on both backends, and pages are cut by LIMIT/OFFSET.
-- Rows written before this migration are filled in by the application at start
-- (store::backfill_search_keys), since SQL cannot fold as French users expect.
ALTER TABLE members ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
ALTER TABLE resources ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
ALTER TABLE bookings ADD COLUMN purpose_key TEXT NOT NULL DEFAULT '';
CREATE INDEX members_name_key_idx ON members (name_key, id);
CREATE INDEX resources_name_key_idx ON resources (kind, name_key, id);

-- « Mot de passe oublié » : one row per link sent. Only the SHA-256 of the secret is kept;
-- a link works once (used_at) and for one hour (expires_at).
CREATE TABLE password_resets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);
