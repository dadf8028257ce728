UPDATE session_ends SET forget_after = '9999-12-31' WHERE session_id IS NULL;
ALTER TABLE sessions DROP CONSTRAINT sessions_user_id_fkey;
ALTER TABLE users DROP COLUMN password_version;
