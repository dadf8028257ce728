-- A deleted account's list is marked, for good, when its deletion is applied; every write takes
-- its user's list row first and is refused once the mark is there. So a write that overlaps the
-- deletion either commits first (and its task goes with the rest) or is refused: none is left
-- behind, and none succeeds afterwards, on any replica.
ALTER TABLE task_lists ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT FALSE;

-- The deletions applied before this migration left no mark: the feed is applied once more from
-- its start, which marks them (deleting their tasks again finds none).
UPDATE deletions_applied SET seq = 0;
