ALTER TABLE task_lists DROP COLUMN deleted;
