//! How a chatbot's widget looks on a customer's website: title, brand colour,
//! greeting and launcher corner. Read by the widget page and the embed script;
//! the colour is checked here so the server and the browser agree on it.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LauncherPosition {
    #[default]
    Right,
    Left,
}

impl LauncherPosition {
    pub fn as_str(self) -> &'static str {
        match self {
            LauncherPosition::Right => "right",
            LauncherPosition::Left => "left",
        }
    }

    pub fn parse(text: &str) -> Option<LauncherPosition> {
        [LauncherPosition::Right, LauncherPosition::Left].into_iter().find(|p| p.as_str() == text)
    }
}

/// `POST /api/v1/widget/config`: what a visitor's widget shows before any conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetLook {
    pub bot_id: String,
    pub title: String,
    pub greeting: String,
    /// `#rrggbb`.
    pub color: String,
    /// Text on the brand colour: black or white, whichever reads better.
    pub color_ink: String,
    pub launcher_position: LauncherPosition,
    /// The chatbot is archived: the widget says the chat is closed and starts nothing.
    #[serde(default)]
    pub closed: bool,
}

/// A brand colour as `#rrggbb` (lower-cased), from `#rgb` or `#rrggbb`.
pub fn parse_color(raw: &str) -> Result<String, AppError> {
    let invalid = || AppError::InvalidInput(format!("{raw:?} is not a colour; use #rrggbb, such as #4338ca"));
    let hex = raw.trim().strip_prefix('#').ok_or_else(invalid)?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    let full = match hex.len() {
        3 => hex.chars().flat_map(|c| [c, c]).collect(),
        6 => hex.to_owned(),
        _ => return Err(invalid()),
    };
    Ok(format!("#{}", full.to_ascii_lowercase()))
}

/// WCAG relative luminance of a `#rrggbb` colour (0 = black, 1 = white).
fn luminance(color: &str) -> Option<f64> {
    let hex = color.strip_prefix('#').filter(|h| h.len() == 6)?;
    let channel = |at: usize| -> Option<f64> {
        let c = f64::from(u8::from_str_radix(hex.get(at..at + 2)?, 16).ok()?) / 255.0;
        Some(if c <= 0.03928 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) })
    };
    Some(0.2126 * channel(0)? + 0.7152 * channel(2)? + 0.0722 * channel(4)?)
}

/// WCAG contrast ratio between two luminances.
fn contrast(a: f64, b: f64) -> f64 {
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

/// The WCAG contrast ratio between a `#rrggbb` brand colour and its ink (4.5 or more
/// reads well at any size); `None` for anything that is not such a colour.
pub fn ink_contrast(color: &str) -> Option<f64> {
    let brand = luminance(color)?;
    let ink = if ink_for(color) == "#ffffff" { 1.0 } else { luminance("#111827")? };
    Some(contrast(brand, ink))
}

/// The text colour for buttons and bubbles in the brand colour: white unless black
/// contrasts better (so a pale brand colour still gets readable text).
pub fn ink_for(color: &str) -> &'static str {
    match luminance(color) {
        Some(l) if contrast(l, 0.0) > contrast(l, 1.0) => "#111827",
        _ => "#ffffff",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_normalised_or_refused() {
        assert_eq!(parse_color("#4338CA").unwrap(), "#4338ca");
        assert_eq!(parse_color(" #fa0 ").unwrap(), "#ffaa00");
        for bad in ["4338ca", "#12345", "#ggg", "red", "", "#4338ca; background: url(x)"] {
            assert!(parse_color(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn brand_text_is_the_more_readable_of_black_and_white() {
        assert_eq!(ink_for("#4338ca"), "#ffffff");
        assert_eq!(ink_for("#000000"), "#ffffff");
        assert_eq!(ink_for("#fde047"), "#111827");
        assert_eq!(ink_for("#ffffff"), "#111827");
    }

    #[test]
    fn the_contrast_shown_is_the_one_the_ink_gets() {
        assert!((ink_contrast("#000000").unwrap() - 21.0).abs() < 1e-9);
        assert!(ink_contrast("#4338ca").unwrap() > 4.5);
        let pale = ink_contrast("#fde047").unwrap();
        assert!(pale > 10.0 && pale < 21.0, "dark ink on yellow: {pale}");
        assert_eq!(ink_contrast("red"), None);
    }

    #[test]
    fn launcher_positions_round_trip() {
        for position in [LauncherPosition::Right, LauncherPosition::Left] {
            assert_eq!(LauncherPosition::parse(position.as_str()), Some(position));
        }
        assert_eq!(LauncherPosition::parse("top"), None);
    }
}
