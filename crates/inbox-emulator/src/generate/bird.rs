//! Synthetic Bird conversations and messages, written through borrowed serde structs in
//! the field order of Bird's examples (a body's `type` before its content).

use serde::Serialize;
use serde_json::value::RawValue;

use super::{
    Lifecycle, SALT_CONTENT, SALT_ID, SALT_KIND, SALT_SENDER, Timing, first_name, raw,
    showcase_slot, uuid,
};
use crate::rng::{Rng, hash};
use crate::time::bird_date;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BKind {
    Text,
    TextActions,
    Html,
    Image,
    File,
    Gif,
    Location,
    Carousel,
    List,
    Section,
    Authentication,
    Action,
    Template,
}

const BIRD_SHOWCASE: [BKind; 12] = [
    BKind::TextActions,
    BKind::Html,
    BKind::Image,
    BKind::File,
    BKind::Gif,
    BKind::Location,
    BKind::Carousel,
    BKind::List,
    BKind::Section,
    BKind::Authentication,
    BKind::Action,
    BKind::Template,
];

const BIRD_KINDS: [(BKind, u32); 13] = [
    (BKind::Text, 58),
    (BKind::TextActions, 5),
    (BKind::Html, 4),
    (BKind::Image, 9),
    (BKind::File, 4),
    (BKind::Gif, 2),
    (BKind::Location, 2),
    (BKind::Carousel, 2),
    (BKind::List, 2),
    (BKind::Section, 1),
    (BKind::Authentication, 1),
    (BKind::Action, 1),
    (BKind::Template, 5),
];

/// A workspace participant: id, display name, type, avatar.
struct Member {
    id: &'static str,
    name: &'static str,
    kind: &'static str,
    avatar: &'static str,
}

const ANA: usize = 0;
const DAAN: usize = 1;
const SUPPORT: usize = 2;
const SOFIA: usize = 3;
const HELPDESK_BOT: usize = 4;
const ORDER_FLOW: usize = 5;
const ACCESS_KEY: usize = 6;
const WHATSAPP_CHANNEL: usize = 7;
const CONNECTOR: usize = 8;
const COLLABORATION: usize = 9;

const MEMBERS: [Member; 10] = [
    Member {
        id: "7e1d0101-2f4b-4c8e-9a61-3b5c00000101",
        name: "Ana Agent",
        kind: "user",
        avatar: "",
    },
    Member {
        id: "7e1d0109-2f4b-4c8e-9a61-3b5c00000109",
        name: "Daan de Vries",
        kind: "user",
        avatar: "https://media.example.com/avatars/daan.png",
    },
    Member {
        id: "7e1d0105-2f4b-4c8e-9a61-3b5c00000105",
        name: "Support agent",
        kind: "agent",
        avatar: "",
    },
    Member {
        id: "7e1d010a-2f4b-4c8e-9a61-3b5c0000010a",
        name: "Sofia Rossi",
        kind: "agent",
        avatar: "https://media.example.com/avatars/sofia.png",
    },
    Member {
        id: "7e1d0103-2f4b-4c8e-9a61-3b5c00000103",
        name: "Helpdesk bot",
        kind: "bot",
        avatar: "",
    },
    Member {
        id: "7e1d0102-2f4b-4c8e-9a61-3b5c00000102",
        name: "Order confirmation flow",
        kind: "flow",
        avatar: "",
    },
    Member {
        id: "7e1d0104-2f4b-4c8e-9a61-3b5c00000104",
        name: "My first key",
        kind: "accessKey",
        avatar: "",
    },
    Member {
        id: "7e1d0106-2f4b-4c8e-9a61-3b5c00000106",
        name: "WhatsApp",
        kind: "channel",
        avatar: "",
    },
    Member {
        id: "7e1d0107-2f4b-4c8e-9a61-3b5c00000107",
        name: "Shop connector",
        kind: "connector",
        avatar: "",
    },
    Member {
        id: "7e1d0108-2f4b-4c8e-9a61-3b5c00000108",
        name: "Assign to billing",
        kind: "collaborationAutomation",
        avatar: "",
    },
];

/// Contacts: name, phone number, email address.
const CONTACTS: [(&str, &str, &str); 16] = [
    ("John Doe", "+31612345678", "john.doe@example.com"),
    ("Jane Roe", "+31623456789", "jane.roe@example.com"),
    ("Sanne Jansen", "+31634567890", "sanne.jansen@example.nl"),
    ("Pieter Bakker", "+31645678901", "p.bakker@example.nl"),
    (
        "Fatima El Amrani",
        "+31656789012",
        "fatima.elamrani@example.com",
    ),
    (
        "Lukas Schmidt",
        "+4915112345678",
        "lukas.schmidt@example.de",
    ),
    ("Émilie Dubois", "+33612345678", "emilie.dubois@example.fr"),
    ("Mehmet Yılmaz", "+31667890123", "mehmet.yilmaz@example.com"),
    (
        "Olivia Smith",
        "+447700900123",
        "olivia.smith@example.co.uk",
    ),
    ("Wei Zhang", "+31678901234", "wei.zhang@example.com"),
    ("Anna Kowalska", "+48601234567", "anna.kowalska@example.pl"),
    ("Noah de Jong", "+31689012345", "noah.dejong@example.nl"),
    (
        "Chiara Bianchi",
        "+393331234567",
        "chiara.bianchi@example.it",
    ),
    ("Søren Nielsen", "+4520123456", "soren.nielsen@example.dk"),
    ("Maria García", "+34612345678", "maria.garcia@example.es"),
    ("Kofi Mensah", "+31690123456", "kofi.mensah@example.com"),
];

const CHANNELS: [&str; 3] = [
    "7b0eb8a0-606b-59f1-bd90-43cacb048146",
    "3c5f1d2e-8a9b-5c4d-9e0f-1a2b3c4d5e6f",
    "9d8c7b6a-5f4e-5d3c-8b2a-1f0e9d8c7b6a",
];

const SUBJECTS: &[&str] = &[
    "Order {n}",
    "Re: About your refund",
    "Delivery question",
    "Appointment next week",
    "Support request",
    "Return of order {n}",
    "Invoice {n}",
    "Question about opening hours",
];

const CONTACT_TEXTS: &[&str] = &[
    "Hi, where is my order?",
    "Hello! Is the red coat still available in size M?",
    "Thanks a lot 🙏",
    "Can I change the delivery address?",
    "Ok great",
    "The tracking link says delivered but I have nothing 😕",
    "Goedemorgen, kan ik mijn bestelling nog wijzigen?",
    "Do you ship to Belgium?",
    "Yes",
    "No, thank you",
    "I'd like to return the shoes, they are too small.",
    "Hey, listen!",
    "Perfect, see you tomorrow at 10:00",
    "Is it possible to pay with iDEAL?",
    "Hallo, hoe lang duurt de levering naar Utrecht?",
    "Hi,\nI ordered two items but only one arrived.\nOrder number is in the subject.\nRegards",
    "👍",
    "Can you call me back? My number is on the order.",
];

const AGENT_TEXTS: &[&str] = &[
    "Hi {name}, thanks for reaching out! Let me check that for you.",
    "Your order #{n} is confirmed.",
    "We are preparing your order.",
    "Here is your tracking link: https://track.example.com/{n}",
    "Can I help with anything else?",
    "Sure, I've updated the delivery address.",
    "Sorry for the delay! The parcel left our warehouse this morning.",
    "Yes, we ship to Belgium within 2-3 working days.",
    "I've started the return. You'll get a label by email.",
    "Goedemorgen! Ja, dat kan nog tot 14:00.",
    "Assigned to the billing team.",
];

const BOT_TEXTS: &[&str] = &[
    "Thanks for your message! An agent will reply within the hour.",
    "Reminder: your appointment is tomorrow.",
    "Your invoice is ready.",
    "We are closed right now. Opening hours: Mon-Sat 9:00-18:00.",
];

const FAILURE_REASONS: &[&str] = &[
    "The recipient's number is not on WhatsApp",
    "Message undeliverable",
    "Recipient blocked the sender",
    "Outside of the 24 hour customer service window",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Participant {
    Contact,
    Member(usize),
}

/// One synthetic Bird conversation.
#[derive(Debug, Clone)]
pub(crate) struct BirdConv {
    seed: u64,
    /// The conversation id (a UUID).
    pub(crate) id: String,
    /// How many messages it has.
    pub(crate) len: usize,
    timing: Timing,
    contact: usize,
    contact_id: String,
    channel: usize,
    showcase: bool,
    name: String,
    order: u64,
    agent: usize,
    closed: bool,
    public: bool,
    attributes: bool,
}

impl BirdConv {
    /// Conversation `index` of a dataset seeded `seed`, with `len` messages. A showcase
    /// conversation holds every content kind when it has room for them.
    pub(crate) fn new(seed: u64, index: usize, len: usize, showcase: bool) -> Self {
        let conv_seed = hash(&[seed, 0x4249_5244, index as u64]);
        let mut rng = Rng::new(conv_seed);
        let id = uuid(rng.next_u64(), rng.next_u64());
        let contact_id = uuid(rng.next_u64(), rng.next_u64());
        let timing = Timing::new(&mut rng, conv_seed);
        let order = rng.range(1000, 9999);
        let name = rng.pick(SUBJECTS).replace("{n}", &order.to_string());
        BirdConv {
            seed: conv_seed,
            id,
            len,
            timing,
            contact: rng.index(CONTACTS.len()),
            contact_id,
            channel: rng.index(CHANNELS.len()),
            showcase,
            name,
            order,
            agent: *rng.pick(&[ANA, DAAN, SUPPORT, SOFIA]),
            closed: rng.chance(0.2),
            public: rng.chance(0.3),
            attributes: rng.chance(0.4),
        }
    }

    /// Microseconds since the epoch of message `i`, whole milliseconds (what Bird's
    /// timestamps show, so that `dateFrom` compares with what clients see).
    pub(crate) fn time(&self, i: usize) -> i64 {
        self.timing.at(i).div_euclid(1000) * 1000
    }

    fn kind(&self, i: usize) -> BKind {
        if self.showcase
            && let Some(kind) = showcase_slot(&BIRD_SHOWCASE, self.len, i)
        {
            return kind;
        }
        if i == 0 {
            return BKind::Text;
        }
        Rng::of(&[self.seed, SALT_KIND, i as u64]).weighted(&BIRD_KINDS)
    }

    fn sender(&self, i: usize, kind: BKind) -> Participant {
        let mut rng = Rng::of(&[self.seed, SALT_SENDER, i as u64]);
        if i == 0 {
            return Participant::Contact;
        }
        let member = match kind {
            BKind::Text => {
                return match rng.below(100) {
                    0..=51 => Participant::Contact,
                    52..=81 => Participant::Member(self.agent),
                    82..=89 => Participant::Member(HELPDESK_BOT),
                    90..=93 => Participant::Member(ORDER_FLOW),
                    94..=96 => Participant::Member(ACCESS_KEY),
                    97 => Participant::Member(WHATSAPP_CHANNEL),
                    98 => Participant::Member(CONNECTOR),
                    _ => Participant::Member(COLLABORATION),
                };
            }
            BKind::Html | BKind::Image | BKind::File | BKind::Gif | BKind::Location => {
                let contact_share = if kind == BKind::Html { 0.5 } else { 0.7 };
                if rng.chance(contact_share) {
                    return Participant::Contact;
                }
                self.agent
            }
            BKind::TextActions | BKind::Carousel | BKind::List | BKind::Section => {
                *rng.pick(&[HELPDESK_BOT, ORDER_FLOW])
            }
            BKind::Authentication => ACCESS_KEY,
            BKind::Template => *rng.pick(&[ACCESS_KEY, ORDER_FLOW]),
            BKind::Action => self.agent,
        };
        Participant::Member(member)
    }

    fn message_id(&self, i: usize) -> String {
        uuid(
            hash(&[self.seed, SALT_ID, i as u64]),
            hash(&[self.seed, SALT_ID, i as u64, 1]),
        )
    }

    fn participant(&self, who: Participant) -> ParticipantRef<'_> {
        match who {
            Participant::Contact => {
                let (name, phone, _) = CONTACTS[self.contact % CONTACTS.len()];
                ParticipantRef {
                    avatar_url: "",
                    contact: Some(ContactRef {
                        identifier_key: "phonenumber",
                        identifier_value: phone,
                        platform_address: phone,
                    }),
                    display_name: name,
                    id: &self.contact_id,
                    status: "active",
                    kind: "contact",
                }
            }
            Participant::Member(m) => {
                let member = &MEMBERS[m % MEMBERS.len()];
                ParticipantRef {
                    avatar_url: member.avatar,
                    contact: None,
                    display_name: member.name,
                    id: member.id,
                    status: "active",
                    kind: member.kind,
                }
            }
        }
    }

    /// Message `i` as JSON, as the seed drew it and then changed by `lifecycle`, with what
    /// the conversations listing shows of it.
    pub(crate) fn message(&self, i: usize, lifecycle: &Lifecycle) -> (Box<RawValue>, BirdSummary) {
        self.draw(i, lifecycle, |message, summary| (raw(message), summary()))
    }

    /// Message `i` as JSON, as the seed drew it and then changed by `lifecycle`.
    pub(crate) fn message_json(&self, i: usize, lifecycle: &Lifecycle) -> Box<RawValue> {
        self.draw(i, lifecycle, |message, _| raw(message))
    }

    /// What the conversations listing shows of message `i` (its status among it).
    pub(crate) fn summary(&self, i: usize, lifecycle: &Lifecycle) -> BirdSummary {
        self.draw(i, lifecycle, |_, summary| summary())
    }

    /// Draws message `i` and hands it to `f`, with what makes its summary (only made when
    /// asked: serving base messages needs none). The draws happen in one fixed order
    /// whatever the lifecycle says, so a changed message differs only in what was changed.
    fn draw<T>(
        &self,
        i: usize,
        lifecycle: &Lifecycle,
        f: impl FnOnce(&Message<'_>, &dyn Fn() -> BirdSummary) -> T,
    ) -> T {
        let kind = self.kind(i);
        let sender = self.sender(i, kind);
        let mut rng = Rng::of(&[self.seed, SALT_CONTENT, i as u64]);
        let created = lifecycle.created.unwrap_or_else(|| self.time(i));
        let (contact_name, phone, contact_email) = CONTACTS[self.contact % CONTACTS.len()];
        let inbound = sender == Participant::Contact;
        let drawn_status = if inbound {
            "delivered"
        } else {
            rng.weighted(&[
                ("delivered", 72),
                ("sent", 12),
                ("accepted", 5),
                ("processing", 2),
                ("sending_failed", 3),
                ("delivery_failed", 4),
                ("deleted", 2),
            ])
        };
        let drawn = self.draw_body(kind, sender, &mut rng);
        let body = drawn.body(contact_email);
        let mut updated = created;
        let mut interactions = None;
        let (read_id, read_at, reaction_id, reaction_at);
        if !inbound && drawn_status == "delivered" && rng.chance(0.35) {
            let mut at = created + rng.range(5, 600) as i64 * 1_000_000;
            let read = hash(&[self.seed, SALT_ID, i as u64, 2]);
            read_id = uuid(read, read.rotate_left(17));
            read_at = bird_date(at);
            let mut list = vec![Interaction {
                created_at: &read_at,
                id: &read_id,
                metadata: None,
                kind: "read",
            }];
            if rng.chance(0.3) {
                at += rng.range(1, 300) as i64 * 1_000_000;
                let h = hash(&[self.seed, SALT_ID, i as u64, 3]);
                reaction_id = uuid(h, h.rotate_left(17));
                reaction_at = bird_date(at);
                list.push(Interaction {
                    created_at: &reaction_at,
                    id: &reaction_id,
                    metadata: Some(InteractionMetadata {
                        reaction: Reaction {
                            action: "react",
                            emoji: rng.pick_str(&["👍", "❤️", "😂", "🙏"]),
                        },
                    }),
                    kind: "reaction",
                });
            }
            interactions = Some(list);
            updated = at;
        }
        let reason = matches!(drawn_status, "sending_failed" | "delivery_failed")
            .then(|| rng.pick_str(FAILURE_REASONS));
        let order = self.order.to_string();
        let (project_id, version);
        let template = if kind == BKind::Template {
            let project = hash(&[self.seed, 0x7072_6f6a]);
            let v = hash(&[self.seed, 0x7665_7273]);
            project_id = uuid(project, project.rotate_left(9));
            version = uuid(v, v.rotate_left(9));
            let locale = rng.pick_str(&["en", "en-US", "nl-NL"]);
            let cents = rng.range(500, 25_000);
            // Whole amounts print as integers, as a JavaScript server writes them.
            let total = if cents.is_multiple_of(100) {
                ParameterValue::Whole(cents / 100)
            } else {
                ParameterValue::Number(cents as f64 / 100.0)
            };
            Some(Template {
                locale,
                name: "order_update",
                parameters: [
                    TemplateParameter {
                        key: "firstName",
                        kind: "string",
                        value: ParameterValue::Text(first_name(contact_name)),
                    },
                    TemplateParameter {
                        key: "orderId",
                        kind: "string",
                        value: ParameterValue::Text(&order),
                    },
                    TemplateParameter {
                        key: "orderTotal",
                        kind: "number",
                        value: total,
                    },
                ],
                project_id: &project_id,
                version: &version,
            })
        } else {
            None
        };
        if updated == created && !inbound {
            updated = created + rng.range(1, 20) as i64 * 1_000_000;
        }
        let updated = lifecycle.updated.unwrap_or(updated);
        let status = lifecycle.status.unwrap_or(drawn_status);
        let id = self.message_id(i);
        let created_at = bird_date(created);
        let updated_at = bird_date(updated);
        let message = Message {
            body,
            conversation_id: &self.id,
            created_at: &created_at,
            draft: false,
            id: &id,
            interactions,
            reason,
            recipients: (!inbound).then(|| {
                [Recipient {
                    contact_annotation: ContactAnnotation { name: contact_name },
                    id: &self.contact_id,
                    identifier_key: "phonenumber",
                    identifier_value: phone,
                    platform_address: phone,
                    kind: "to",
                }]
            }),
            reference: "",
            sender: self.participant(sender),
            source: if inbound && kind == BKind::Html {
                "external"
            } else {
                "conversations"
            },
            status,
            template,
            updated_at: &updated_at,
        };
        let summary = || {
            let (body_type, preview) = drawn.summary();
            BirdSummary {
                id: id.clone(),
                created,
                updated,
                body_type,
                preview,
                status,
                inbound,
                sender,
            }
        };
        f(&message, &summary)
    }

    /// Draws a body's content (none for a template message).
    fn draw_body(&self, kind: BKind, sender: Participant, rng: &mut Rng) -> Drawn {
        let (contact_name, _, _) = CONTACTS[self.contact % CONTACTS.len()];
        let order = self.order.to_string();
        let fill = |text: &str| {
            text.replace("{name}", first_name(contact_name))
                .replace("{n}", &order)
        };
        let media = |name: &str| format!("https://media.example.com/{}/{name}", self.order);
        match kind {
            BKind::Template => Drawn::Template,
            BKind::Text => Drawn::Text(fill(match sender {
                Participant::Contact => rng.pick_str(CONTACT_TEXTS),
                Participant::Member(m) if m == HELPDESK_BOT || m == ORDER_FLOW => {
                    rng.pick_str(BOT_TEXTS)
                }
                Participant::Member(m) if m == ACCESS_KEY => rng.pick_str(BOT_TEXTS),
                Participant::Member(_) => rng.pick_str(AGENT_TEXTS),
            })),
            BKind::TextActions => Drawn::TextActions,
            BKind::Html => {
                let inbound = sender == Participant::Contact;
                let text = if inbound {
                    fill("Hello,\r\nI have a question about order {n}.\r\nKind regards")
                } else {
                    fill("Dear {name}, your invoice for order {n} is attached.")
                };
                let html = format!(
                    "<p>{}</p>",
                    text.replace("\r\n", "<br>").replace('&', "&amp;")
                );
                Drawn::Html {
                    attachment: (!inbound)
                        .then(|| (format!("invoice-{}.pdf", self.order), media("invoice.pdf"))),
                    html,
                    reply_to: inbound,
                    subject: fill("Order {n}"),
                    text,
                }
            }
            BKind::Image => {
                let count = if rng.chance(0.15) { 2 } else { 1 };
                let caption = rng.chance(0.3).then_some("Here you go");
                Drawn::Image {
                    urls: (0..count)
                        .map(|n| media(&format!("photo-{n}.jpg")))
                        .collect(),
                    caption,
                }
            }
            BKind::File => {
                let (name, mime) = *rng.pick(&[
                    ("receipt.pdf", "application/pdf"),
                    ("manual.pdf", "application/pdf"),
                    ("voice-note.ogg", "audio/ogg"),
                    ("unboxing.mp4", "video/mp4"),
                    ("sticker.webp", "image/webp"),
                ]);
                Drawn::File {
                    name,
                    mime,
                    url: media(name),
                }
            }
            BKind::Gif => Drawn::Gif,
            BKind::Location => {
                let (label, address, latitude, longitude) = *rng.pick(&[
                    (
                        "Shop Amsterdam",
                        "Dam 1, 1012 JS Amsterdam",
                        52.3731,
                        4.8926,
                    ),
                    (
                        "Shop Rotterdam",
                        "Coolsingel 40, 3011 AD Rotterdam",
                        51.9225,
                        4.4792,
                    ),
                    ("Home", "Oudegracht 158, 3511 AZ Utrecht", 52.0907, 5.1214),
                ]);
                Drawn::Location {
                    label,
                    address,
                    latitude,
                    longitude,
                }
            }
            BKind::Carousel => Drawn::Carousel(
                [("Red coat", "c1.jpg"), ("Blue scarf", "c2.jpg")].map(|(title, file)| {
                    (
                        title,
                        media(file),
                        format!("https://shop.example.com/{file}"),
                    )
                }),
            ),
            BKind::List => Drawn::List,
            BKind::Section => Drawn::Section(media("c1.jpg")),
            BKind::Authentication => {
                let code = rng.range(100_000, 999_999);
                Drawn::Authentication(format!(
                    "https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code={code}"
                ))
            }
            BKind::Action => Drawn::Action,
        }
    }

    /// The conversation as `GET /workspaces/{ws}/conversations` lists it, when it holds
    /// `len` messages (the drawn ones, then any appended), `lifecycle(i)` says how message
    /// `i` changed, `touched` is when one of its messages last changed, and `sent(i)` is
    /// `Some(inbound)` for a message sent through the API (not drawn by the seed: whether
    /// the contact sent it). When the last message is a sent one, the caller replaces
    /// `lastMessage` with what it knows of it.
    pub(crate) fn conversation(
        &self,
        len: usize,
        lifecycle: impl Fn(usize) -> Lifecycle,
        touched: Option<i64>,
        sent: impl Fn(usize) -> Option<bool>,
    ) -> Box<RawValue> {
        let created = if len > 0 {
            self.time(0) - 500_000
        } else {
            self.timing.start
        };
        let last = len.checked_sub(1).map(|i| self.summary(i, &lifecycle(i)));
        let last_incoming = (0..len)
            .rev()
            .take(50)
            .find(|&i| match sent(i) {
                Some(inbound) => inbound,
                None => self.sender(i, self.kind(i)) == Participant::Contact,
            })
            .map(|i| bird_date(lifecycle(i).created.unwrap_or_else(|| self.time(i))));
        let updated = last
            .as_ref()
            .map_or(created, |summary| summary.created)
            .max(touched.unwrap_or(i64::MIN));
        let created_at = bird_date(created);
        let updated_at = bird_date(updated);
        let last_created = last.as_ref().map(|s| bird_date(s.created));
        raw(&Conversation {
            accessibility: "open",
            active_participant_count: 2,
            attributes: self.attributes.then_some(Attributes {
                order_id: self.order,
                priority: "normal",
            }),
            channel_id: CHANNELS[self.channel % CHANNELS.len()],
            created_at: &created_at,
            description: "",
            featured_participants: [
                self.participant(Participant::Contact),
                self.participant(Participant::Member(self.agent)),
            ],
            id: &self.id,
            initiating_participant: self.participant(Participant::Contact),
            last_message: last.as_ref().zip(last_created.as_deref()).map(
                |(summary, created_at)| LastMessage {
                    created_at,
                    id: &summary.id,
                    preview: Preview {
                        text: &summary.preview,
                    },
                    recipients: (),
                    sender: self.participant(summary.sender),
                    status: summary.status,
                    kind: summary.body_type,
                },
            ),
            last_message_incoming_at: last_incoming.as_deref(),
            name: &self.name,
            pending_participant_count: 0,
            platform_style: "email",
            status: if self.closed { "closed" } else { "active" },
            style: "default",
            updated_at: &updated_at,
            visibility: if self.public { "public" } else { "private" },
        })
    }
}

/// The workspace member of a kind (`accessKey`, `flow`, ...) as a message's `sender` shows
/// it, when the workspace has one.
pub(crate) fn member(kind: &str) -> Option<serde_json::Value> {
    let member = MEMBERS.iter().find(|m| m.kind == kind)?;
    serde_json::to_value(ParticipantRef {
        avatar_url: member.avatar,
        contact: None,
        display_name: member.name,
        id: member.id,
        status: "active",
        kind: member.kind,
    })
    .ok()
}

/// What the conversations listing shows of a message, and what its lifecycle can change.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BirdSummary {
    /// The message id.
    pub(crate) id: String,
    /// When it was created, microseconds since the epoch.
    pub(crate) created: i64,
    /// When it last changed (its `updatedAt`), microseconds since the epoch.
    pub(crate) updated: i64,
    body_type: &'static str,
    preview: String,
    /// Its status (`delivered`, `sent`, `read`, ...).
    pub(crate) status: &'static str,
    /// Whether the contact sent it.
    pub(crate) inbound: bool,
    sender: Participant,
}

/// A body's drawn content: what the borrowed [`Body`] is made from.
enum Drawn {
    Template,
    Text(String),
    TextActions,
    Html {
        attachment: Option<(String, String)>,
        html: String,
        reply_to: bool,
        subject: String,
        text: String,
    },
    Image {
        urls: Vec<String>,
        caption: Option<&'static str>,
    },
    File {
        name: &'static str,
        mime: &'static str,
        url: String,
    },
    Gif,
    Location {
        label: &'static str,
        address: &'static str,
        latitude: f64,
        longitude: f64,
    },
    Carousel([(&'static str, String, String); 2]),
    List,
    Section(String),
    Authentication(String),
    Action,
}

impl Drawn {
    /// The body, borrowing the drawn strings (none for a template message).
    fn body<'a>(&'a self, contact_email: &'a str) -> Option<Body<'a>> {
        let reply = |text| Action::Reply {
            reply: ReplyAction { text },
        };
        let link = |text, url| Action::Link {
            link: LinkAction { text, url },
        };
        Some(match self {
            Drawn::Template => return None,
            Drawn::Text(text) => Body::Text {
                text: TextBody {
                    actions: None,
                    metadata: text.contains("https://").then_some(TextMetadata {
                        whatsapp: Whatsapp { preview_url: true },
                    }),
                    text,
                },
            },
            Drawn::TextActions => Body::Text {
                text: TextBody {
                    actions: Some(vec![
                        reply("Yes, thanks"),
                        reply("No"),
                        Action::Postback {
                            postback: PostbackAction {
                                payload: "AGENT",
                                text: "Talk to an agent",
                            },
                        },
                    ]),
                    metadata: None,
                    text: "Did this answer your question?",
                },
            },
            Drawn::Html {
                attachment,
                html,
                reply_to,
                subject,
                text,
            } => Body::Html {
                html: HtmlBody {
                    attachments: attachment.as_ref().map(|(filename, media_url)| {
                        [Attachment {
                            filename,
                            media_url,
                        }]
                    }),
                    html,
                    metadata: HtmlMetadata {
                        headers: reply_to.then_some(Headers {
                            reply_to: contact_email,
                        }),
                        subject,
                    },
                    text,
                },
            },
            Drawn::Image { urls, caption } => Body::Image {
                image: ImageBody {
                    images: urls.iter().map(|media_url| Media { media_url }).collect(),
                    text: *caption,
                },
            },
            Drawn::File { name, mime, url } => Body::File {
                file: FileBody {
                    files: [FileRef {
                        content_type: mime,
                        filename: name,
                        media_url: url,
                    }],
                },
            },
            Drawn::Gif => Body::Gif {
                gif: GifBody {
                    alt_text: "A bird waving",
                    media_url: "https://media.example.com/gifs/thanks.gif",
                    text: "Thanks!",
                },
            },
            Drawn::Location {
                label,
                address,
                latitude,
                longitude,
            } => Body::Location {
                location: LocationBody {
                    coordinates: Coordinates {
                        latitude: *latitude,
                        longitude: *longitude,
                    },
                    location: Place { address, label },
                },
            },
            Drawn::Carousel(items) => Body::Carousel {
                carousel: CarouselBody {
                    items: items
                        .iter()
                        .map(|(title, media_url, url)| CarouselItem {
                            actions: [link("View", url)],
                            media_url,
                            title,
                        })
                        .collect(),
                    text: "Pick a product",
                },
            },
            Drawn::List => Body::List {
                list: ListBody {
                    items: ["Amsterdam", "Rotterdam", "Utrecht"].map(|city| ListItem {
                        actions: [reply(city)],
                        title: city,
                    }),
                    metadata: ListMetadata {
                        button: Button { label: "See shops" },
                    },
                    text: "Choose a shop",
                    title: "Opening hours",
                },
            },
            Drawn::Section(image) => Body::Section {
                section: SectionBody {
                    items: vec![
                        Body::Text {
                            text: TextBody {
                                actions: None,
                                metadata: None,
                                text: "Order summary",
                            },
                        },
                        Body::Image {
                            image: ImageBody {
                                images: vec![Media { media_url: image }],
                                text: None,
                            },
                        },
                    ],
                },
            },
            Drawn::Authentication(url) => Body::Authentication {
                authentication: AuthenticationBody {
                    otp: Otp {
                        actions: [link("Copy code", url)],
                        disclaimer: true,
                        expiration_time: 10,
                    },
                },
            },
            Drawn::Action => Body::Action {
                action: ActionBody::PermissionRequest {
                    permission_request: PermissionRequest { resource: "call" },
                },
            },
        })
    }

    /// The body's type and the preview text the conversations listing shows.
    fn summary(&self) -> (&'static str, String) {
        match self {
            Drawn::Template => ("template", "Template: order_update".to_owned()),
            Drawn::Text(text) => ("text", text.clone()),
            Drawn::TextActions => ("text", "Did this answer your question?".to_owned()),
            Drawn::Html { subject, .. } => ("html", subject.clone()),
            Drawn::Image { caption, .. } => ("image", caption.unwrap_or("Image").to_owned()),
            Drawn::File { name, .. } => ("file", (*name).to_owned()),
            Drawn::Gif => ("gif", "Thanks!".to_owned()),
            Drawn::Location { label, .. } => ("location", (*label).to_owned()),
            Drawn::Carousel(_) => ("carousel", "Pick a product".to_owned()),
            Drawn::List => ("list", "Choose a shop".to_owned()),
            Drawn::Section(_) => ("section", "Order summary".to_owned()),
            Drawn::Authentication(_) => ("authentication", "Verification code".to_owned()),
            Drawn::Action => ("action", "Call permission request".to_owned()),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The wire shapes, in Bird's field order
// ---------------------------------------------------------------------------------------

/// A message of the list-messages endpoint.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Message<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<Body<'a>>,
    conversation_id: &'a str,
    created_at: &'a str,
    draft: bool,
    id: &'a str,
    /// `null` when there are none, as Bird sends it.
    interactions: Option<Vec<Interaction<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipients: Option<[Recipient<'a>; 1]>,
    reference: &'a str,
    sender: ParticipantRef<'a>,
    source: &'static str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<Template<'a>>,
    updated_at: &'a str,
}

/// A participant: a contact (with its identifier) or a workspace member.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ParticipantRef<'a> {
    avatar_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact: Option<ContactRef<'a>>,
    display_name: &'a str,
    id: &'a str,
    status: &'static str,
    #[serde(rename = "type")]
    kind: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContactRef<'a> {
    identifier_key: &'static str,
    identifier_value: &'a str,
    platform_address: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Recipient<'a> {
    contact_annotation: ContactAnnotation<'a>,
    id: &'a str,
    identifier_key: &'static str,
    identifier_value: &'a str,
    platform_address: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct ContactAnnotation<'a> {
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Interaction<'a> {
    created_at: &'a str,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<InteractionMetadata<'a>>,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct InteractionMetadata<'a> {
    reaction: Reaction<'a>,
}

#[derive(Serialize)]
struct Reaction<'a> {
    action: &'a str,
    emoji: &'a str,
}

/// A body: `{"type": "text", "text": {...}}`, the tag first (serde writes an internally
/// tagged enum's tag before the variant's fields, and each variant's one field is named as
/// its tag).
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Body<'a> {
    Text {
        text: TextBody<'a>,
    },
    Html {
        html: HtmlBody<'a>,
    },
    Image {
        image: ImageBody<'a>,
    },
    File {
        file: FileBody<'a>,
    },
    Gif {
        gif: GifBody<'a>,
    },
    Location {
        location: LocationBody<'a>,
    },
    Carousel {
        carousel: CarouselBody<'a>,
    },
    List {
        list: ListBody<'a>,
    },
    Section {
        section: SectionBody<'a>,
    },
    Authentication {
        authentication: AuthenticationBody<'a>,
    },
    Action {
        action: ActionBody,
    },
}

#[derive(Serialize)]
struct TextBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    actions: Option<Vec<Action<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<TextMetadata>,
    text: &'a str,
}

#[derive(Serialize)]
struct TextMetadata {
    whatsapp: Whatsapp,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Whatsapp {
    preview_url: bool,
}

/// A button: `{"type": "reply", "reply": {...}}`.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Action<'a> {
    Reply { reply: ReplyAction<'a> },
    Postback { postback: PostbackAction<'a> },
    Link { link: LinkAction<'a> },
}

#[derive(Serialize)]
struct ReplyAction<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct PostbackAction<'a> {
    payload: &'a str,
    text: &'a str,
}

#[derive(Serialize)]
struct LinkAction<'a> {
    text: &'a str,
    url: &'a str,
}

#[derive(Serialize)]
struct HtmlBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    attachments: Option<[Attachment<'a>; 1]>,
    html: &'a str,
    metadata: HtmlMetadata<'a>,
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Attachment<'a> {
    filename: &'a str,
    media_url: &'a str,
}

#[derive(Serialize)]
struct HtmlMetadata<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<Headers<'a>>,
    subject: &'a str,
}

#[derive(Serialize)]
struct Headers<'a> {
    #[serde(rename = "Reply-To")]
    reply_to: &'a str,
}

#[derive(Serialize)]
struct ImageBody<'a> {
    images: Vec<Media<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Media<'a> {
    media_url: &'a str,
}

#[derive(Serialize)]
struct FileBody<'a> {
    files: [FileRef<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FileRef<'a> {
    content_type: &'a str,
    filename: &'a str,
    media_url: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GifBody<'a> {
    alt_text: &'a str,
    media_url: &'a str,
    text: &'a str,
}

#[derive(Serialize)]
struct LocationBody<'a> {
    coordinates: Coordinates,
    location: Place<'a>,
}

#[derive(Serialize)]
struct Coordinates {
    latitude: f64,
    longitude: f64,
}

#[derive(Serialize)]
struct Place<'a> {
    address: &'a str,
    label: &'a str,
}

#[derive(Serialize)]
struct CarouselBody<'a> {
    items: Vec<CarouselItem<'a>>,
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CarouselItem<'a> {
    actions: [Action<'a>; 1],
    media_url: &'a str,
    title: &'a str,
}

#[derive(Serialize)]
struct ListBody<'a> {
    items: [ListItem<'a>; 3],
    metadata: ListMetadata<'a>,
    text: &'a str,
    title: &'a str,
}

#[derive(Serialize)]
struct ListItem<'a> {
    actions: [Action<'a>; 1],
    title: &'a str,
}

#[derive(Serialize)]
struct ListMetadata<'a> {
    button: Button<'a>,
}

#[derive(Serialize)]
struct Button<'a> {
    label: &'a str,
}

#[derive(Serialize)]
struct SectionBody<'a> {
    items: Vec<Body<'a>>,
}

#[derive(Serialize)]
struct AuthenticationBody<'a> {
    otp: Otp<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Otp<'a> {
    actions: [Action<'a>; 1],
    disclaimer: bool,
    expiration_time: u32,
}

/// An action body: `{"type": "permission_request", "permission_request": {...}}`.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ActionBody {
    PermissionRequest {
        permission_request: PermissionRequest,
    },
}

#[derive(Serialize)]
struct PermissionRequest {
    resource: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Template<'a> {
    locale: &'a str,
    name: &'a str,
    parameters: [TemplateParameter<'a>; 3],
    project_id: &'a str,
    version: &'a str,
}

#[derive(Serialize)]
struct TemplateParameter<'a> {
    key: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    value: ParameterValue<'a>,
}

/// A template parameter's value: a string or a number, as its `type` says.
#[derive(Serialize)]
#[serde(untagged)]
enum ParameterValue<'a> {
    Text(&'a str),
    Whole(u64),
    Number(f64),
}

/// A conversation of the conversations listing.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Conversation<'a> {
    accessibility: &'a str,
    active_participant_count: u32,
    /// `null` when there are none.
    attributes: Option<Attributes<'a>>,
    channel_id: &'a str,
    created_at: &'a str,
    description: &'a str,
    featured_participants: [ParticipantRef<'a>; 2],
    id: &'a str,
    initiating_participant: ParticipantRef<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_message: Option<LastMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_message_incoming_at: Option<&'a str>,
    name: &'a str,
    pending_participant_count: u32,
    platform_style: &'a str,
    status: &'a str,
    style: &'a str,
    updated_at: &'a str,
    visibility: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Attributes<'a> {
    order_id: u64,
    priority: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LastMessage<'a> {
    created_at: &'a str,
    id: &'a str,
    preview: Preview<'a>,
    /// Always `null` in the listing.
    recipients: (),
    sender: ParticipantRef<'a>,
    status: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
}

#[derive(Serialize)]
struct Preview<'a> {
    text: &'a str,
}
