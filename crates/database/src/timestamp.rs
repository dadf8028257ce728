use crate::connection::{MultiBackend, MultiRawValue};
use chrono::NaiveDateTime;
use diesel::deserialize::{self, FromSql};

/// The current time as both backends store it: PostgreSQL keeps microseconds, so a timestamp
/// is cut to microseconds before it is saved or shown, and what a client is told is what it
/// reads back later.
pub fn now() -> NaiveDateTime {
    use chrono::SubsecRound;
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}

/// A stored moment (UTC, to the microsecond, as [`now`] makes it), read from either backend and
/// kept as it is shown: RFC 3339 with six fraction digits, `2026-11-27T13:40:01.123456Z`.
///
/// A task list is mostly timestamps, and parsing each into chrono's types to format it back out
/// slowed the many-user load by more than a tenth (bench/RESULTS.md). So the text SQLite holds is
/// checked and copied into this form in one pass, and shown as it is. RFC 3339 writes a year in
/// four digits, so a moment outside the years 0000–9999 is held at the nearest end of them.
#[derive(Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct Timestamp([u8; 27]);

impl Timestamp {
    /// The shown form, before its digits are written.
    const LAYOUT: [u8; 27] = *b"0000-00-00T00:00:00.000000Z";

    /// Where each part of the shown form starts, and how many digits it has.
    const YEAR: (usize, usize) = (0, 4);
    const MONTH: (usize, usize) = (5, 2);
    const DAY: (usize, usize) = (8, 2);
    const HOUR: (usize, usize) = (11, 2);
    const MINUTE: (usize, usize) = (14, 2);
    const SECOND: (usize, usize) = (17, 2);
    const MICROS: (usize, usize) = (20, 6);

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("a timestamp is digits and separators")
    }

    /// Reads the layout diesel writes to SQLite, `YYYY-MM-DD HH:MM:SS` with an optional
    /// fraction of one to nine digits (shown to the microsecond); `None` for any other text and
    /// for a date or time that does not exist.
    fn from_stored(text: &[u8]) -> Option<Self> {
        let (moment, fraction) = match text.split_at_checked(19)? {
            (moment, []) => (moment, &[][..]),
            (moment, [b'.', fraction @ ..]) if (1..=9).contains(&fraction.len()) => {
                (moment, fraction)
            }
            _ => return None,
        };
        let separators = [moment[4], moment[7], moment[10], moment[13], moment[16]];
        let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
        if separators != *b"-- ::"
            || !digits.iter().all(|&i| moment[i].is_ascii_digit())
            || !fraction.iter().all(u8::is_ascii_digit)
        {
            return None;
        }
        let mut shown = Self::LAYOUT;
        shown[..10].copy_from_slice(&moment[..10]);
        shown[11..19].copy_from_slice(&moment[11..]);
        let kept = &fraction[..fraction.len().min(Self::MICROS.1)];
        shown[Self::MICROS.0..][..kept.len()].copy_from_slice(kept);
        let shown = Self(shown);
        shown.exists().then_some(shown)
    }

    /// The two digits at `at`, which compare as the numbers they write.
    fn two_digits(&self, (at, _): (usize, usize)) -> [u8; 2] {
        [self.0[at], self.0[at + 1]]
    }

    /// Whether the digits name a moment of the proleptic Gregorian calendar, leap seconds aside.
    fn exists(&self) -> bool {
        let leap_year = || {
            let year = self.0[..4]
                .iter()
                .fold(0, |n, &d| n * 10 + u32::from(d - b'0'));
            year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        };
        let last_day = match &self.two_digits(Self::MONTH) {
            b"02" if leap_year() => b"29",
            b"02" => b"28",
            b"04" | b"06" | b"09" | b"11" => b"30",
            b"01" | b"03" | b"05" | b"07" | b"08" | b"10" | b"12" => b"31",
            _ => return false,
        };
        (*b"01"..=*last_day).contains(&self.two_digits(Self::DAY))
            && self.two_digits(Self::HOUR) < *b"24"
            && self.two_digits(Self::MINUTE) < *b"60"
            && self.two_digits(Self::SECOND) < *b"60"
    }
}

impl From<NaiveDateTime> for Timestamp {
    fn from(moment: NaiveDateTime) -> Self {
        use chrono::{Datelike, NaiveDate, Timelike};
        let first = NaiveDate::from_ymd_opt(0, 1, 1).and_then(|day| day.and_hms_opt(0, 0, 0));
        let last = NaiveDate::from_ymd_opt(9999, 12, 31)
            .and_then(|day| day.and_hms_micro_opt(23, 59, 59, 999_999));
        let moment = moment.clamp(
            first.expect("the first moment of year 0"),
            last.expect("the last moment of year 9999"),
        );
        let mut shown = Self(Self::LAYOUT);
        let mut put = |(start, digits): (usize, usize), mut value: u32| {
            for digit in shown.0[start..start + digits].iter_mut().rev() {
                *digit = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        let (date, time) = (moment.date(), moment.time());
        put(Self::YEAR, date.year() as u32);
        put(Self::MONTH, date.month());
        put(Self::DAY, date.day());
        put(Self::HOUR, time.hour());
        put(Self::MINUTE, time.minute());
        put(Self::SECOND, time.second());
        // chrono counts a leap second as a second :59 whose fraction runs past one.
        put(Self::MICROS, (time.nanosecond() / 1000).min(999_999));
        shown
    }
}

impl std::fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl FromSql<diesel::sql_types::Timestamp, diesel::sqlite::Sqlite> for Timestamp {
    fn from_sql(mut value: diesel::sqlite::SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        if let Some(moment) = Self::from_stored(value.read_text().as_bytes()) {
            return Ok(moment);
        }
        // Any other layout SQLite holds (a row written by hand, say) takes diesel's own path.
        <NaiveDateTime as FromSql<diesel::sql_types::Timestamp, diesel::sqlite::Sqlite>>::from_sql(
            value,
        )
        .map(Self::from)
    }
}

impl FromSql<diesel::sql_types::Timestamp, diesel::pg::Pg> for Timestamp {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<diesel::sql_types::Timestamp, diesel::pg::Pg>>::from_sql(value)
            .map(Self::from)
    }
}

impl FromSql<diesel::sql_types::Timestamp, MultiBackend> for Timestamp {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, diesel::sql_types::Timestamp>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::prelude::*;

    #[test]
    fn a_timestamp_reads_back_from_sqlite_as_written_and_shows_in_rfc_3339() {
        use diesel::sql_types::{Text, Timestamp as SqlTimestamp};
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        let written = chrono::NaiveDate::from_ymd_opt(2026, 11, 27)
            .unwrap()
            .and_hms_micro_opt(13, 40, 1, 23)
            .unwrap();
        let read = |conn: &mut SqliteConnection, sql: &str| -> Timestamp {
            diesel::select(diesel::dsl::sql::<SqlTimestamp>(sql))
                .get_result(conn)
                .unwrap()
        };
        // What diesel writes, then layouts only its own reader understands.
        let stored: String =
            diesel::select(diesel::dsl::sql::<Text>("").bind::<SqlTimestamp, _>(written))
                .get_result(&mut conn)
                .unwrap();
        assert_eq!(stored, "2026-11-27 13:40:01.000023");
        for sql in [format!("'{stored}'"), "'2026-11-27T13:40:01.000023'".into()] {
            assert_eq!(
                read(&mut conn, &sql).as_str(),
                "2026-11-27T13:40:01.000023Z"
            );
        }
        assert_eq!(
            read(&mut conn, "'2026-11-27 13:40:01'").as_str(),
            "2026-11-27T13:40:01.000000Z"
        );
        assert_eq!(
            serde_json::to_string(&Timestamp::from(written)).unwrap(),
            r#""2026-11-27T13:40:01.000023Z""#
        );
    }

    proptest::proptest! {
        /// The hand-written reader and writer against chrono's, from before year 0 to after
        /// 9999, to the nanosecond.
        #[test]
        fn a_timestamp_shows_as_chrono_writes_it_and_reads_back_as_diesel_stored_it(
            seconds in -70_000_000_000i64..260_000_000_000,
            nanosecond in 0u32..1_000_000_000,
        ) {
            use chrono::Datelike;
            let moment = chrono::DateTime::from_timestamp(seconds, nanosecond).unwrap().naive_utc();
            let shown = Timestamp::from(moment);
            let stored = moment.format("%F %T%.f").to_string();
            let read = Timestamp::from_stored(stored.as_bytes());
            let expected = match moment.year() {
                ..0 => "0000-01-01T00:00:00.000000Z".to_owned(),
                10_000.. => "9999-12-31T23:59:59.999999Z".to_owned(),
                _ => {
                    proptest::prop_assert_eq!(read, Some(shown), "{}", stored);
                    moment.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                }
            };
            proptest::prop_assert_eq!(shown.as_str(), expected.as_str());
            if !(0..=9999).contains(&moment.year()) {
                proptest::prop_assert_eq!(read, None, "{}", stored);
            }
        }
    }

    #[test]
    fn only_the_stored_layout_of_a_real_moment_takes_the_fast_reader() {
        for text in [
            "2026-11-27T13:40:01",
            "2026-11-27 13:40:01.",
            "2026-11-27 13:40:01.1234567890",
            "2026-11-27 13:40:01.12345a",
            "2026-11-27 13:40:01.1234567a9",
            "2026-11-27 13:40:1",
            "2026-13-27 13:40:01",
            "2026-00-27 13:40:01",
            "2026-11-00 13:40:01",
            "2026-11-31 13:40:01",
            "2026-02-29 13:40:01",
            "2100-02-29 13:40:01",
            "2026-11-27 24:00:00",
            "2026-11-27 23:60:00",
            "2026-11-27 23:59:60",
            "2026-11-27 13:40:01Z",
            "2026-1a-27 13:40:01",
            "2026-11-27 13-40-01",
            "",
        ] {
            assert_eq!(Timestamp::from_stored(text.as_bytes()), None, "{text}");
        }
        for (text, shown) in [
            ("2024-02-29 00:00:00", "2024-02-29T00:00:00.000000Z"),
            ("2000-02-29 23:59:59.9", "2000-02-29T23:59:59.900000Z"),
            (
                "2026-12-31 13:40:01.123456789",
                "2026-12-31T13:40:01.123456Z",
            ),
        ] {
            assert_eq!(
                Timestamp::from_stored(text.as_bytes()).unwrap().as_str(),
                shown
            );
        }
    }
}
