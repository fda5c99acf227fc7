//! Sealing short messages (pagination cursors) with XChaCha20-Poly1305: authenticated
//! encryption under a per-database key drawn from the operating system's random number
//! generator. A sealed message reveals nothing of what it holds, and any change to it — a
//! flipped bit, a truncation, bytes spliced in from another message — makes `open` refuse it.
//!
//! Layout: `nonce (24 random bytes) ‖ ciphertext ‖ tag (16 bytes)`.

use std::fmt;

use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

use crate::error::{Error, Result};

/// Bytes of a key.
pub(crate) const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// What sealing adds to a message.
pub(crate) const OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// A sealing key. `Debug` does not show it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct SealKey([u8; KEY_LEN]);

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealKey(..)")
    }
}

fn random_failed(e: impl fmt::Display) -> Error {
    Error::Random {
        detail: e.to_string(),
    }
}

impl SealKey {
    /// A fresh key from the operating system's random number generator.
    pub(crate) fn generate() -> Result<Self> {
        let key = Key::try_generate().map_err(random_failed)?;
        Ok(SealKey(key.into()))
    }

    /// The key stored as `bytes` (`None`: not a key's length).
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Self> {
        <[u8; KEY_LEN]>::try_from(bytes).ok().map(SealKey)
    }

    /// The key's bytes, to store.
    pub(crate) fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&Key::from(self.0))
    }

    /// `message` sealed, bound to `context` (which must be given again to open it).
    pub(crate) fn seal(&self, context: &[u8], message: &[u8]) -> Result<Vec<u8>> {
        let nonce = XNonce::try_generate().map_err(random_failed)?;
        let sealed = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: message,
                    aad: context,
                },
            )
            .map_err(|_| random_failed("the cipher refused a message (too long)"))?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The message `sealed` holds, if it was sealed with this key and `context` and is
    /// unchanged; `None` otherwise.
    pub(crate) fn open(&self, context: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < OVERHEAD {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).ok()?;
        self.cipher()
            .decrypt(
                &nonce,
                Payload {
                    msg: body,
                    aad: context,
                },
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trip_and_every_change_is_refused() {
        let key = SealKey::generate().unwrap();
        let sealed = key.seal(b"ctx", b"secret position").unwrap();
        assert_eq!(sealed.len(), b"secret position".len() + OVERHEAD);
        assert_eq!(key.open(b"ctx", &sealed).unwrap(), b"secret position");
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(key.open(b"other", &sealed), None);
        assert_eq!(SealKey::generate().unwrap().open(b"ctx", &sealed), None);
        for i in 0..sealed.len() {
            for bit in 0..8 {
                let mut bad = sealed.clone();
                bad[i] ^= 1 << bit;
                assert_eq!(key.open(b"ctx", &bad), None, "byte {i} bit {bit}");
            }
        }
        for n in 0..sealed.len() {
            assert_eq!(key.open(b"ctx", &sealed[..n]), None);
        }
        // Two seals of one message differ (random nonces): equal positions do not show.
        assert_ne!(
            key.seal(b"ctx", b"m").unwrap(),
            key.seal(b"ctx", b"m").unwrap()
        );
    }
}
