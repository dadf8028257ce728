-- Writers of the feed take this lock, so that seq order is commit order (see the sessions
-- migration); this one writes to it too.
LOCK TABLE session_ends IN SHARE ROW EXCLUSIVE MODE;

-- A password's version: raised by every change of the password, never by a stronger hash of the
-- same one. A session starts, and a password change or a deletion takes effect, only while the
-- version is still the one whose password was checked.
ALTER TABLE users ADD COLUMN password_version INTEGER NOT NULL DEFAULT 0;

-- Sessions whose account is gone (a sign-in that raced its deletion, before this migration) are
-- ended into the feed, so that tasks-api refuses their tokens; then the foreign key makes another
-- impossible. It has no cascade: an account's sessions must be ended, into the feed, before the
-- account goes.
INSERT INTO session_ends (session_id, user_id, forget_after)
    SELECT id, user_id, expires_at + INTERVAL '5 minutes' FROM sessions
    WHERE user_id NOT IN (SELECT id FROM users);
DELETE FROM sessions WHERE user_id NOT IN (SELECT id FROM users);
ALTER TABLE sessions ADD CONSTRAINT sessions_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id);

-- An account's deletion stays in the feed for good, but a verifier refuses the account's tokens
-- only until the last of them expires: its forget_after now says when. For the deletions recorded
-- before, that is at most a token's lifetime (7 days) and the largest leeway (5 minutes) away.
UPDATE session_ends
    SET forget_after = (now() AT TIME ZONE 'UTC') + INTERVAL '7 days 5 minutes'
    WHERE session_id IS NULL;
