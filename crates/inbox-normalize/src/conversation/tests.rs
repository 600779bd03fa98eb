//! One test per row of the mapping tables in the module doc; the marker and its key; the
//! origin round trip.

use serde_json::{Value, json};

use super::{Channel, Contact, ConversationOrigin, ConversationStatus, ConversationSummary};
use crate::model::{ConversationId, MessageId, Provider, Str, Timestamp};

/// `base` with `patch`'s keys set over it; `"__absent"` removes a key.
fn patched(mut base: Value, patch: &Value) -> Value {
    for (key, value) in patch.as_object().expect("patch is an object") {
        let object = base.as_object_mut().expect("object");
        match value {
            Value::String(s) if s == "__absent" => object.remove(key),
            _ => object.insert(key.clone(), value.clone()),
        };
    }
    base
}

fn partoo_message(id: i64, date: &str, status: &str) -> Value {
    json!({
        "id": id, "conversation_id": 4217, "date": date, "content_type": "Text",
        "sender_type": "Consumer", "sender_label": "Camille", "status": status,
        "is_deleted": false, "is_automated": false, "content": "Bonjour",
        "user_id": null, "custom_channel": null
    })
}

/// A Partoo conversation: an open WhatsApp one with a last message, `patch` set over it.
fn partoo_json(patch: Value) -> Value {
    let base = json!({
        "id": 4217, "consumer_img": null, "consumer_name": "Camille Martin",
        "consumer_phone_number": "+33612345678",
        "last_message": partoo_message(10001, "2023-01-31 16:22:17.327878+00:00", "Success"),
        "is_read": true, "status": "Open", "created_at": "2023-01-31 16:20:00.000000+00:00",
        "has_one_user_message": true,
        "business": {"id": "b1", "name": "Boulangerie", "city": "Paris", "zipcode": "75011",
                     "country": "FR", "formatted_address": "1 rue X"},
        "messaging_partner": "Whatsapp", "issues": [],
        "first_message_date": "2023-01-31 16:22:17.327878+00:00", "is_expired": false,
        "is_solved": false, "assigned_user_id": null, "custom_channel": null
    });
    patched(base, &patch)
}

fn partoo(patch: Value) -> ConversationSummary {
    let wire: partoo_types::Conversation =
        serde_json::from_value(partoo_json(patch)).expect("a Partoo conversation");
    ConversationSummary::from(wire)
}

fn bird_participant(id: &str, kind: &str, name: &str) -> Value {
    json!({"id": id, "type": kind, "status": "active", "displayName": name, "avatarUrl": ""})
}

fn bird_contact(id: &str, name: &str, address: &str) -> Value {
    let mut p = bird_participant(id, "contact", name);
    p["contact"] = json!({"identifierKey": "emailaddress", "identifierValue": address,
                          "platformAddress": address});
    p
}

/// A Bird conversation: an active email one started by a contact, `patch` set over it.
fn bird_json(patch: Value) -> Value {
    let base = json!({
        "id": "c-1", "name": "Refund", "description": "", "status": "active",
        "visibility": "private", "accessibility": "open", "style": "default",
        "featuredParticipants": [bird_participant("u-1", "user", "Ana Agent"),
                                 bird_contact("p-1", "Jane Roe", "jane@example.com")],
        "initiatingParticipant": bird_contact("p-1", "Jane Roe", "jane@example.com"),
        "activeParticipantCount": 2, "pendingParticipantCount": 0, "channelId": "ch-1",
        "lastMessage": {"id": "m-9", "type": "html", "preview": {"text": "Thanks"},
                        "recipients": null, "status": "delivered",
                        "sender": bird_contact("p-1", "Jane Roe", "jane@example.com"),
                        "createdAt": "2024-11-19T10:00:00.000Z"},
        "createdAt": "2024-11-19T09:30:00.000Z", "updatedAt": "2024-11-19T10:00:01.000Z",
        "platformStyle": "email"
    });
    patched(base, &patch)
}

fn bird(patch: Value) -> ConversationSummary {
    let wire: bird_types::Conversation =
        serde_json::from_value(bird_json(patch)).expect("a Bird conversation");
    ConversationSummary::from(wire)
}

fn at(s: &str) -> Option<Timestamp> {
    Some(Timestamp::parse(s).expect("a timestamp"))
}

fn contact(id: Option<&str>, name: Option<&str>, address: Option<&str>) -> Option<Contact> {
    Some(Contact {
        id: id.map(Str::from),
        name: name.map(Str::from),
        address: address.map(Str::from),
    })
}

macro_rules! rows {
    ($( $name:ident: $make:ident $patch:tt => |$s:ident| $check:expr; )*) => {
        $( #[test] fn $name() { let $s = $make(json!($patch)); $check; } )*
    };
}

rows! {
    // Partoo
    partoo_id: partoo {} => |s| {
        assert_eq!((s.provider, &s.id), (Provider::Partoo, &ConversationId::Partoo(4217)));
    };
    partoo_status_open: partoo {"status": "Open"} =>
        |s| assert_eq!(s.status, Some(ConversationStatus::Open));
    partoo_status_closed: partoo {"status": "Closed"} =>
        |s| assert_eq!(s.status, Some(ConversationStatus::Closed));
    partoo_status_unknown_keeps_the_raw_value: partoo {"status": "Archived"} =>
        |s| assert_eq!(s.status, Some(ConversationStatus::Unknown("Archived".into())));
    partoo_status_absent_is_none: partoo {"status": "__absent"} => |s| assert_eq!(s.status, None);
    partoo_channel_google: partoo {"messaging_partner": "Google"} =>
        |s| assert_eq!(s.channel, Some(Channel::Google));
    partoo_channel_facebook: partoo {"messaging_partner": "Facebook"} =>
        |s| assert_eq!(s.channel, Some(Channel::Facebook));
    partoo_channel_instagram: partoo {"messaging_partner": "Instagram"} =>
        |s| assert_eq!(s.channel, Some(Channel::Instagram));
    partoo_channel_sms: partoo {"messaging_partner": "SMS"} =>
        |s| assert_eq!(s.channel, Some(Channel::Sms));
    partoo_channel_whatsapp: partoo {"messaging_partner": "Whatsapp"} =>
        |s| assert_eq!(s.channel, Some(Channel::Whatsapp));
    partoo_channel_custom: partoo {"messaging_partner": "Custom"} =>
        |s| assert_eq!(s.channel, Some(Channel::Custom));
    partoo_channel_unknown_keeps_the_raw_value: partoo {"messaging_partner": "Telegram"} =>
        |s| assert_eq!(s.channel, Some(Channel::Unknown("Telegram".into())));
    partoo_channel_absent_is_none: partoo {"messaging_partner": "__absent"} =>
        |s| assert_eq!(s.channel, None);
    partoo_has_no_channel_id: partoo {"messaging_partner": "Custom",
                                      "custom_channel": {"external_conversation_id": "crm-1"}} =>
        |s| assert_eq!(s.channel_id, None);
    partoo_contact_is_the_consumer: partoo {} =>
        |s| assert_eq!(s.contact, contact(None, Some("Camille Martin"), Some("+33612345678")));
    partoo_contact_name_only: partoo {"consumer_phone_number": null} =>
        |s| assert_eq!(s.contact, contact(None, Some("Camille Martin"), None));
    partoo_contact_empty_name_is_absent: partoo {"consumer_name": ""} =>
        |s| assert_eq!(s.contact, contact(None, None, Some("+33612345678")));
    partoo_no_consumer_is_no_contact: partoo {"consumer_name": null, "consumer_phone_number": null} =>
        |s| assert_eq!(s.contact, None);
    partoo_created_at: partoo {"created_at": "2023-01-31T18:20:00+02:00"} =>
        |s| assert_eq!(s.created_at, at("2023-01-31T16:20:00Z"));
    partoo_created_at_absent_is_none: partoo {"created_at": "__absent"} =>
        |s| assert_eq!(s.created_at, None);
    partoo_last_message_fields: partoo {} => |s| {
        let a = &s.last_activity;
        assert_eq!(a.message_id, Some(MessageId::Partoo(10001)));
        assert_eq!(a.message_at, at("2023-01-31T16:22:17.327878Z"));
        assert_eq!(a.message_status.as_deref(), Some("Success"));
        assert!(!a.message_deleted);
        assert_eq!(a.raw_digest, None);
    };
    partoo_last_message_deleted: partoo {"last_message": {
        "id": 10002, "conversation_id": 4217, "date": "2023-02-01 08:15:30+00:00",
        "content_type": "Text", "sender_type": "Consumer", "content": "?", "is_deleted": true,
        "sender_label": null, "user_id": null, "custom_channel": null}} => |s| {
        let a = &s.last_activity;
        assert!(a.message_deleted);
        assert_eq!(a.message_status, None, "no status sent, none read");
    };
    partoo_raw_last_message_fields_and_digest: partoo {"last_message": {
        "id": 10003, "date": "2023-02-01 08:15:30+00:00", "status": "Read", "is_deleted": true}} =>
        |s| {
            let a = &s.last_activity;
            assert_eq!(a.message_id, Some(MessageId::Partoo(10003)));
            assert_eq!(a.message_at, at("2023-02-01T08:15:30Z"));
            assert_eq!(a.message_status.as_deref(), Some("Read"));
            assert!(a.message_deleted);
            assert!(a.raw_digest.is_some());
        };
    partoo_raw_last_message_of_another_shape: partoo {"last_message": "<unknown>"} => |s| {
        let a = &s.last_activity;
        assert_eq!((&a.message_id, a.message_at, &a.message_status), (&None, None, &None));
        assert!(a.raw_digest.is_some());
    };
    partoo_no_last_message: partoo {"last_message": null} => |s| {
        let a = &s.last_activity;
        assert_eq!((&a.message_id, a.message_at, a.raw_digest), (&None, None, None));
        assert_eq!(a.key(), "v1;c=Open");
    };
    partoo_conversation_status_as_spelled: partoo {"status": "Closed"} =>
        |s| assert_eq!(s.last_activity.conversation_status.as_deref(), Some("Closed"));
    partoo_has_no_update_time: partoo {} => |s| assert_eq!(s.last_activity.updated_at, None);

    // Bird
    bird_id: bird {} => |s| {
        assert_eq!((s.provider, &s.id), (Provider::Bird, &ConversationId::Bird("c-1".into())));
    };
    bird_status_active_is_open: bird {"status": "active"} =>
        |s| assert_eq!(s.status, Some(ConversationStatus::Open));
    bird_status_closed: bird {"status": "closed"} =>
        |s| assert_eq!(s.status, Some(ConversationStatus::Closed));
    bird_status_unknown_keeps_the_raw_value: bird {"status": "archived"} =>
        |s| assert_eq!(s.status, Some(ConversationStatus::Unknown("archived".into())));
    bird_status_absent_is_none: bird {"status": "__absent"} => |s| assert_eq!(s.status, None);
    bird_platform_style_email: bird {"platformStyle": "email"} =>
        |s| assert_eq!(s.channel, Some(Channel::Email));
    bird_platform_style_unknown_keeps_the_raw_value: bird {"platformStyle": "whatsapp"} =>
        |s| assert_eq!(s.channel, Some(Channel::Unknown("whatsapp".into())));
    bird_platform_style_absent_is_none: bird {"platformStyle": "__absent"} =>
        |s| assert_eq!(s.channel, None);
    bird_channel_id: bird {} => |s| assert_eq!(s.channel_id.as_deref(), Some("ch-1"));
    bird_empty_channel_id_is_absent: bird {"channelId": ""} => |s| assert_eq!(s.channel_id, None);
    bird_contact_is_the_initiating_contact: bird {
        "initiatingParticipant": bird_contact("p-2", "John Doe", "john@example.com")} =>
        |s| assert_eq!(s.contact, contact(Some("p-2"), Some("John Doe"), Some("john@example.com")));
    bird_contact_else_the_first_featured_contact: bird {
        "initiatingParticipant": bird_participant("k-1", "accessKey", "My key")} =>
        |s| assert_eq!(s.contact, contact(Some("p-1"), Some("Jane Roe"), Some("jane@example.com")));
    bird_contact_without_initiating_participant: bird {"initiatingParticipant": "__absent"} =>
        |s| assert_eq!(s.contact, contact(Some("p-1"), Some("Jane Roe"), Some("jane@example.com")));
    bird_no_contact_participant_is_no_contact: bird {
        "initiatingParticipant": bird_participant("u-1", "user", "Ana Agent"),
        "featuredParticipants": [bird_participant("u-1", "user", "Ana Agent")]} =>
        |s| assert_eq!(s.contact, None);
    bird_contact_address_falls_back_to_the_identifier_value: bird {
        "initiatingParticipant": {"id": "p-3", "type": "contact", "displayName": "",
            "contact": {"identifierKey": "phonenumber", "identifierValue": "+31612345678",
                        "platformAddress": ""}}} =>
        |s| assert_eq!(s.contact, contact(Some("p-3"), None, Some("+31612345678")));
    bird_created_at: bird {"createdAt": "2024-11-19T10:30:00+01:00"} =>
        |s| assert_eq!(s.created_at, at("2024-11-19T09:30:00Z"));
    bird_last_message_fields: bird {} => |s| {
        let a = &s.last_activity;
        assert_eq!(a.message_id, Some(MessageId::Bird("m-9".into())));
        assert_eq!(a.message_at, at("2024-11-19T10:00:00Z"));
        assert_eq!(a.message_status.as_deref(), Some("delivered"));
        assert!(!a.message_deleted);
        assert_eq!(a.raw_digest, None);
    };
    bird_last_message_deleted: bird {"lastMessage": {"id": "m-9", "status": "deleted"}} =>
        |s| assert!(s.last_activity.message_deleted);
    bird_last_message_null: bird {"lastMessage": null} => |s| {
        let a = &s.last_activity;
        assert_eq!((&a.message_id, a.message_at, &a.message_status), (&None, None, &None));
    };
    bird_last_message_absent: bird {"lastMessage": "__absent"} =>
        |s| assert_eq!(s.last_activity.message_id, None);
    bird_conversation_status_as_spelled: bird {"status": "closed"} =>
        |s| assert_eq!(s.last_activity.conversation_status.as_deref(), Some("closed"));
    bird_updated_at: bird {} =>
        |s| assert_eq!(s.last_activity.updated_at, at("2024-11-19T10:00:01Z"));
}

#[test]
fn a_conversation_missing_every_field_but_its_id_maps_to_nones() {
    let p = ConversationSummary::from(
        serde_json::from_str::<partoo_types::Conversation>(r#"{"id": 1}"#).unwrap(),
    );
    let b = ConversationSummary::from(
        serde_json::from_str::<bird_types::Conversation>(r#"{"id": "c"}"#).unwrap(),
    );
    for s in [&p, &b] {
        assert_eq!(
            (&s.status, &s.channel, &s.channel_id),
            (&None, &None, &None)
        );
        assert_eq!((&s.contact, s.created_at), (&None, None));
        assert_eq!(s.last_activity.key(), "v1");
    }
    assert_eq!(
        serde_json::to_value(&b).unwrap(),
        json!({"provider": "bird", "id": "c", "last_activity": {"key": "v1",
               "message_deleted": false}, "origin": {"id": "c"}})
    );
}

// The marker.

#[test]
fn the_same_listing_gives_equal_markers_and_keys() {
    for (a, b) in [
        (partoo(json!({})), partoo(json!({}))),
        (bird(json!({})), bird(json!({}))),
    ] {
        assert_eq!(a.last_activity, b.last_activity);
        assert_eq!(a.last_activity.key(), b.last_activity.key());
    }
    // Other spellings of the same instants are the same marker.
    let respelled = partoo(json!({"last_message":
        partoo_message(10001, "2023-01-31T17:22:17.327878+01:00", "Success")}));
    assert_eq!(respelled.last_activity, partoo(json!({})).last_activity);
    let respelled = bird(json!({"updatedAt": "2024-11-19T10:00:01Z"}));
    assert_eq!(respelled.last_activity, bird(json!({})).last_activity);
    // Fields outside the marker do not change it.
    let read = partoo(json!({"is_read": false, "consumer_name": "Camille"}));
    assert_eq!(read.last_activity, partoo(json!({})).last_activity);
}

#[test]
fn a_change_the_listing_shows_changes_the_marker() {
    let date = "2023-01-31 16:22:17.327878+00:00";
    let base = partoo(json!({}));
    let mut deleted = partoo_message(10001, date, "Success");
    deleted["is_deleted"] = json!(true);
    for (what, changed) in [
        (
            "a new last message",
            partoo(json!({"last_message": partoo_message(10002, date, "Success")})),
        ),
        (
            "a new date",
            partoo(json!({"last_message":
            partoo_message(10001, "2023-01-31 16:22:18+00:00", "Success")})),
        ),
        (
            "a message status change",
            partoo(json!({"last_message": partoo_message(10001, date, "Failed")})),
        ),
        ("a deletion", partoo(json!({"last_message": deleted}))),
        (
            "a conversation status change",
            partoo(json!({"status": "Closed"})),
        ),
        (
            "no last message any more",
            partoo(json!({"last_message": null})),
        ),
    ] {
        assert_ne!(changed.last_activity, base.last_activity, "partoo: {what}");
        assert_ne!(
            changed.last_activity.key(),
            base.last_activity.key(),
            "partoo: {what}"
        );
    }

    let base = bird(json!({}));
    let last = bird_json(json!({}))["lastMessage"].clone();
    for (what, changed) in [
        (
            "a new last message",
            bird(json!({"lastMessage": patched(last.clone(), &json!({"id": "m-10"}))})),
        ),
        (
            "a new time",
            bird(json!({"lastMessage":
            patched(last.clone(), &json!({"createdAt": "2024-11-19T10:00:00.001Z"}))})),
        ),
        (
            "a message status change (folded in the unified model)",
            bird(json!({"lastMessage":
            patched(last.clone(), &json!({"status": "sent"}))})),
        ),
        (
            "a newer updatedAt",
            bird(json!({"updatedAt": "2024-11-19T10:05:00.000Z"})),
        ),
        (
            "a conversation status change",
            bird(json!({"status": "closed"})),
        ),
    ] {
        assert_ne!(changed.last_activity, base.last_activity, "bird: {what}");
        assert_ne!(
            changed.last_activity.key(),
            base.last_activity.key(),
            "bird: {what}"
        );
    }
}

#[test]
fn a_raw_last_message_changes_the_marker_when_it_changes() {
    let a = partoo(json!({"last_message": {"id": "x-1", "content": "hi"}}));
    let same = partoo(json!({"last_message": {"content": "hi", "id": "x-1"}}));
    let b = partoo(json!({"last_message": {"id": "x-2", "content": "hi"}}));
    assert_eq!(
        a.last_activity, same.last_activity,
        "key order does not matter"
    );
    assert_ne!(a.last_activity, b.last_activity);
    assert_ne!(a.last_activity.key(), b.last_activity.key());
}

#[test]
fn the_key_format_is_pinned() {
    assert_eq!(
        partoo(json!({})).last_activity.key(),
        "v1;m=10001;t=1675182137327878000;s=Success;c=Open"
    );
    let mut deleted = partoo_message(10001, "2023-01-31 16:22:17+00:00", "Sending");
    deleted["is_deleted"] = json!(true);
    assert_eq!(
        partoo(json!({"last_message": deleted, "status": "Closed"}))
            .last_activity
            .key(),
        "v1;m=10001;t=1675182137000000000;s=Sending;d;c=Closed"
    );
    assert_eq!(
        bird(json!({})).last_activity.key(),
        "v1;m=m-9;t=1732010400000000000;s=delivered;c=active;u=1732010401000000000"
    );
    let raw = partoo(json!({"last_message": "<unknown>", "status": "__absent"}));
    let key = raw.last_activity.key();
    assert_eq!(
        key, "v1;r=04e3565cf8296975",
        "the digest of a raw value is stable"
    );
}

#[test]
fn no_value_can_forge_a_separator_in_the_key() {
    let a = bird(
        json!({"lastMessage": {"status": "x;c=active"}, "status": "__absent",
                        "updatedAt": "__absent"}),
    );
    let b = bird(json!({"lastMessage": {"status": "x"}, "status": "active",
                        "updatedAt": "__absent"}));
    assert_ne!(a.last_activity, b.last_activity);
    assert_ne!(a.last_activity.key(), b.last_activity.key());
    assert_eq!(a.last_activity.key(), "v1;s=x%3Bc%3Dactive");
    let unicode = bird(json!({"lastMessage": {"id": "é m"}}));
    assert!(unicode.last_activity.key().starts_with("v1;m=%C3%A9%20m;"));
}

#[test]
fn equal_keys_if_and_only_if_equal_markers() {
    let date = "2023-01-31 16:22:17.327878+00:00";
    let summaries = [
        partoo(json!({})),
        partoo(
            json!({"last_message": partoo_message(10001, "2023-01-31T16:22:17.327878Z", "Success")}),
        ),
        partoo(json!({"last_message": partoo_message(10002, date, "Success")})),
        partoo(json!({"last_message": null})),
        partoo(json!({"last_message": "<unknown>"})),
        partoo(json!({"status": "Closed"})),
        bird(json!({})),
        bird(json!({"lastMessage": null})),
        bird(json!({"updatedAt": "2024-11-19T11:00:01+01:00"})),
        bird(
            json!({"lastMessage": {"id": "10001"}, "status": "__absent", "updatedAt": "__absent"}),
        ),
    ];
    for a in &summaries {
        for b in &summaries {
            assert_eq!(
                a.last_activity == b.last_activity,
                a.last_activity.key() == b.last_activity.key(),
                "{:?} / {:?}",
                a.last_activity,
                b.last_activity
            );
        }
    }
}

// JSON and origin.

#[test]
fn unknown_values_serialize_with_their_raw_value_beside() {
    let s = partoo(json!({"status": "Archived", "messaging_partner": "Telegram"}));
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(
        (&json["status"], &json["status_raw"]),
        (&json!("unknown"), &json!("Archived"))
    );
    assert_eq!(
        (&json["channel"], &json["channel_raw"]),
        (&json!("unknown"), &json!("Telegram"))
    );
    let json = serde_json::to_value(partoo(json!({}))).unwrap();
    assert_eq!(
        (&json["status"], &json["channel"]),
        (&json!("open"), &json!("whatsapp"))
    );
    assert!(json.get("status_raw").is_none() && json.get("channel_raw").is_none());
}

#[test]
fn the_json_shape() {
    let json = serde_json::to_value(bird(json!({}))).unwrap();
    assert_eq!(json["id"], "c-1");
    assert_eq!(json["channel"], "email");
    assert_eq!(json["channel_id"], "ch-1");
    assert_eq!(
        json["contact"],
        json!({"id": "p-1", "name": "Jane Roe", "address": "jane@example.com"})
    );
    assert_eq!(json["created_at"], "2024-11-19T09:30:00Z");
    assert_eq!(
        json["last_activity"],
        json!({
            "key": "v1;m=m-9;t=1732010400000000000;s=delivered;c=active;u=1732010401000000000",
            "message_id": "m-9", "message_at": "2024-11-19T10:00:00Z",
            "message_status": "delivered", "message_deleted": false,
            "conversation_status": "active", "updated_at": "2024-11-19T10:00:01Z"
        })
    );
    let json = serde_json::to_value(partoo(json!({"last_message": "<unknown>"}))).unwrap();
    assert_eq!(json["id"], "4217");
    assert_eq!(json["last_activity"]["raw_digest"], "04e3565cf8296975");
}

#[test]
fn the_origin_encodes_back_to_the_input() {
    for input in [
        partoo_json(json!({})),
        partoo_json(json!({"last_message": {"id": "odd"}, "tags": ["vip"]})),
    ] {
        let wire: partoo_types::Conversation = serde_json::from_value(input.clone()).unwrap();
        let summary = ConversationSummary::from(wire);
        assert!(matches!(summary.origin, ConversationOrigin::Partoo(_)));
        assert_eq!(serde_json::to_value(&summary.origin).unwrap(), input);
        assert_eq!(serde_json::to_value(&summary).unwrap()["origin"], input);
    }
    for input in [
        bird_json(json!({})),
        bird_json(json!({"lastMessage": null, "attributes": null, "unread": 3})),
    ] {
        let wire: bird_types::Conversation = serde_json::from_value(input.clone()).unwrap();
        let summary = ConversationSummary::from(wire);
        assert!(matches!(summary.origin, ConversationOrigin::Bird(_)));
        assert_eq!(serde_json::to_value(&summary.origin).unwrap(), input);
        assert_eq!(serde_json::to_value(&summary).unwrap()["origin"], input);
    }
}
