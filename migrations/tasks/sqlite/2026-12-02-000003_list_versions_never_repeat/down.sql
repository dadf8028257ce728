DROP TRIGGER tasks_insert_changes_list;
DROP TRIGGER tasks_update_changes_list;
DROP TRIGGER tasks_delete_changes_list;

CREATE TRIGGER tasks_insert_changes_list AFTER INSERT ON tasks BEGIN
    INSERT INTO task_lists (user_id, version) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER tasks_update_changes_list AFTER UPDATE ON tasks BEGIN
    INSERT INTO task_lists (user_id, version) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    INSERT INTO task_lists (user_id, version) SELECT OLD.user_id, 1 WHERE OLD.user_id <> NEW.user_id
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER tasks_delete_changes_list AFTER DELETE ON tasks BEGIN
    INSERT INTO task_lists (user_id, version) VALUES (OLD.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
