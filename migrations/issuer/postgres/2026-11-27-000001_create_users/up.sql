-- Accounts. The email is stored trimmed and lower-cased, so the unique index makes it unique
-- regardless of case; two simultaneous sign-ups with one email cannot both succeed.
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
