//! Card numbers never leave Baton. Before a visitor's text goes to a help desk or
//! to an LLM, every card number in it is replaced with `[card number removed]`; the
//! stored transcript and the Inbox keep what the visitor typed, and the Inbox marks
//! the message.
//!
//! A card number is a run of 13 to 19 digits, written whole or in groups separated
//! by single spaces or dashes, that passes the Luhn check. A longer run (an order
//! number, a card followed by its expiry year) is cut at the last group boundary
//! that makes a card number, and a card may start at any group of a run; a run glued to a letter or digit before it is
//! part of a longer token and is left alone, as are Luhn-invalid look-alikes.

use std::{borrow::Cow, ops::Range};

/// What a card number is replaced with.
pub const CARD_REMOVED: &str = "[card number removed]";

const DIGITS: std::ops::RangeInclusive<usize> = 13..=19;

/// The Luhn checksum of `digits` (each 0–9) is valid.
fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            match i % 2 {
                0 => d,
                _ if d * 2 > 9 => d * 2 - 9,
                _ => d * 2,
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Where the card numbers in `text` are (byte ranges, in order).
pub fn card_numbers(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let glued = at > 0 && bytes[at - 1].is_ascii_alphanumeric();
        if !bytes[at].is_ascii_digit() || glued {
            at += 1;
            continue;
        }
        // The run of digit groups from here, and where each group ends.
        let mut digits: Vec<u8> = Vec::new();
        let mut ends: Vec<(usize, usize)> = Vec::new();
        let mut end = at;
        loop {
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                digits.push(bytes[end] - b'0');
                end += 1;
            }
            ends.push((digits.len(), end));
            let separated = end + 1 < bytes.len() && matches!(bytes[end], b' ' | b'-') && bytes[end + 1].is_ascii_digit();
            if !separated || digits.len() > *DIGITS.end() {
                break;
            }
            end += 1;
        }
        let card = ends.iter().rev().find(|(count, _)| DIGITS.contains(count) && luhn(&digits[..*count]));
        match card {
            Some(&(_, card_end)) => {
                found.push(at..card_end);
                at = card_end;
            }
            // No card from here: the next group may start one.
            None => at = ends.first().map_or(at + 1, |&(_, first_end)| first_end.max(at + 1)),
        }
    }
    found
}

/// Whether `text` holds a card number.
pub fn has_card_number(text: &str) -> bool {
    !card_numbers(text).is_empty()
}

/// `text` with every card number replaced by `CARD_REMOVED`.
pub fn without_card_numbers(text: &str) -> Cow<'_, str> {
    let found = card_numbers(text);
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for range in found {
        out.push_str(&text[from..range.start]);
        out.push_str(CARD_REMOVED);
        from = range.end;
    }
    out.push_str(&text[from..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn card_numbers_in_any_grouping_are_removed() {
        for (typed, sent) in [
            ("my card is 4111111111111111 thanks", "my card is [card number removed] thanks"),
            ("4111 1111 1111 1111", "[card number removed]"),
            ("card: 4111-1111-1111-1111.", "card: [card number removed]."),
            ("amex 3782 822463 10005 exp 12/27", "amex [card number removed] exp 12/27"),
            ("5555 5555 5555 4444 2027", "[card number removed] 2027"),
            ("two: 4012888888881881 and 6011111111111117", "two: [card number removed] and [card number removed]"),
            ("ref 12 4111111111111111", "ref 12 [card number removed]"),
        ] {
            assert_eq!(without_card_numbers(typed), sent, "{typed}");
        }
    }

    #[test]
    fn look_alikes_are_left_alone() {
        for text in [
            "order 4111111111111112",              // Luhn-invalid
            "order number 1234-5678-9012-3456",    // Luhn-invalid
            "ORD4111111111111111",                 // part of a longer token
            "call 0044 20 7946 0958",              // 14 digits, Luhn-invalid
            "tracking 12345678901234567890123",    // a longer run
            "4111 1111 1111",                      // 12 digits
            "it cost 1,500 and 2,300",
            "",
        ] {
            assert_eq!(without_card_numbers(text), text, "{text}");
            assert!(!has_card_number(text), "{text}");
        }
    }

    #[test]
    fn text_without_a_card_is_not_copied() {
        assert!(matches!(without_card_numbers("hello 123"), Cow::Borrowed(_)));
    }

    proptest! {
        #[test]
        fn whatever_the_text_no_card_number_is_left(text in "[0-9 \\-a-z]{0,80}") {
            let sent = without_card_numbers(&text);
            prop_assert!(!has_card_number(&sent.replace(CARD_REMOVED, " ")), "{}", sent);
        }

        #[test]
        fn a_valid_card_anywhere_in_a_sentence_is_removed(
            body in "[0-9]{12,18}",
            before in "[a-z ,.]{0,20}",
            after in "( [a-z ,.]{0,20})?",
        ) {
            let mut digits: Vec<u8> = body.bytes().map(|b| b - b'0').collect();
            // The check digit that makes it Luhn-valid.
            let check = (0..10).find(|d| { digits.push(*d); let ok = luhn(&digits); digits.pop(); ok });
            let card = format!("{body}{}", check.unwrap_or(0));
            let separator = if before.is_empty() { "" } else { " " };
            let text = format!("{before}{separator}{card}{after}");
            prop_assert_eq!(without_card_numbers(&text), format!("{before}{separator}{CARD_REMOVED}{after}"));
        }
    }
}
