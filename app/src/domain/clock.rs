//! Wire timestamps (RFC 3339 in UTC, as the server writes them) as milliseconds since
//! the epoch, and the "waiting 4 min" wording of a duration. Plain functions: the
//! same on the server and in the browser, and without a date library in the WASM.

/// Milliseconds since the epoch of `YYYY-MM-DDTHH:MM:SS[.fff…](Z|+00:00)`; `None` for
/// anything else (including other offsets, which Baton never writes).
pub fn epoch_ms(at: &str) -> Option<i64> {
    let (date, time) = at.split_once('T')?;
    let mut date_parts = date.splitn(3, '-');
    let year: i64 = number(date_parts.next()?, 4)?;
    let month: i64 = number(date_parts.next()?, 2)?;
    let day: i64 = number(date_parts.next()?, 2)?;
    let time = time.strip_suffix('Z').or_else(|| time.strip_suffix("+00:00"))?;
    let (clock, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut clock_parts = clock.splitn(3, ':');
    let hour: i64 = number(clock_parts.next()?, 2)?;
    let minute: i64 = number(clock_parts.next()?, 2)?;
    let second: i64 = number(clock_parts.next()?, 2)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let millis = fraction.bytes().chain(std::iter::repeat(b'0')).take(3).fold(0, |n, b| n * 10 + i64::from(b - b'0'));
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis)
}

fn number(text: &str, digits: usize) -> Option<i64> {
    (text.len() == digits && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The day of a wire timestamp in words, "4 Dec 2026" (UTC); empty for anything else.
pub fn day_of(at: &str) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    if epoch_ms(at).is_none() {
        return String::new();
    }
    let mut parts = at.get(..10).unwrap_or_default().splitn(3, '-');
    let (Some(year), Some(month), Some(day)) = (parts.next(), parts.next(), parts.next()) else {
        return String::new();
    };
    let month = month.parse::<usize>().ok().and_then(|m| MONTHS.get(m.wrapping_sub(1)));
    match (month, day.parse::<u32>()) {
        (Some(month), Ok(day)) => format!("{day} {month} {year}"),
        _ => String::new(),
    }
}

/// The day and minute of a wire timestamp, "4 Dec 2026, 10:03 UTC"; empty for
/// anything else. UTC, so the page reads the same rendered on the server and hydrated.
pub fn moment_of(at: &str) -> String {
    let day = day_of(at);
    match at.get(11..16) {
        Some(minute) if !day.is_empty() => format!("{day}, {minute} UTC"),
        _ => String::new(),
    }
}

/// How long since `from_ms`, in the fewest words: "just now", "4 min", "1 h 5 min", "3 d".
pub fn waited(from_ms: i64, now_ms: i64) -> String {
    let minutes = (now_ms - from_ms).max(0) / 60_000;
    match minutes {
        0 => "just now".to_owned(),
        1..=59 => format!("{minutes} min"),
        60..=1439 if minutes % 60 == 0 => format!("{} h", minutes / 60),
        60..=1439 => format!("{} h {} min", minutes / 60, minutes % 60),
        _ => format!("{} d", minutes / 1440),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_read_in_words_and_garbage_reads_as_nothing() {
        assert_eq!(day_of("2026-12-04T10:00:00Z"), "4 Dec 2026");
        assert_eq!(moment_of("2026-12-04T09:05:59.120Z"), "4 Dec 2026, 09:05 UTC");
        assert_eq!(moment_of("2026-12-04"), "");
        assert_eq!(day_of("2027-01-31T23:59:59.123+00:00"), "31 Jan 2027");
        assert_eq!(day_of("2026-13-04T10:00:00Z"), "");
        assert_eq!(day_of("yesterday"), "");
    }

    #[test]
    fn server_timestamps_parse_to_epoch_milliseconds() {
        assert_eq!(epoch_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(epoch_ms("2026-11-24T10:00:00Z"), Some(1_795_514_400_000));
        assert_eq!(epoch_ms("2026-11-24T10:00:00.5Z"), Some(1_795_514_400_500));
        assert_eq!(epoch_ms("2026-11-24T10:00:00.123456789Z"), Some(1_795_514_400_123));
        assert_eq!(epoch_ms("2024-02-29T23:59:59+00:00"), Some(1_709_251_199_000));
    }

    #[test]
    fn a_fraction_orders_correctly_although_the_strings_do_not() {
        let (whole, later) = ("2026-11-24T10:00:00Z", "2026-11-24T10:00:00.5Z");
        assert!(whole > later, "as strings, the later time sorts first");
        assert!(epoch_ms(whole) < epoch_ms(later));
    }

    #[test]
    fn anything_else_is_none_rather_than_a_wrong_time() {
        for bad in [
            "",
            "yesterday",
            "2026-11-24",
            "2026-11-24T10:00:00",
            "2026-13-01T00:00:00Z",
            "2026-11-24T10:00:00+02:00",
            "2026-11-24T1:00:00Z",
            "2026-11-24T10:00:00.x Z",
        ] {
            assert_eq!(epoch_ms(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn waiting_times_read_naturally() {
        let minute = 60_000;
        assert_eq!(waited(0, 30_000), "just now");
        assert_eq!(waited(0, 4 * minute), "4 min");
        assert_eq!(waited(0, 60 * minute), "1 h");
        assert_eq!(waited(0, 65 * minute), "1 h 5 min");
        assert_eq!(waited(0, 3 * 1440 * minute + 5), "3 d");
        assert_eq!(waited(10 * minute, 0), "just now", "a clock behind the server's is not negative");
    }
}
