-- How many times each user's task list has changed. Triggers bump it in the transaction of every
-- insert, update and delete of a task, whoever writes, so a reader that finds the version it
-- wrote a list out at knows the list is still what it wrote. A row is never deleted, so a
-- version is never reused.
CREATE TABLE task_lists (
    user_id TEXT PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL
);

CREATE TRIGGER tasks_insert_changes_list AFTER INSERT ON tasks BEGIN
    INSERT INTO task_lists (user_id, version) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER tasks_update_changes_list AFTER UPDATE ON tasks BEGIN
    INSERT INTO task_lists (user_id, version) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    -- A task moved to another user changes the list it left too.
    INSERT INTO task_lists (user_id, version) SELECT OLD.user_id, 1 WHERE OLD.user_id <> NEW.user_id
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER tasks_delete_changes_list AFTER DELETE ON tasks BEGIN
    INSERT INTO task_lists (user_id, version) VALUES (OLD.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
