//! Secrets at rest (help-desk credentials, model keys): sealed with
//! XChaCha20-Poly1305 (the `chacha20poly1305` crate) under the server key, bound to
//! the row they belong to, so a sealed value copied into another row does not open.
//!
//! The server key is `BATON_SECRET_KEY` (32 bytes, as 64 hex digits or base64) or,
//! when unset, `secret.key` in the data directory, generated on first start with
//! mode 0600. Rotation: start with the new key in `BATON_SECRET_KEY` and the old one
//! in `BATON_PREVIOUS_SECRET_KEYS`; values sealed under the old key still open, and
//! `reseal` moves them to the new one.
//!
//! A sealed value is `v1.` + base64(key id ‖ nonce ‖ ciphertext): the key id (the
//! first 4 bytes of the key's SHA-256) picks the key without trying each.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use base64::{engine::general_purpose::STANDARD, Engine};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
    XChaCha20Poly1305, XNonce,
};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::{Digest, Sha256};

const PREFIX: &str = "v1.";
const KEY_ID: usize = 4;
const NONCE: usize = 24;
pub const KEY_FILE: &str = "secret.key";

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the secret key must be 32 bytes, written as 64 hex digits or in base64 ({0})")]
    BadKey(&'static str),
    #[error("{path}: {source}")]
    KeyFile { path: PathBuf, source: std::io::Error },
    #[error("a sealed value is damaged or was sealed for another record")]
    Damaged,
    #[error("a sealed value was sealed with a key this server does not have (set BATON_PREVIOUS_SECRET_KEYS)")]
    UnknownKey,
}

struct Key {
    id: [u8; KEY_ID],
    cipher: XChaCha20Poly1305,
}

impl Key {
    fn new(bytes: &SecretBox<[u8; 32]>) -> Key {
        let digest = Sha256::digest(bytes.expose_secret());
        let mut id = [0u8; KEY_ID];
        id.copy_from_slice(&digest[..KEY_ID]);
        Key { id, cipher: XChaCha20Poly1305::new(bytes.expose_secret().into()) }
    }
}

/// Seals and opens secrets. `Debug` shows only the key ids.
pub struct Vault {
    current: Key,
    previous: Vec<Key>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = std::iter::once(&self.current).chain(&self.previous).map(|k| hex(&k.id)).collect();
        f.debug_struct("Vault").field("key_ids", &ids).finish()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A key as written in the environment or the key file.
pub fn parse_key(text: &str) -> Result<SecretBox<[u8; 32]>, VaultError> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| VaultError::BadKey("not hex"))?
    } else {
        STANDARD.decode(text).map_err(|_| VaultError::BadKey("neither hex nor base64"))?
    };
    let key: [u8; 32] = bytes.try_into().map_err(|_| VaultError::BadKey("wrong length"))?;
    Ok(SecretBox::new(Box::new(key)))
}

impl Vault {
    pub fn new(current: &SecretBox<[u8; 32]>, previous: &[SecretBox<[u8; 32]>]) -> Vault {
        Vault { current: Key::new(current), previous: previous.iter().map(Key::new).collect() }
    }

    /// The server's vault: `configured` (BATON_SECRET_KEY) if set, else the key file in
    /// `data_dir`, created on first start.
    pub fn open(
        configured: Option<&SecretString>,
        previous: &[SecretString],
        data_dir: &Path,
    ) -> Result<Vault, VaultError> {
        let current = match configured {
            Some(text) => parse_key(text.expose_secret())?,
            None => key_file(data_dir)?,
        };
        let previous = previous.iter().map(|k| parse_key(k.expose_secret())).collect::<Result<Vec<_>, _>>()?;
        Ok(Vault::new(&current, &previous))
    }

    /// Seals `secret` for the record named by `context` (which must be given again to open it).
    pub fn seal(&self, secret: &str, context: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload { msg: secret.as_bytes(), aad: context.as_bytes() };
        // Encryption with a valid key only fails for messages beyond 256 GiB.
        let sealed = self.current.cipher.encrypt(&nonce, payload).unwrap_or_default();
        let mut out = Vec::with_capacity(KEY_ID + NONCE + sealed.len());
        out.extend_from_slice(&self.current.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    pub fn open_sealed(&self, sealed: &str, context: &str) -> Result<SecretString, VaultError> {
        let bytes = sealed.strip_prefix(PREFIX).and_then(|b| STANDARD.decode(b).ok()).ok_or(VaultError::Damaged)?;
        if bytes.len() < KEY_ID + NONCE + 16 {
            return Err(VaultError::Damaged);
        }
        let (id, rest) = bytes.split_at(KEY_ID);
        let (nonce, ciphertext) = rest.split_at(NONCE);
        let key =
            std::iter::once(&self.current).chain(&self.previous).find(|k| k.id == id).ok_or(VaultError::UnknownKey)?;
        let opened = key
            .cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: context.as_bytes() })
            .map_err(|_| VaultError::Damaged)?;
        String::from_utf8(opened).map(SecretString::from).map_err(|_| VaultError::Damaged)
    }

    /// Whether `sealed` was sealed under an older key (and should be `reseal`ed).
    pub fn is_stale(&self, sealed: &str) -> bool {
        sealed
            .strip_prefix(PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .is_some_and(|bytes| bytes.len() >= KEY_ID && bytes[..KEY_ID] != self.current.id)
    }

    /// `sealed` opened and sealed again under the current key.
    pub fn reseal(&self, sealed: &str, context: &str) -> Result<String, VaultError> {
        let secret = self.open_sealed(sealed, context)?;
        Ok(self.seal(secret.expose_secret(), context))
    }
}

/// The key file in `data_dir`: read it, or create it (mode 0600) on first start.
fn key_file(data_dir: &Path) -> Result<SecretBox<[u8; 32]>, VaultError> {
    let path = data_dir.join(KEY_FILE);
    let failed = |source| VaultError::KeyFile { path: path.clone(), source };
    match std::fs::read_to_string(&path) {
        Ok(text) => return parse_key(&text),
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(failed(err)),
        Err(_) => {}
    }
    std::fs::create_dir_all(data_dir).map_err(failed)?;
    let key = XChaCha20Poly1305::generate_key(&mut OsRng);
    let text = format!("{}\n", STANDARD.encode(key));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(failed)?;
            tracing::info!(path = %path.display(), "generated the secret key: back it up with the database");
            parse_key(&text)
        }
        // Another instance created it first: use theirs.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            parse_key(&std::fs::read_to_string(&path).map_err(failed)?)
        }
        Err(err) => Err(failed(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretBox<[u8; 32]> {
        SecretBox::new(Box::new([byte; 32]))
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_own_record() {
        let vault = Vault::new(&key(1), &[]);
        let sealed = vault.seal("sk-canary-123", "chatbot:a/zendesk");
        assert!(!sealed.contains("canary"));
        assert_eq!(
            vault.open_sealed(&sealed, "chatbot:a/zendesk").map(|s| s.expose_secret().to_owned()).ok(),
            Some("sk-canary-123".to_owned())
        );
        assert!(matches!(vault.open_sealed(&sealed, "chatbot:b/zendesk"), Err(VaultError::Damaged)));
        // The same secret seals differently each time (random nonce).
        assert_ne!(sealed, vault.seal("sk-canary-123", "chatbot:a/zendesk"));
    }

    #[test]
    fn tampering_and_unknown_keys_are_errors_not_panics() {
        let vault = Vault::new(&key(1), &[]);
        let sealed = vault.seal("secret", "ctx");
        let mut bytes = STANDARD.decode(&sealed[3..]).unwrap_or_default();
        if let Some(last) = bytes.last_mut() {
            *last ^= 1;
        }
        let tampered = format!("v1.{}", STANDARD.encode(&bytes));
        assert!(matches!(vault.open_sealed(&tampered, "ctx"), Err(VaultError::Damaged)));
        for junk in ["", "v1.", "v1.!!!", "v2.AAAA", "v1.AAAA"] {
            assert!(vault.open_sealed(junk, "ctx").is_err(), "{junk}");
        }
        let other = Vault::new(&key(2), &[]);
        assert!(matches!(other.open_sealed(&sealed, "ctx"), Err(VaultError::UnknownKey)));
    }

    #[test]
    fn rotation_opens_old_values_and_reseals_them_under_the_new_key() {
        let old = Vault::new(&key(1), &[]);
        let sealed = old.seal("secret", "ctx");
        let rotated = Vault::new(&key(2), &[key(1)]);
        assert!(rotated.is_stale(&sealed));
        let resealed = rotated.reseal(&sealed, "ctx").unwrap_or_default();
        assert!(!rotated.is_stale(&resealed));
        assert!(matches!(old.open_sealed(&resealed, "ctx"), Err(VaultError::UnknownKey)));
        assert_eq!(
            rotated.open_sealed(&resealed, "ctx").map(|s| s.expose_secret().to_owned()).ok(),
            Some("secret".to_owned())
        );
    }

    #[test]
    fn keys_parse_from_hex_or_base64_and_nothing_else() {
        let hex_key = "00".repeat(32);
        assert!(parse_key(&hex_key).is_ok());
        assert!(parse_key(&STANDARD.encode([7u8; 32])).is_ok());
        for bad in ["", "short", &"0".repeat(63), &STANDARD.encode([7u8; 31])] {
            assert!(parse_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_key_file_is_created_once_with_mode_0600_and_reused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let first = key_file(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let second = key_file(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.expose_secret(), second.expose_secret());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE)).map(|m| m.permissions().mode()).unwrap_or(0);
            assert_eq!(mode & 0o777, 0o600);
        }
        let vault = Vault::new(&first, &[]);
        assert!(!format!("{vault:?}").contains(&STANDARD.encode(first.expose_secret())));
    }
}
