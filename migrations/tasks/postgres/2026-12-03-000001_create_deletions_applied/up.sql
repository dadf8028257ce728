-- How far tasks-api has applied the accounts the issuer deleted: the last `seq` of its feed
-- whose account's tasks are gone. Shared by every replica; a restart goes on from it.
CREATE TABLE deletions_applied (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO deletions_applied (id, seq) VALUES (1, 0);
