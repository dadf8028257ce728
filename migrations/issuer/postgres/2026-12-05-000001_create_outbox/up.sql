-- Mail waiting to be delivered, saved in the same transaction as the change it tells of, so that
-- a message is sent if and only if the change was made, even across a restart. A row is deleted
-- once its message is delivered or given up on: a message that held a link's secret is kept no
-- longer than it takes to deliver it.
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    recipient TEXT NOT NULL,
    message BYTEA NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at);
