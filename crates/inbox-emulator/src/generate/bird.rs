//! Synthetic Bird conversations and messages.

use super::{
    SALT_CONTENT, SALT_ID, SALT_KIND, SALT_SENDER, Timing, first_name, showcase_slot, uuid,
};
use crate::json::{self, Obj};
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

/// What the conversations listing shows of a message.
pub(crate) struct BirdSummary {
    body_type: &'static str,
    preview: String,
    status: &'static str,
    sender: Participant,
}

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
        if self.showcase {
            if let Some(kind) = showcase_slot(&BIRD_SHOWCASE, self.len, i) {
                return kind;
            }
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

    fn write_participant(&self, o: &mut Obj<'_>, who: Participant) {
        match who {
            Participant::Contact => {
                let (name, phone, _) = CONTACTS[self.contact % CONTACTS.len()];
                o.str("avatarUrl", "").obj("contact", |c| {
                    c.str("identifierKey", "phonenumber")
                        .str("identifierValue", phone)
                        .str("platformAddress", phone);
                });
                o.str("displayName", name)
                    .str("id", &self.contact_id)
                    .str("status", "active")
                    .str("type", "contact");
            }
            Participant::Member(m) => {
                let member = &MEMBERS[m % MEMBERS.len()];
                o.str("avatarUrl", member.avatar)
                    .str("displayName", member.name)
                    .str("id", member.id)
                    .str("status", "active")
                    .str("type", member.kind);
            }
        }
    }

    fn write_recipients(&self, o: &mut Obj<'_>) {
        let (name, phone, _) = CONTACTS[self.contact % CONTACTS.len()];
        o.arr("recipients", |a| {
            a.obj(|r| {
                r.obj("contactAnnotation", |c| {
                    c.str("name", name);
                })
                .str("id", &self.contact_id)
                .str("identifierKey", "phonenumber")
                .str("identifierValue", phone)
                .str("platformAddress", phone)
                .str("type", "to");
            });
        });
    }

    /// Message `i` as JSON, with what the conversations listing shows of it.
    pub(crate) fn message(&self, i: usize) -> (Vec<u8>, BirdSummary) {
        let mut out = Vec::with_capacity(700);
        let summary = self.write_message(i, &mut out);
        (out, summary)
    }

    fn write_message(&self, i: usize, out: &mut Vec<u8>) -> BirdSummary {
        let kind = self.kind(i);
        let sender = self.sender(i, kind);
        let mut rng = Rng::of(&[self.seed, SALT_CONTENT, i as u64]);
        let created = self.time(i);
        let (contact_name, _, contact_email) = CONTACTS[self.contact % CONTACTS.len()];
        let order = self.order.to_string();
        let fill = |text: &str| {
            text.replace("{name}", first_name(contact_name))
                .replace("{n}", &order)
        };
        let inbound = sender == Participant::Contact;
        let status = if inbound {
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
        let mut preview = String::new();
        let mut body_type = "template";
        let mut summary_set = |t: &'static str, p: String| {
            body_type = t;
            preview = p;
        };
        let mut updated = created;
        json::object(out, |o| {
            if kind != BKind::Template {
                o.obj("body", |b| {
                    let (t, p) = self.write_body(b, kind, sender, &mut rng, &fill, contact_email);
                    summary_set(t, p);
                });
            }
            o.str("conversationId", &self.id)
                .str("createdAt", &bird_date(created))
                .bool("draft", false)
                .str("id", &self.message_id(i));
            if !inbound && status == "delivered" && rng.chance(0.35) {
                o.arr("interactions", |a| {
                    let mut at = created + rng.range(5, 600) as i64 * 1_000_000;
                    let read = hash(&[self.seed, SALT_ID, i as u64, 2]);
                    a.obj(|x| {
                        x.str("createdAt", &bird_date(at))
                            .str("id", &uuid(read, read.rotate_left(17)))
                            .str("type", "read");
                    });
                    if rng.chance(0.3) {
                        at += rng.range(1, 300) as i64 * 1_000_000;
                        let h = hash(&[self.seed, SALT_ID, i as u64, 3]);
                        let emoji = *rng.pick(&["👍", "❤️", "😂", "🙏"]);
                        a.obj(|x| {
                            x.str("createdAt", &bird_date(at))
                                .str("id", &uuid(h, h.rotate_left(17)))
                                .obj("metadata", |m| {
                                    m.obj("reaction", |r| {
                                        r.str("action", "react").str("emoji", emoji);
                                    });
                                })
                                .str("type", "reaction");
                        });
                    }
                    updated = at;
                });
            } else {
                o.null("interactions");
            }
            if matches!(status, "sending_failed" | "delivery_failed") {
                o.str("reason", rng.pick_str(FAILURE_REASONS));
            }
            if !inbound {
                self.write_recipients(o);
            }
            o.str("reference", "");
            o.obj("sender", |s| self.write_participant(s, sender));
            o.str(
                "source",
                if inbound && kind == BKind::Html {
                    "external"
                } else {
                    "conversations"
                },
            )
            .str("status", status);
            if kind == BKind::Template {
                self.write_template(o, &mut rng, contact_name);
            }
            if updated == created && !inbound {
                updated = created + rng.range(1, 20) as i64 * 1_000_000;
            }
            o.str("updatedAt", &bird_date(updated));
        });
        if kind == BKind::Template {
            preview = "Template: order_update".to_owned();
        }
        BirdSummary {
            body_type,
            preview,
            status,
            sender,
        }
    }

    /// Writes the body's `type` and content; returns the type and a preview text.
    fn write_body(
        &self,
        b: &mut Obj<'_>,
        kind: BKind,
        sender: Participant,
        rng: &mut Rng,
        fill: &dyn Fn(&str) -> String,
        contact_email: &str,
    ) -> (&'static str, String) {
        let media = |name: &str| format!("https://media.example.com/{}/{name}", self.order);
        match kind {
            BKind::Text | BKind::Template => {
                let text = fill(match sender {
                    Participant::Contact => rng.pick_str(CONTACT_TEXTS),
                    Participant::Member(m) if m == HELPDESK_BOT || m == ORDER_FLOW => {
                        rng.pick_str(BOT_TEXTS)
                    }
                    Participant::Member(m) if m == ACCESS_KEY => rng.pick_str(BOT_TEXTS),
                    Participant::Member(_) => rng.pick_str(AGENT_TEXTS),
                });
                b.tagged("text", |t| {
                    if text.contains("https://") {
                        t.obj("metadata", |m| {
                            m.obj("whatsapp", |w| {
                                w.bool("previewUrl", true);
                            });
                        });
                    }
                    t.str("text", &text);
                });
                ("text", text)
            }
            BKind::TextActions => {
                let text = "Did this answer your question?";
                b.tagged("text", |t| {
                    t.arr("actions", |a| {
                        a.obj(|x| {
                            x.tagged("reply", |r| {
                                r.str("text", "Yes, thanks");
                            });
                        })
                        .obj(|x| {
                            x.tagged("reply", |r| {
                                r.str("text", "No");
                            });
                        })
                        .obj(|x| {
                            x.tagged("postback", |p| {
                                p.str("payload", "AGENT").str("text", "Talk to an agent");
                            });
                        });
                    })
                    .str("text", text);
                });
                ("text", text.to_owned())
            }
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
                let subject = fill("Order {n}");
                b.tagged("html", |h| {
                    if !inbound {
                        h.arr("attachments", |a| {
                            a.obj(|x| {
                                x.str("filename", &format!("invoice-{}.pdf", self.order))
                                    .str("mediaUrl", &media("invoice.pdf"));
                            });
                        });
                    }
                    h.str("html", &html)
                        .obj("metadata", |m| {
                            if inbound {
                                m.obj("headers", |hd| {
                                    hd.str("Reply-To", contact_email);
                                });
                            }
                            m.str("subject", &subject);
                        })
                        .str("text", &text);
                });
                ("html", subject)
            }
            BKind::Image => {
                let count = if rng.chance(0.15) { 2 } else { 1 };
                let caption = rng.chance(0.3).then_some("Here you go");
                b.tagged("image", |im| {
                    im.arr("images", |a| {
                        for n in 0..count {
                            a.obj(|x| {
                                x.str("mediaUrl", &media(&format!("photo-{n}.jpg")));
                            });
                        }
                    });
                    if let Some(c) = caption {
                        im.str("text", c);
                    }
                });
                ("image", caption.unwrap_or("Image").to_owned())
            }
            BKind::File => {
                let (name, mime) = *rng.pick(&[
                    ("receipt.pdf", "application/pdf"),
                    ("manual.pdf", "application/pdf"),
                    ("voice-note.ogg", "audio/ogg"),
                    ("unboxing.mp4", "video/mp4"),
                    ("sticker.webp", "image/webp"),
                ]);
                b.tagged("file", |f| {
                    f.arr("files", |a| {
                        a.obj(|x| {
                            x.str("contentType", mime)
                                .str("filename", name)
                                .str("mediaUrl", &media(name));
                        });
                    });
                });
                ("file", name.to_owned())
            }
            BKind::Gif => {
                b.tagged("gif", |g| {
                    g.str("altText", "A bird waving")
                        .str("mediaUrl", "https://media.example.com/gifs/thanks.gif")
                        .str("text", "Thanks!");
                });
                ("gif", "Thanks!".to_owned())
            }
            BKind::Location => {
                let (label, address, lat, lon) = *rng.pick(&[
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
                b.tagged("location", |l| {
                    l.obj("coordinates", |c| {
                        c.float("latitude", lat).float("longitude", lon);
                    })
                    .obj("location", |p| {
                        p.str("address", address).str("label", label);
                    });
                });
                ("location", label.to_owned())
            }
            BKind::Carousel => {
                b.tagged("carousel", |c| {
                    c.arr("items", |a| {
                        for (title, file) in [("Red coat", "c1.jpg"), ("Blue scarf", "c2.jpg")] {
                            a.obj(|x| {
                                x.arr("actions", |acts| {
                                    acts.obj(|y| {
                                        y.tagged("link", |l| {
                                            l.str("text", "View").str(
                                                "url",
                                                &format!("https://shop.example.com/{file}"),
                                            );
                                        });
                                    });
                                })
                                .str("mediaUrl", &media(file))
                                .str("title", title);
                            });
                        }
                    })
                    .str("text", "Pick a product");
                });
                ("carousel", "Pick a product".to_owned())
            }
            BKind::List => {
                b.tagged("list", |l| {
                    l.arr("items", |a| {
                        for city in ["Amsterdam", "Rotterdam", "Utrecht"] {
                            a.obj(|x| {
                                x.arr("actions", |acts| {
                                    acts.obj(|y| {
                                        y.tagged("reply", |r| {
                                            r.str("text", city);
                                        });
                                    });
                                })
                                .str("title", city);
                            });
                        }
                    })
                    .obj("metadata", |m| {
                        m.obj("button", |bt| {
                            bt.str("label", "See shops");
                        });
                    })
                    .str("text", "Choose a shop")
                    .str("title", "Opening hours");
                });
                ("list", "Choose a shop".to_owned())
            }
            BKind::Section => {
                b.tagged("section", |s| {
                    s.arr("items", |a| {
                        a.obj(|x| {
                            x.tagged("text", |t| {
                                t.str("text", "Order summary");
                            });
                        })
                        .obj(|x| {
                            x.tagged("image", |im| {
                                im.arr("images", |imgs| {
                                    imgs.obj(|y| {
                                        y.str("mediaUrl", &media("c1.jpg"));
                                    });
                                });
                            });
                        });
                    });
                });
                ("section", "Order summary".to_owned())
            }
            BKind::Authentication => {
                let code = rng.range(100_000, 999_999);
                b.tagged("authentication", |a| {
                    a.obj("otp", |otp| {
                        otp.arr("actions", |acts| {
                            acts.obj(|y| {
                                y.tagged("link", |l| {
                                    l.str("text", "Copy code").str(
                                        "url",
                                        &format!("https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code={code}"),
                                    );
                                });
                            });
                        })
                        .bool("disclaimer", true)
                        .int("expirationTime", 10);
                    });
                });
                ("authentication", "Verification code".to_owned())
            }
            BKind::Action => {
                b.tagged("action", |a| {
                    a.tagged("permission_request", |p| {
                        p.str("resource", "call");
                    });
                });
                ("action", "Call permission request".to_owned())
            }
        }
    }

    fn write_template(&self, o: &mut Obj<'_>, rng: &mut Rng, contact_name: &str) {
        let project = hash(&[self.seed, 0x7072_6f6a]);
        let version = hash(&[self.seed, 0x7665_7273]);
        o.obj("template", |t| {
            t.str("locale", rng.pick_str(&["en", "en-US", "nl-NL"]))
                .str("name", "order_update")
                .arr("parameters", |a| {
                    a.obj(|p| {
                        p.str("key", "firstName")
                            .str("type", "string")
                            .str("value", first_name(contact_name));
                    })
                    .obj(|p| {
                        p.str("key", "orderId")
                            .str("type", "string")
                            .str("value", &self.order.to_string());
                    })
                    .obj(|p| {
                        p.str("key", "orderTotal")
                            .str("type", "number")
                            .float("value", (rng.range(500, 25_000) as f64) / 100.0);
                    });
                })
                .str("projectId", &uuid(project, project.rotate_left(9)))
                .str("version", &uuid(version, version.rotate_left(9)));
        });
    }

    /// The conversation as `GET /workspaces/{ws}/conversations` lists it.
    pub(crate) fn conversation(&self) -> Vec<u8> {
        let created = if self.len > 0 {
            self.time(0) - 500_000
        } else {
            self.timing.start
        };
        let last = self.len.checked_sub(1).map(|i| (i, self.message(i).1));
        let last_incoming = (0..self.len)
            .rev()
            .take(50)
            .find(|&i| self.sender(i, self.kind(i)) == Participant::Contact);
        let updated = last.as_ref().map_or(created, |(i, _)| self.time(*i));
        let mut out = Vec::with_capacity(1600);
        json::object(&mut out, |o| {
            o.str("accessibility", "open")
                .int("activeParticipantCount", 2);
            if self.attributes {
                o.obj("attributes", |a| {
                    a.int("orderId", self.order as i64)
                        .str("priority", "normal");
                });
            } else {
                o.null("attributes");
            }
            o.str("channelId", CHANNELS[self.channel % CHANNELS.len()])
                .str("createdAt", &bird_date(created))
                .str("description", "")
                .arr("featuredParticipants", |a| {
                    a.obj(|p| self.write_participant(p, Participant::Contact))
                        .obj(|p| self.write_participant(p, Participant::Member(self.agent)));
                })
                .str("id", &self.id)
                .obj("initiatingParticipant", |p| {
                    self.write_participant(p, Participant::Contact)
                });
            if let Some((i, summary)) = &last {
                o.obj("lastMessage", |m| {
                    m.str("createdAt", &bird_date(self.time(*i)))
                        .str("id", &self.message_id(*i))
                        .obj("preview", |p| {
                            p.str("text", &summary.preview);
                        })
                        .null("recipients")
                        .obj("sender", |s| self.write_participant(s, summary.sender))
                        .str("status", summary.status)
                        .str("type", summary.body_type);
                });
            }
            if let Some(i) = last_incoming {
                o.str("lastMessageIncomingAt", &bird_date(self.time(i)));
            }
            o.str("name", &self.name)
                .int("pendingParticipantCount", 0)
                .str("platformStyle", "email")
                .str("status", if self.closed { "closed" } else { "active" })
                .str("style", "default")
                .str("updatedAt", &bird_date(updated))
                .str("visibility", if self.public { "public" } else { "private" });
        });
        out
    }
}
