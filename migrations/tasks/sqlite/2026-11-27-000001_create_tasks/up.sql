-- Tasks. `user_id` is the token's subject: tasks-api never reads the issuer's tables, so there
-- is no foreign key to them. The index serves the list query (one user's tasks, oldest first).
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    completed BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX tasks_user_id_id ON tasks (user_id, id);
