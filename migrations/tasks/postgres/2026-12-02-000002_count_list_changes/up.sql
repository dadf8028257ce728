-- How many times each user's task list has changed. A trigger bumps it in the transaction of
-- every insert, update, delete and truncate of tasks, whoever writes, so a reader that finds the
-- version it wrote a list out at knows the list is still what it wrote. A row is never deleted,
-- so a version is never reused.
CREATE TABLE task_lists (
    user_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);

CREATE FUNCTION change_task_list(owner TEXT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO task_lists (user_id, version) VALUES (owner, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = task_lists.version + 1;
$$;

CREATE FUNCTION tasks_change_lists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM change_task_list(OLD.user_id);
    END IF;
    -- An update changes one list, unless it moves the task to another user.
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.user_id <> OLD.user_id) THEN
        PERFORM change_task_list(NEW.user_id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER tasks_change_lists AFTER INSERT OR UPDATE OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION tasks_change_lists();

-- TRUNCATE fires no row trigger: it changes every list.
CREATE FUNCTION tasks_truncate_changes_lists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE task_lists SET version = version + 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER tasks_truncate_changes_lists AFTER TRUNCATE ON tasks
    FOR EACH STATEMENT EXECUTE FUNCTION tasks_truncate_changes_lists();
