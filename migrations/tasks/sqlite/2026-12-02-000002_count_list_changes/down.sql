DROP TRIGGER tasks_delete_changes_list;
DROP TRIGGER tasks_update_changes_list;
DROP TRIGGER tasks_insert_changes_list;
DROP TABLE task_lists;
