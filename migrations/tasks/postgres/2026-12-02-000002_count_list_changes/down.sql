DROP TRIGGER tasks_truncate_changes_lists ON tasks;
DROP FUNCTION tasks_truncate_changes_lists();
DROP TRIGGER tasks_change_lists ON tasks;
DROP FUNCTION tasks_change_lists();
DROP FUNCTION change_task_list(TEXT);
DROP TABLE task_lists;
