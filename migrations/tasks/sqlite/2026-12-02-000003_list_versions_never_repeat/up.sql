-- A list's version becomes a random number on every change instead of a count. A count comes
-- back after a database is restored from an older backup: two changes after restoring version 3
-- make a version 5 again, with other tasks than the version 5 a running tasks-api kept a page
-- of. A random 64-bit version names one state of one list, before or after any restore.
DROP TRIGGER tasks_insert_changes_list;
DROP TRIGGER tasks_update_changes_list;
DROP TRIGGER tasks_delete_changes_list;

CREATE TRIGGER tasks_insert_changes_list AFTER INSERT ON tasks BEGIN
    INSERT INTO task_lists (user_id, version) VALUES (NEW.user_id, random())
        ON CONFLICT (user_id) DO UPDATE SET version = random();
END;

CREATE TRIGGER tasks_update_changes_list AFTER UPDATE ON tasks BEGIN
    INSERT INTO task_lists (user_id, version) VALUES (NEW.user_id, random())
        ON CONFLICT (user_id) DO UPDATE SET version = random();
    -- A task moved to another user changes the list it left too.
    INSERT INTO task_lists (user_id, version) SELECT OLD.user_id, random() WHERE OLD.user_id <> NEW.user_id
        ON CONFLICT (user_id) DO UPDATE SET version = random();
END;

CREATE TRIGGER tasks_delete_changes_list AFTER DELETE ON tasks BEGIN
    INSERT INTO task_lists (user_id, version) VALUES (OLD.user_id, random())
        ON CONFLICT (user_id) DO UPDATE SET version = random();
END;
