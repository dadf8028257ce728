-- Every sign-up and sign-in starts a session, and its token names it (`sid`). A session lives
-- until it expires with its token or ends (sign-out, a password change, the account deleted):
-- then its row goes, and its end is recorded in session_ends.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    user_agent TEXT
);
CREATE INDEX sessions_by_user ON sessions (user_id, created_at);

-- The feed tasks-api reads to learn which sessions ended, in the order they ended (seq, never
-- reused). A session's row may go once its tokens have expired (forget_after); an account's
-- deletion (session_id NULL) stays, so that a tasks-api that was away still deletes its tasks.
CREATE TABLE session_ends (
    seq INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    session_id TEXT,
    user_id TEXT NOT NULL,
    forget_after TIMESTAMP NOT NULL
);
CREATE INDEX session_ends_by_forget_after ON session_ends (forget_after);
