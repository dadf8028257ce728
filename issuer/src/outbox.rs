//! The mail outbox: a message is saved in the transaction of the change it tells of
//! ([`enqueue`]), and a [`Sender`] delivers it later, so that a request never waits for a mail
//! server and a message a change promised survives a restart.
//!
//! The sender takes each due message by moving its next attempt a lease ahead (a compare-and-set,
//! so that of several issuer replicas one takes it), delivers it, and deletes it; a failure that
//! may pass is tried again later, each time waiting twice as long, and given up after
//! [`MAX_ATTEMPTS`], with the reason logged (never the message: it may hold a link's secret).

use chrono::{NaiveDateTime, TimeDelta};
use database::{DbConnection, DbError, Pool};
use diesel::prelude::*;
use mail::{Mailer, Outgoing};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use std::time::Duration;

diesel::table! {
    outbox (id) {
        id -> BigInt,
        recipient -> Text,
        message -> Binary,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        created_at -> Timestamp,
    }
}

/// How often the sender looks for due messages.
const POLL: Duration = Duration::from_secs(1);
/// How many due messages it takes in one look.
const BATCH: i64 = 20;
/// How long a taken message is the taker's: longer than a delivery may take (30 s), so that no
/// other replica takes it meanwhile, and short enough that one a crashed taker held goes out.
const LEASE: TimeDelta = TimeDelta::seconds(90);
/// Attempts before a message is given up: with the doubling waits, about three hours of trying.
pub const MAX_ATTEMPTS: i32 = 12;
/// The longest wait between two attempts.
const MAX_BACKOFF: TimeDelta = TimeDelta::minutes(15);

/// Saves `outgoing` to be sent as soon as the sender looks; call it inside the transaction of
/// the change the message tells of.
pub fn enqueue(conn: &mut DbConnection, outgoing: &Outgoing) -> Result<(), DbError> {
    let now = database::now();
    database::on_backend!(conn => diesel::insert_into(outbox::table)
        .values((
            outbox::recipient.eq(&outgoing.recipient),
            outbox::message.eq(&outgoing.message),
            outbox::next_attempt_at.eq(now),
            outbox::created_at.eq(now),
        ))
        .execute(conn))?;
    Ok(())
}

/// How long to wait after the `attempts`-th failed attempt: 2, 4, 8 … seconds, at most
/// [`MAX_BACKOFF`].
fn backoff(attempts: i32) -> TimeDelta {
    TimeDelta::seconds(1_i64 << attempts.clamp(1, 20)).min(MAX_BACKOFF)
}

/// The ids of the messages due now, oldest first.
fn due(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Vec<i64>, DbError> {
    Ok(database::on_backend!(conn => outbox::table
        .filter(outbox::next_attempt_at.le(now))
        .order(outbox::id)
        .select(outbox::id)
        .limit(BATCH)
        .load(conn))?)
}

/// Takes message `id` for a lease if it is still due: `None` when another sender took it first.
fn take(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
) -> Result<Option<(Outgoing, i32)>, DbError> {
    let taken = database::on_backend!(conn => diesel::update(
        outbox::table.find(id).filter(outbox::next_attempt_at.le(now)),
    )
    .set(outbox::next_attempt_at.eq(now + LEASE))
    .execute(conn))?;
    if taken == 0 {
        return Ok(None);
    }
    let (recipient, message, attempts) = database::on_backend!(conn => outbox::table
        .find(id)
        .select((outbox::recipient, outbox::message, outbox::attempts))
        .first::<(String, Vec<u8>, i32)>(conn))?;
    Ok(Some((Outgoing { recipient, message }, attempts)))
}

/// The outbox's depth at one moment.
pub struct Depth {
    pub messages: i64,
    /// How long the oldest message has waited; zero when there is none.
    pub oldest_age: Duration,
}

/// Measures the outbox, with a connection of its own (it blocks: for the metrics' scrape).
pub fn depth(pool: &Pool) -> Result<Depth, DbError> {
    let conn = &mut *pool
        .get()
        .map_err(|e| DbError::Unavailable(e.to_string()))?;
    let (messages, oldest) = database::on_backend!(conn => outbox::table
        .select((diesel::dsl::count_star(), diesel::dsl::min(outbox::created_at)))
        .first::<(i64, Option<NaiveDateTime>)>(conn))?;
    let oldest_age = oldest
        .and_then(|created| (database::now() - created).to_std().ok())
        .unwrap_or_default();
    Ok(Depth {
        messages,
        oldest_age,
    })
}

fn forget(conn: &mut DbConnection, id: i64) -> Result<(), DbError> {
    database::on_backend!(conn => diesel::delete(outbox::table.find(id)).execute(conn))?;
    Ok(())
}

fn retry_later(conn: &mut DbConnection, id: i64, attempts: i32) -> Result<(), DbError> {
    database::on_backend!(conn => diesel::update(outbox::table.find(id))
        .set((
            outbox::attempts.eq(attempts),
            outbox::next_attempt_at.eq(database::now() + backoff(attempts)),
        ))
        .execute(conn))?;
    Ok(())
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// The sender's deliveries, by outcome, for the metrics: `delivered`, `retry` (a failure that may
/// pass) and `gave_up` (a refusal for good, or too many failures).
#[derive(Clone, Default)]
pub struct Deliveries(Family<OutcomeLabels, Counter>);

impl Deliveries {
    fn count(&self, outcome: &'static str) {
        self.0.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "issuer_mail_deliveries",
            "Attempts to deliver a message of the mail outbox, by outcome",
            self.0.clone(),
        );
    }
}

/// Delivers the outbox's messages, for as long as the process runs.
pub struct Sender {
    pub pool: Pool,
    pub mailer: Mailer,
    pub deliveries: Deliveries,
}

impl Sender {
    pub async fn run(self) {
        loop {
            if let Err(e) = self.send_due().await {
                log::warn!("mail outbox: cannot read it: {e}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Tries every message due now once.
    async fn send_due(&self) -> Result<(), DbError> {
        let now = database::now();
        let ids = database::run(&self.pool, move |conn| due(conn, now)).await?;
        for id in ids {
            let Some((outgoing, attempts)) =
                database::write(&self.pool, move |conn| take(conn, id, now)).await?
            else {
                continue;
            };
            let outcome = self.mailer.deliver(&outgoing).await;
            let attempts = attempts + 1;
            match outcome {
                Ok(()) => {
                    self.deliveries.count("delivered");
                    log::info!("mail outbox: message {id} delivered");
                    database::write(&self.pool, move |conn| forget(conn, id)).await?;
                }
                Err(failure) if failure.permanent || attempts >= MAX_ATTEMPTS => {
                    self.deliveries.count("gave_up");
                    log::warn!(
                        "mail outbox: gave up on message {id} after {attempts} attempt(s): {}",
                        failure.reason
                    );
                    database::write(&self.pool, move |conn| forget(conn, id)).await?;
                }
                Err(failure) => {
                    self.deliveries.count("retry");
                    log::info!(
                        "mail outbox: message {id} not delivered (attempt {attempts}), trying again in {} s: {}",
                        backoff(attempts).num_seconds(),
                        failure.reason
                    );
                    database::write(&self.pool, move |conn| retry_later(conn, id, attempts))
                        .await?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_two_seconds_up_to_a_quarter_of_an_hour() {
        let waits: Vec<i64> = (1..=MAX_ATTEMPTS)
            .map(|attempts| backoff(attempts).num_seconds())
            .collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]);
    }
}
