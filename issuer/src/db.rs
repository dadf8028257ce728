//! The issuer's tables and queries: plain functions over a connection, called through
//! `shared::db::run` so that none of them runs on an async worker.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use shared::db::{DbConnection, DbError, Migrations};

pub static MIGRATIONS: Migrations = Migrations {
    sqlite: diesel_migrations::embed_migrations!("../migrations/issuer/sqlite"),
    postgres: diesel_migrations::embed_migrations!("../migrations/issuer/postgres"),
};

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
    }
}

#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_user(conn: &mut DbConnection, user: &User) -> Result<(), DbError> {
    diesel::insert_into(users::table)
        .values(user)
        .execute(conn)?;
    Ok(())
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<User>, DbError> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn update_password_hash(conn: &mut DbConnection, id: &str, hash: &str) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set(users::password_hash.eq(hash))
        .execute(conn)?;
    Ok(())
}
