-- Whether the account's address is known to reach its owner: set when they follow a link mailed
-- to it. The accounts made before are not.
ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;

-- Links mailed to an account: to verify its address, to confirm a new one, to reset its password.
-- Only a hash of a link's secret is kept. A link is deleted when it is used, when a newer link of
-- its purpose is mailed, when the password changes (a reset link), when the address changes (any),
-- and with the account; `email` is the address it was mailed to.
CREATE TABLE account_links (
    secret_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    email TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX account_links_by_user ON account_links (user_id, purpose);

-- Links mailed to each address in the current window, so that nobody can fill an inbox with them.
CREATE TABLE mail_allowance (
    email TEXT PRIMARY KEY NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    sent INTEGER NOT NULL
);
CREATE INDEX mail_allowance_by_window ON mail_allowance (window_started_at);
