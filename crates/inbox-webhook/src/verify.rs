//! Signature verification on the raw bytes, before anything is parsed.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::pkcs8::DecodePublicKey;
use ed25519_dalek::{Signature, VerifyingKey};
use hmac::{KeyInit, Mac};
use inbox_http::Secret;
use sha2::{Digest, Sha256};

/// The header that carries Partoo's signature.
pub const PARTOO_SIGNATURE: &str = "x-partoo-signature-v1";
/// The header that carries Bird's signature.
pub const BIRD_SIGNATURE: &str = "messagebird-signature";
/// The header that carries the time Bird signed at.
pub const BIRD_TIMESTAMP: &str = "messagebird-request-timestamp";
/// The header that carries Bird's id of the event (one per event, repeated on a retry).
pub const BIRD_REQUEST_ID: &str = "messagebird-request-id";

/// Why a delivery was refused. Says what was wrong and never echoes a key or a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refused {
    /// A header the provider always sends is missing (or not text).
    #[error("the `{0}` header is missing")]
    MissingHeader(&'static str),
    /// The signature is not base64 of a signature's length.
    #[error("the `{0}` header is not a base64 signature")]
    MalformedSignature(&'static str),
    /// The signature does not match the body under any configured key.
    #[error("the signature does not match the body")]
    BadSignature,
    /// The timestamp is not a Unix time.
    #[error("the `{BIRD_TIMESTAMP}` header is not a Unix time")]
    MalformedTimestamp,
    /// The timestamp is further from now than the tolerance, either way.
    #[error("the timestamp is {skew_secs} s away from now (at most {tolerance_secs} s allowed)")]
    StaleTimestamp {
        /// How far it is from now, in seconds.
        skew_secs: u64,
        /// The tolerance.
        tolerance_secs: u64,
    },
}

/// A key that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct KeyError {
    what: &'static str,
    reason: String,
}

impl KeyError {
    fn new(what: &'static str, reason: impl Into<String>) -> Self {
        Self {
            what,
            reason: reason.into(),
        }
    }
}

/// Verifies Partoo's signatures: Ed25519 over the raw body, base64 in
/// `X-Partoo-Signature-v1`. Production and sandbox sign with different keys; give both (or
/// the old and new one during a rotation) and a signature by either is accepted.
///
/// Partoo's signature covers the body only (no timestamp, no event id): a replay cannot be
/// told from a retry, so what a verified event does must be idempotent.
///
/// ```
/// use inbox_webhook::PartooVerifier;
///
/// let pem = "-----BEGIN PUBLIC KEY-----
/// MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
/// -----END PUBLIC KEY-----";
/// let verifier = PartooVerifier::from_key(pem)?;
/// assert!(verifier.verify(br#"{"type":"message_created"}"#, Some("AAAA")).is_err());
/// # Ok::<(), inbox_webhook::KeyError>(())
/// ```
#[derive(Clone)]
pub struct PartooVerifier {
    keys: Vec<VerifyingKey>,
}

impl fmt::Debug for PartooVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartooVerifier")
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl PartooVerifier {
    /// A verifier of one public key: PEM (`-----BEGIN PUBLIC KEY-----`, as Partoo
    /// publishes it), or base64 of the 32 raw bytes or of the DER document.
    pub fn from_key(text: &str) -> Result<Self, KeyError> {
        Ok(Self {
            keys: vec![parse_public_key(text)?],
        })
    }

    /// Also accepts signatures by this key.
    pub fn with_key(mut self, text: &str) -> Result<Self, KeyError> {
        self.keys.push(parse_public_key(text)?);
        Ok(self)
    }

    /// Checks `signature` (the header's value) over `body`, strictly (no malleable or
    /// small-order signatures).
    pub fn verify(&self, body: &[u8], signature: Option<&str>) -> Result<(), Refused> {
        let text = signature.ok_or(Refused::MissingHeader(PARTOO_SIGNATURE))?;
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| Refused::MalformedSignature(PARTOO_SIGNATURE))?;
        let signature = Signature::from_slice(&bytes)
            .map_err(|_| Refused::MalformedSignature(PARTOO_SIGNATURE))?;
        if self
            .keys
            .iter()
            .any(|key| key.verify_strict(body, &signature).is_ok())
        {
            Ok(())
        } else {
            Err(Refused::BadSignature)
        }
    }
}

fn parse_public_key(text: &str) -> Result<VerifyingKey, KeyError> {
    const WHAT: &str = "Partoo public key";
    let text = text.trim();
    let key = if text.starts_with("-----BEGIN") {
        VerifyingKey::from_public_key_pem(text).map_err(|e| KeyError::new(WHAT, e.to_string()))?
    } else {
        let bytes = STANDARD.decode(text).map_err(|_| {
            KeyError::new(
                WHAT,
                "neither PEM nor base64 (of 32 bytes or a DER document)",
            )
        })?;
        match <[u8; 32]>::try_from(bytes.as_slice()) {
            Ok(raw) => {
                VerifyingKey::from_bytes(&raw).map_err(|e| KeyError::new(WHAT, e.to_string()))?
            }
            Err(_) => VerifyingKey::from_public_key_der(&bytes)
                .map_err(|e| KeyError::new(WHAT, e.to_string()))?,
        }
    };
    if key.is_weak() {
        return Err(KeyError::new(WHAT, "a weak (small-order) key"));
    }
    Ok(key)
}

/// What Bird's headers said, once verified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BirdDelivery {
    /// Bird's id of the event: a retry repeats it.
    pub request_id: String,
    /// When Bird signed it.
    pub signed_at: SystemTime,
}

/// The headers Bird signs with, as received.
#[derive(Debug, Clone, Copy, Default)]
pub struct BirdHeaders<'a> {
    /// `messagebird-signature`.
    pub signature: Option<&'a str>,
    /// `messagebird-request-timestamp`.
    pub timestamp: Option<&'a str>,
    /// `messagebird-request-id`.
    pub request_id: Option<&'a str>,
}

/// Verifies Bird's signatures: base64 HMAC-SHA256, keyed by the subscription's signing key,
/// over `timestamp + "\n" + URL + "\n" + SHA-256(body)` (the digest as 32 raw bytes), where
/// the URL is the public one Bird calls (behind a proxy it differs from the one we listen
/// on). A timestamp more than the tolerance (5 minutes by default) away from now, either
/// way, is refused. The comparison is constant-time.
///
/// ```
/// use inbox_webhook::{BirdHeaders, BirdVerifier};
///
/// let verifier = BirdVerifier::new("signing-key", "https://hooks.example.com/webhooks/bird");
/// let headers = BirdHeaders { signature: Some("AAAA"), timestamp: Some("1700000000"), request_id: Some("e1") };
/// assert!(verifier.verify(b"{}", headers, std::time::SystemTime::now()).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct BirdVerifier {
    key: Secret,
    public_url: String,
    tolerance: Duration,
}

impl BirdVerifier {
    /// A verifier of `signing_key` for deliveries to `public_url`.
    pub fn new(signing_key: impl Into<Secret>, public_url: impl Into<String>) -> Self {
        Self {
            key: signing_key.into(),
            public_url: public_url.into(),
            tolerance: Duration::from_secs(5 * 60),
        }
    }

    /// How far a timestamp may be from now (default 5 minutes).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The public URL signatures are checked against.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Checks a delivery: the signature over `body` first, then the timestamp's distance from
    /// `now`. Seconds and milliseconds are both accepted (the unit is not documented).
    pub fn verify(
        &self,
        body: &[u8],
        headers: BirdHeaders<'_>,
        now: SystemTime,
    ) -> Result<BirdDelivery, Refused> {
        let signature = headers
            .signature
            .ok_or(Refused::MissingHeader(BIRD_SIGNATURE))?;
        let timestamp = headers
            .timestamp
            .ok_or(Refused::MissingHeader(BIRD_TIMESTAMP))?;
        let request_id = headers
            .request_id
            .ok_or(Refused::MissingHeader(BIRD_REQUEST_ID))?;
        let tag = STANDARD
            .decode(signature.trim())
            .map_err(|_| Refused::MalformedSignature(BIRD_SIGNATURE))?;
        if tag.len() != 32 {
            return Err(Refused::MalformedSignature(BIRD_SIGNATURE));
        }
        bird_mac(self.key.expose(), timestamp, &self.public_url, body)
            .verify_slice(&tag)
            .map_err(|_| Refused::BadSignature)?;
        let signed_at = parse_unix(timestamp).ok_or(Refused::MalformedTimestamp)?;
        let skew = match now.duration_since(signed_at) {
            Ok(past) => past,
            Err(future) => future.duration(),
        };
        if skew > self.tolerance {
            return Err(Refused::StaleTimestamp {
                skew_secs: skew.as_secs(),
                tolerance_secs: self.tolerance.as_secs(),
            });
        }
        Ok(BirdDelivery {
            request_id: request_id.to_owned(),
            signed_at,
        })
    }
}

/// A Unix time in seconds, or in milliseconds when it is too large to be seconds (past the
/// year 5138).
fn parse_unix(text: &str) -> Option<SystemTime> {
    let value: u64 = text.trim().parse().ok()?;
    let since = if value >= 100_000_000_000 {
        Duration::from_millis(value)
    } else {
        Duration::from_secs(value)
    };
    UNIX_EPOCH.checked_add(since)
}

/// Signs like Bird does: for tests and the emulator's counterpart checks.
pub fn bird_signature(signing_key: &str, timestamp: &str, public_url: &str, body: &[u8]) -> String {
    STANDARD.encode(
        bird_mac(signing_key, timestamp, public_url, body)
            .finalize()
            .into_bytes(),
    )
}

/// Bird's MAC of a delivery: HMAC-SHA256 keyed by the signing key's bytes over
/// `timestamp + "\n" + URL + "\n"` and the 32 raw bytes of SHA-256(body).
fn bird_mac(
    signing_key: &str,
    timestamp: &str,
    public_url: &str,
    body: &[u8],
) -> hmac::Hmac<Sha256> {
    // HMAC takes a key of any length (a long one is hashed), so `new_from_slice` cannot
    // fail; `Hmac::new` needs a fixed-size key, hence the fallback that is never taken.
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(signing_key.as_bytes())
        .unwrap_or_else(|_| hmac::Hmac::<Sha256>::new(&Default::default()));
    mac.update(timestamp.as_bytes());
    mac.update(b"\n");
    mac.update(public_url.as_bytes());
    mac.update(b"\n");
    mac.update(&Sha256::digest(body));
    mac
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use ed25519_dalek::pkcs8::EncodePublicKey;
    use ed25519_dalek::{Signer, SigningKey};
    use proptest::prelude::*;

    fn signing_key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn pem(key: &SigningKey) -> String {
        key.verifying_key()
            .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .unwrap()
    }

    fn sign(key: &SigningKey, body: &[u8]) -> String {
        STANDARD.encode(key.sign(body).to_bytes())
    }

    const BODY: &[u8] = br#"{"type":"message_created","payload":{"org_id":4242}}"#;

    #[test]
    fn partoo_accepts_its_signature_under_every_key_spelling() {
        let key = signing_key(7);
        let signature = sign(&key, BODY);
        let raw = STANDARD.encode(key.verifying_key().to_bytes());
        let der = STANDARD.encode(key.verifying_key().to_public_key_der().unwrap().as_bytes());
        for spelling in [pem(&key), raw, der] {
            let verifier = PartooVerifier::from_key(&spelling).unwrap();
            assert_eq!(verifier.verify(BODY, Some(&signature)), Ok(()));
        }
    }

    #[test]
    fn partoo_refuses_a_wrong_key_a_flipped_body_or_signature_and_a_missing_header() {
        let key = signing_key(7);
        let verifier = PartooVerifier::from_key(&pem(&key)).unwrap();
        let signature = sign(&key, BODY);
        let other = PartooVerifier::from_key(&pem(&signing_key(8))).unwrap();
        assert_eq!(
            other.verify(BODY, Some(&signature)),
            Err(Refused::BadSignature)
        );
        let mut body = BODY.to_vec();
        body[10] ^= 1;
        assert_eq!(
            verifier.verify(&body, Some(&signature)),
            Err(Refused::BadSignature)
        );
        let mut bytes = STANDARD.decode(&signature).unwrap();
        bytes[3] ^= 0x40;
        assert_eq!(
            verifier.verify(BODY, Some(&STANDARD.encode(&bytes))),
            Err(Refused::BadSignature)
        );
        assert_eq!(
            verifier.verify(BODY, None),
            Err(Refused::MissingHeader(PARTOO_SIGNATURE))
        );
        assert_eq!(
            verifier.verify(BODY, Some("not base64!")),
            Err(Refused::MalformedSignature(PARTOO_SIGNATURE))
        );
        assert_eq!(
            verifier.verify(BODY, Some("AAAA")),
            Err(Refused::MalformedSignature(PARTOO_SIGNATURE))
        );
    }

    #[test]
    fn partoo_accepts_either_of_two_keys() {
        let production = signing_key(1);
        let sandbox = signing_key(2);
        let verifier = PartooVerifier::from_key(&pem(&production))
            .unwrap()
            .with_key(&pem(&sandbox))
            .unwrap();
        assert_eq!(verifier.verify(BODY, Some(&sign(&sandbox, BODY))), Ok(()));
        assert_eq!(
            verifier.verify(BODY, Some(&sign(&production, BODY))),
            Ok(())
        );
    }

    #[test]
    fn a_key_that_is_no_key_is_refused_naming_it() {
        for text in [
            "",
            "hello",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        ] {
            let e = PartooVerifier::from_key(text).unwrap_err();
            assert!(e.to_string().starts_with("Partoo public key: "), "{e}");
        }
        // The identity point: a small-order key any signature could be forged for.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let e = PartooVerifier::from_key(&STANDARD.encode(identity)).unwrap_err();
        assert!(e.to_string().contains("weak"), "{e}");
    }

    const URL: &str = "https://hooks.example.com/webhooks/bird";

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn headers<'a>(signature: &'a str, timestamp: &'a str) -> BirdHeaders<'a> {
        BirdHeaders {
            signature: Some(signature),
            timestamp: Some(timestamp),
            request_id: Some("evt-1"),
        }
    }

    #[test]
    fn bird_accepts_its_signature_within_the_tolerance_in_seconds_or_milliseconds() {
        let verifier = BirdVerifier::new("key", URL);
        let signature = bird_signature("key", "1700000000", URL, BODY);
        let delivery = verifier
            .verify(BODY, headers(&signature, "1700000000"), at(1_700_000_299))
            .unwrap();
        assert_eq!(delivery.request_id, "evt-1");
        assert_eq!(delivery.signed_at, at(1_700_000_000));
        let ms = bird_signature("key", "1700000000000", URL, BODY);
        assert!(
            verifier
                .verify(BODY, headers(&ms, "1700000000000"), at(1_699_999_800))
                .is_ok()
        );
    }

    #[test]
    fn bird_refuses_stale_and_future_timestamps_a_wrong_url_key_or_body_and_missing_headers() {
        let verifier = BirdVerifier::new("key", URL);
        let signature = bird_signature("key", "1700000000", URL, BODY);
        let h = headers(&signature, "1700000000");
        assert!(matches!(
            verifier.verify(BODY, h, at(1_700_000_301)),
            Err(Refused::StaleTimestamp { skew_secs: 301, .. })
        ));
        assert!(matches!(
            verifier.verify(BODY, h, at(1_699_999_000)),
            Err(Refused::StaleTimestamp {
                skew_secs: 1000,
                ..
            })
        ));
        let now = at(1_700_000_000);
        let proxied = BirdVerifier::new("key", "http://127.0.0.1:8080/webhooks/bird");
        assert_eq!(proxied.verify(BODY, h, now), Err(Refused::BadSignature));
        let wrong_key = BirdVerifier::new("other", URL);
        assert_eq!(wrong_key.verify(BODY, h, now), Err(Refused::BadSignature));
        assert_eq!(verifier.verify(b"{} ", h, now), Err(Refused::BadSignature));
        // The timestamp is signed: moving it breaks the signature.
        assert_eq!(
            verifier.verify(BODY, headers(&signature, "1700000001"), now),
            Err(Refused::BadSignature)
        );
        for (name, missing) in [
            (
                BIRD_SIGNATURE,
                BirdHeaders {
                    signature: None,
                    ..h
                },
            ),
            (
                BIRD_TIMESTAMP,
                BirdHeaders {
                    timestamp: None,
                    ..h
                },
            ),
            (
                BIRD_REQUEST_ID,
                BirdHeaders {
                    request_id: None,
                    ..h
                },
            ),
        ] {
            assert_eq!(
                verifier.verify(BODY, missing, now),
                Err(Refused::MissingHeader(name))
            );
        }
        let mut tag = STANDARD.decode(&signature).unwrap();
        tag[0] ^= 1;
        let flipped = STANDARD.encode(&tag);
        assert_eq!(
            verifier.verify(BODY, headers(&flipped, "1700000000"), now),
            Err(Refused::BadSignature)
        );
        let unix = bird_signature("key", "yesterday", URL, BODY);
        assert_eq!(
            verifier.verify(BODY, headers(&unix, "yesterday"), now),
            Err(Refused::MalformedTimestamp)
        );
    }

    #[test]
    fn a_refusal_never_shows_the_key_or_the_signature() {
        let verifier = BirdVerifier::new("very-secret-key", URL);
        let signature = bird_signature("very-secret-key", "1", URL, BODY);
        let e = verifier
            .verify(BODY, headers(&signature, "1"), at(1_700_000_000))
            .unwrap_err();
        let shown = format!("{e} {e:?} {verifier:?}");
        assert!(!shown.contains("very-secret-key"), "{shown}");
        assert!(!shown.contains(&signature), "{shown}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Without the key, no body and no headers are ever accepted.
        #[test]
        fn nothing_random_is_ever_accepted(
            body in proptest::collection::vec(any::<u8>(), 0..256),
            signature in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..80)),
            raw_header in proptest::option::of("[ -~]{0,100}"),
            timestamp in proptest::option::of(1_699_999_800u64..1_700_000_200),
        ) {
            let partoo = PartooVerifier::from_key(&pem(&signing_key(7))).unwrap();
            let bird = BirdVerifier::new("key", URL);
            let encoded = signature.as_ref().map(|s| STANDARD.encode(s));
            for header in [encoded.as_deref(), raw_header.as_deref()] {
                prop_assert!(partoo.verify(&body, header).is_err());
                let ts = timestamp.map(|t| t.to_string());
                let h = BirdHeaders { signature: header, timestamp: ts.as_deref(), request_id: Some("e") };
                prop_assert!(bird.verify(&body, h, at(1_700_000_000)).is_err());
            }
        }
    }
}
