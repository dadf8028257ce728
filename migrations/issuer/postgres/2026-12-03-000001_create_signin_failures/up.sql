-- Consecutive failed sign-ins per email, whether or not an account has it, kept in the database
-- so that every issuer replica counts the same ones. An attempt is counted before its password
-- is checked and the row deleted when it was right; past the free failures, each one makes the
-- email wait until blocked_until.
CREATE TABLE signin_failures (
    email TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    blocked_until TIMESTAMP NOT NULL
);
