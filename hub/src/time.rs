//! Timestamps: stored as naive UTC in the database, written as the Hub's date format on the wire.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};

/// Now, truncated to microseconds so that a value survives a round trip through either backend.
pub fn now() -> NaiveDateTime {
    let micros = Utc::now().timestamp_micros();
    DateTime::from_timestamp_micros(micros)
        .expect("the current time is representable")
        .naive_utc()
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`: the stock client rejects `+00:00` offsets.
pub fn wire(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn wire_format_uses_z_and_millis() {
        let t = chrono::DateTime::from_timestamp(1_700_000_000, 123_456_789)
            .unwrap()
            .naive_utc();
        assert_eq!(super::wire(t), "2023-11-14T22:13:20.123Z");
    }
}
