-- The issuer's own asymmetric signing keys (JWT_ALGORITHM other than HS256, no
-- JWT_PRIVATE_KEY_FILE). A key is published from its creation and signs from activates_at
-- until the next key activates; it stays published until every token it signed has expired.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    algorithm TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    activates_at TIMESTAMP NOT NULL
);
