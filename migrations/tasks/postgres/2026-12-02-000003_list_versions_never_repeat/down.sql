CREATE OR REPLACE FUNCTION change_task_list(owner TEXT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO task_lists (user_id, version) VALUES (owner, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = task_lists.version + 1;
$$;

CREATE OR REPLACE FUNCTION tasks_truncate_changes_lists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE task_lists SET version = version + 1;
    RETURN NULL;
END;
$$;

DROP FUNCTION random_list_version();
