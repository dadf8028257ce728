DROP TABLE session_ends;
DROP TABLE sessions;
