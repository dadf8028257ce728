DROP TABLE deletions_applied;
