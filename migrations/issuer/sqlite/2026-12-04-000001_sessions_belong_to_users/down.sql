UPDATE session_ends SET forget_after = '9999-12-31 00:00:00' WHERE session_id IS NULL;
CREATE TABLE sessions_of_anyone (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    user_agent TEXT
);
INSERT INTO sessions_of_anyone SELECT id, user_id, created_at, expires_at, user_agent FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_of_anyone RENAME TO sessions;
CREATE INDEX sessions_by_user ON sessions (user_id, created_at);
ALTER TABLE users DROP COLUMN password_version;
