//! The user a key belongs to (`GET /users/me`), and its organisation.

use std::fmt;

use inbox_wire::{DecodeError, Str};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

inbox_wire::wire_struct! {
    /// The user an API key belongs to (`GET /users/me`). Partoo documents more fields than
    /// these; they are kept in `extra`. The one the library relies on is `org_id`: the
    /// organisation the key reads, which names a Partoo account in a mirror.
    #[derive(Debug, Clone, PartialEq)]
    pub struct User {
        /// The user's id.
        id: opt Str = "id",
        /// First name.
        first_name: opt Str = "first_name",
        /// Last name.
        last_name: opt Str = "last_name",
        /// Email address.
        email: opt Str = "email",
        /// Role in the organisation (`ORG_ADMIN`, `BUSINESS_MANAGER`, ...), as sent.
        role: opt Str = "role",
        /// The organisation.
        org_id: opt OrgId = "org_id",
        /// Account status, as sent.
        status: opt Str = "status",
    }
}

impl User {
    /// Decodes a `GET /users/me` body.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        inbox_wire::from_slice(bytes)
    }
}

/// An organisation id: Partoo sends an integer; a string is accepted and kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrgId {
    /// An integer id, as Partoo sends it.
    Number(i64),
    /// An id sent as a string.
    Text(String),
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrgId::Number(n) => write!(f, "{n}"),
            OrgId::Text(s) => f.write_str(s),
        }
    }
}

impl Serialize for OrgId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            OrgId::Number(n) => serializer.serialize_i64(*n),
            OrgId::Text(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for OrgId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Id;
        impl Visitor<'_> for Id {
            type Value = OrgId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an organisation id (integer or string)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<OrgId, E> {
                Ok(OrgId::Number(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<OrgId, E> {
                i64::try_from(v)
                    .map(OrgId::Number)
                    .map_err(|_| E::custom("organisation id out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OrgId, E> {
                Ok(OrgId::Text(v.to_owned()))
            }
        }
        deserializer.deserialize_any(Id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_organisation_as_sent_and_keeps_the_rest() {
        let body = br#"{"id": "u1", "org_id": 4242, "role": "ORG_ADMIN", "lang": "fr"}"#;
        let user = User::from_slice(body).unwrap();
        assert_eq!(user.org_id, Some(OrgId::Number(4242)));
        assert_eq!(user.extra["lang"], "fr");
        assert_eq!(
            serde_json::to_value(&user).unwrap(),
            serde_json::from_slice::<serde_json::Value>(body).unwrap()
        );
        let user = User::from_slice(br#"{"org_id": "org-7"}"#).unwrap();
        assert_eq!(user.org_id.map(|o| o.to_string()).as_deref(), Some("org-7"));
        assert!(User::from_slice(br#"{"org_id": [1]}"#).is_err());
    }
}
