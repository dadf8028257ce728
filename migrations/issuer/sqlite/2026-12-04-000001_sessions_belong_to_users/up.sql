-- A password's version: raised by every change of the password, never by a stronger hash of the
-- same one. A session starts, and a password change or a deletion takes effect, only while the
-- version is still the one whose password was checked.
ALTER TABLE users ADD COLUMN password_version INTEGER NOT NULL DEFAULT 0;

-- Sessions whose account is gone (a sign-in that raced its deletion, before this migration) are
-- ended into the feed, so that tasks-api refuses their tokens; then the foreign key makes another
-- impossible. It has no cascade: an account's sessions must be ended, into the feed, before the
-- account goes. SQLite adds a foreign key only by making the table anew.
INSERT INTO session_ends (session_id, user_id, forget_after)
    SELECT id, user_id, datetime(expires_at, '+5 minutes') FROM sessions
    WHERE user_id NOT IN (SELECT id FROM users);
CREATE TABLE sessions_of_users (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    user_agent TEXT
);
INSERT INTO sessions_of_users (id, user_id, created_at, expires_at, user_agent)
    SELECT id, user_id, created_at, expires_at, user_agent FROM sessions
    WHERE user_id IN (SELECT id FROM users);
DROP TABLE sessions;
ALTER TABLE sessions_of_users RENAME TO sessions;
CREATE INDEX sessions_by_user ON sessions (user_id, created_at);

-- An account's deletion stays in the feed for good, but a verifier refuses the account's tokens
-- only until the last of them expires: its forget_after now says when. For the deletions recorded
-- before, that is at most a token's lifetime (7 days) and the largest leeway (5 minutes) away.
UPDATE session_ends
    SET forget_after = strftime('%Y-%m-%d %H:%M:%f', 'now', '+7 days', '+5 minutes')
    WHERE session_id IS NULL;
