-- A list's version becomes a random number on every change instead of a count. A count comes
-- back after a database is restored from an older backup: two changes after restoring version 3
-- make a version 5 again, with other tasks than the version 5 a running tasks-api kept a page
-- of. A random version (53 bits, what random() carries) names one state of one list, before or
-- after any restore.
CREATE FUNCTION random_list_version() RETURNS BIGINT LANGUAGE sql VOLATILE AS $$
    SELECT floor(random() * 9007199254740992)::BIGINT;
$$;

CREATE OR REPLACE FUNCTION change_task_list(owner TEXT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO task_lists (user_id, version) VALUES (owner, random_list_version())
        ON CONFLICT (user_id) DO UPDATE SET version = random_list_version();
$$;

CREATE OR REPLACE FUNCTION tasks_truncate_changes_lists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE task_lists SET version = random_list_version();
    RETURN NULL;
END;
$$;
