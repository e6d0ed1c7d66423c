//! Visitor tokens: 256 random bits, handed to the widget once, stored only as a
//! SHA-256 hash. A token opens exactly one conversation.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new token, as the widget will send it (64 hex characters).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// The stored form of a token. Tokens are high-entropy, so a fast hash is enough.
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// The token in an `Authorization: Bearer …` header value, if well-formed.
pub fn from_bearer(header: &str) -> Option<&str> {
    let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer "))?.trim();
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())).then_some(token)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_of_hex_and_differ() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(from_bearer(&format!("Bearer {a}")), Some(a.as_str()));
    }

    #[test]
    fn the_stored_hash_is_not_the_token() {
        let token = generate();
        assert_ne!(hash(&token), token);
        assert_eq!(hash(&token), hash(&token));
    }

    #[test]
    fn malformed_bearer_headers_carry_no_token() {
        for header in ["", "Bearer", "Bearer ", "Basic abc", "Bearer xyz", &format!("Bearer {}", "g".repeat(64))] {
            assert_eq!(from_bearer(header), None, "{header:?}");
        }
    }
}
