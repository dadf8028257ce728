-- An account's security activity: what happened, when, and from which client (user agent,
-- address). Each account keeps its last 100 events of the last 90 days; once it is deleted, its
-- events keep what and when, and the client's details are cleared.
CREATE TABLE account_events (
    id BIGSERIAL PRIMARY KEY,
    user_id TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    event TEXT NOT NULL,
    user_agent TEXT,
    ip TEXT
);
CREATE INDEX account_events_by_user ON account_events (user_id, id);
