//! Synthetic Partoo conversations and messages, written through borrowed serde structs in
//! the field order Partoo's examples use.

use serde::Serialize;
use serde_json::value::RawValue;

use super::{
    Lifecycle, SALT_CONTENT, SALT_KIND, SALT_SENDER, Timing, first_name, raw, showcase_slot,
};
use crate::rng::{Rng, hash};
use crate::time::partoo_date;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PKind {
    Text,
    Image,
    Video,
    Audio,
    Document,
    StoryReplyText,
    StoryReplyImage,
    StoryMention,
    Unsupported,
    Event,
}

/// Every kind but text, once (events twice: solving, then reopening).
const PARTOO_SHOWCASE: [PKind; 10] = [
    PKind::Image,
    PKind::Video,
    PKind::Audio,
    PKind::Document,
    PKind::StoryReplyText,
    PKind::StoryReplyImage,
    PKind::StoryMention,
    PKind::Unsupported,
    PKind::Event,
    PKind::Event,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Partner {
    Google,
    Facebook,
    Instagram,
    Sms,
    Whatsapp,
    Custom,
}

impl Partner {
    fn name(self) -> &'static str {
        match self {
            Partner::Google => "Google",
            Partner::Facebook => "Facebook",
            Partner::Instagram => "Instagram",
            Partner::Sms => "SMS",
            Partner::Whatsapp => "Whatsapp",
            Partner::Custom => "Custom",
        }
    }

    /// What each channel carries, weighted.
    fn kinds(self) -> &'static [(PKind, u32)] {
        use PKind::*;
        match self {
            Partner::Instagram => &[
                (Text, 64),
                (Image, 9),
                (Video, 3),
                (Audio, 3),
                (Document, 1),
                (StoryReplyText, 5),
                (StoryReplyImage, 2),
                (StoryMention, 5),
                (Unsupported, 4),
                (Event, 4),
            ],
            Partner::Whatsapp => &[
                (Text, 72),
                (Image, 10),
                (Video, 3),
                (Audio, 5),
                (Document, 4),
                (Unsupported, 2),
                (Event, 4),
            ],
            Partner::Facebook => &[
                (Text, 75),
                (Image, 9),
                (Video, 3),
                (Audio, 3),
                (Document, 2),
                (Unsupported, 4),
                (Event, 4),
            ],
            Partner::Google => &[(Text, 86), (Image, 10), (Event, 4)],
            Partner::Sms => &[(Text, 96), (Event, 4)],
            Partner::Custom => &[
                (Text, 80),
                (Image, 6),
                (Document, 6),
                (Video, 2),
                (Audio, 2),
                (Event, 4),
            ],
        }
    }
}

/// A Partoo business (what `business__in` filters on).
pub(crate) struct Business {
    pub(crate) id: &'static str,
    name: &'static str,
    city: &'static str,
    zipcode: &'static str,
    address: &'static str,
    handle: &'static str,
}

/// The businesses of the synthetic Partoo organisation.
pub(crate) const BUSINESSES: [Business; 3] = [
    Business {
        id: "a1c9f37b4deca92f83b61d02",
        name: "Boulangerie Martin",
        city: "Paris",
        zipcode: "75011",
        address: "12 rue de la Roquette, 75011 Paris",
        handle: "boulangerie.martin",
    },
    Business {
        id: "9f4e2a8c0d73b154e621bc97",
        name: "Boulangerie Martin Lyon",
        city: "Lyon",
        zipcode: "69002",
        address: "4 place Bellecour, 69002 Lyon",
        handle: "boulangerie.martin.lyon",
    },
    Business {
        id: "5d0b7e1f2a3c4b5d6e7f8091",
        name: "Salon Élodie",
        city: "Bordeaux",
        zipcode: "33000",
        address: "27 cours de l'Intendance, 33000 Bordeaux",
        handle: "salon.elodie",
    },
];

/// Partoo users answering conversations: name and user id.
const STAFF: [(&str, &str); 4] = [
    ("Léa Dupont", "62d80fae74e8b11d700302b8"),
    ("Thomas Bernard", "62d80fae74e8b11d700302c1"),
    ("Sarah Cohen", "62d80fae74e8b11d700302d7"),
    ("Élodie Garnier", "62d80fae74e8b11d700302e3"),
];

/// Consumers: display name and a handle (for Instagram names and story urls).
const CONSUMERS: [(&str, &str); 24] = [
    ("Camille Martin", "camille.martin"),
    ("Jean Dupont", "jeandupont"),
    ("Zoë Ørsted", "zoe.orsted"),
    ("Lucas Petit", "lucas_petit"),
    ("Manon Leroy", "manonleroy"),
    ("Hugo Moreau", "hugo.mrx"),
    ("Chloé Lefèvre", "chloe.lfv"),
    ("Nathan Roux", "nathanroux"),
    ("Inès Fournier", "ines.frn"),
    ("Léo Girard", "leo_girard"),
    ("Sofia Bonnet", "sofia.bonnet"),
    ("Gabriel Mercier", "gab.mercier"),
    ("Emma Blanc", "emma_blanc"),
    ("Adam Faure", "adamfaure"),
    ("ليلى حداد", "layla.haddad"),
    ("李小龙", "xiaolong.li"),
    ("Noa Ben-David", "noa.bd"),
    ("Mathis Rousseau", "mathis.rsso"),
    ("Jade Vincent", "jade.vincent"),
    ("Louis Muller", "louis.muller"),
    ("Anaïs Lambert", "anais.lbt"),
    ("Yasmine Benali", "yasmine.benali"),
    ("Tom O'Brien", "tom.obrien"),
    ("Ana Souza", "ana.souza"),
];

const CONSUMER_TEXTS: &[&str] = &[
    "Bonjour, vous êtes ouverts demain ?",
    "Bonjour ! Vous livrez le dimanche ? 🥐",
    "Est-ce que je peux réserver pour 4 personnes ce soir ?",
    "Merci beaucoup !",
    "D'accord, à tout à l'heure 👍",
    "Ma commande n'est toujours pas arrivée…",
    "Vous avez encore des croissants aux amandes ?",
    "Hello, do you speak English? I'd like to order a cake for Saturday.",
    "Quels sont vos horaires le 14 juillet ?",
    "C'est possible de payer par carte ?",
    "Super, merci pour la réponse rapide",
    "Je voudrais annuler ma réservation de jeudi.",
    "Ok",
    "Oui",
    "Merci",
    "Le lien ne marche pas chez moi",
    "Bonsoir, il reste de la place pour samedi matin ?",
    "Vous faites des gâteaux sans gluten ?",
    "Bonjour,\nJ'ai reçu ma commande mais il manque un article.\nPouvez-vous vérifier ?\nMerci",
    "¿Tienen mesa para dos esta noche?",
    "مرحبا، هل المتجر مفتوح يوم الجمعة؟",
    "你好，请问营业时间是几点？",
    "Parfait 😍😍",
    "Bonjour, je vous écris au sujet de la commande passée la semaine dernière pour l'anniversaire de ma fille : est-ce qu'il serait possible d'ajouter une inscription \"Joyeux anniversaire Léa\" sur le gâteau, et de décaler le retrait à 16h au lieu de 11h ? Merci d'avance et bonne journée.",
    "C'est combien la tarte aux fraises (6 parts) ?",
    "J'arrive dans 10 min",
    "👍",
    "Vous êtes où exactement ? Je ne trouve pas l'entrée",
];

const USER_TEXTS: &[&str] = &[
    "Bonjour, oui nous sommes ouverts de 8h à 19h.",
    "Bonjour {name}, merci pour votre message !",
    "Nous vérifions et revenons vers vous rapidement.",
    "Votre commande est prête, vous pouvez passer la récupérer.",
    "Oui, il nous en reste quelques-uns 🙂",
    "Désolé pour l'attente ! Le colis est parti ce matin, voici le suivi : https://suivi.example/FR123456789",
    "Bien sûr, c'est noté pour samedi 12h.",
    "Hello! Yes, we can do that. What size would you like?",
    "Avec plaisir, bonne journée !",
    "Le paiement par carte est accepté à partir de 5 €.",
    "Bonjour {name},\nC'est bien noté : retrait à 16h, inscription \"Joyeux anniversaire\".\nÀ samedi !",
    "La tarte aux fraises 6 parts est à 24,50 €.",
    "Nous sommes au fond de la cour, porte bleue à gauche.",
];

const AUTOMATED_TEXTS: &[&str] = &[
    "Merci pour votre message ! Nous répondons en moins d'une heure.",
    "Nous sommes actuellement fermés. Nos horaires : lun-sam 8h-19h.",
    "Bonjour 👋 Un conseiller va vous répondre dans quelques instants.",
    "Votre avis compte ! Notez-nous : https://g.page/r/example/review",
];

const STORY_REPLIES: &[&str] = &[
    "Ça a l'air délicieux 😍",
    "Trop beau !!",
    "C'est dispo en boutique ?",
    "Je veux la même 🙏",
    "🔥🔥🔥",
];

const DOCUMENTS: &[&str] = &[
    "menu-2024.pdf",
    "tarifs.pdf",
    "conditions-generales.pdf",
    "devis.pdf",
    "facture.pdf",
    "bon-de-commande.docx",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PSender {
    Consumer,
    /// A Partoo user (index into [`STAFF`]), or an automation when `None`.
    User(Option<usize>),
    Metadata,
}

/// One synthetic Partoo conversation: everything needed to generate its messages and its
/// listing entry.
#[derive(Debug, Clone)]
pub(crate) struct PartooConv {
    seed: u64,
    /// The conversation id.
    pub(crate) id: i64,
    pub(crate) first_message_id: i64,
    /// How many messages it has.
    pub(crate) len: usize,
    timing: Timing,
    partner: Partner,
    /// Index into [`BUSINESSES`].
    pub(crate) business: usize,
    consumer: usize,
    phone: Option<String>,
    showcase: bool,
    assigned: Option<usize>,
    staff: usize,
    closed: bool,
    is_read: bool,
    facebook_issue: bool,
    custom_conversation: u64,
}

impl PartooConv {
    /// Conversation `index` of a dataset seeded `seed`, with `len` messages whose ids start at
    /// `first_message_id`. A showcase conversation is on Instagram and holds every content
    /// kind when it has room for them.
    pub(crate) fn new(
        seed: u64,
        index: usize,
        len: usize,
        first_message_id: i64,
        showcase: bool,
    ) -> Self {
        let conv_seed = hash(&[seed, 0x5041_5254, index as u64]);
        let mut rng = Rng::new(conv_seed);
        let partner = if showcase {
            Partner::Instagram
        } else {
            rng.weighted(&[
                (Partner::Whatsapp, 30),
                (Partner::Instagram, 20),
                (Partner::Facebook, 20),
                (Partner::Google, 15),
                (Partner::Sms, 10),
                (Partner::Custom, 5),
            ])
        };
        let timing = Timing::new(&mut rng, conv_seed);
        let phone = match partner {
            Partner::Sms | Partner::Whatsapp => Some(format!("+336{:08}", rng.below(100_000_000))),
            _ => None,
        };
        let staff = rng.index(STAFF.len());
        PartooConv {
            seed: conv_seed,
            id: 40_001 + index as i64 * 3 + rng.below(3) as i64,
            first_message_id,
            len,
            timing,
            partner,
            business: rng.index(BUSINESSES.len()),
            consumer: rng.index(CONSUMERS.len()),
            phone,
            showcase,
            assigned: rng.chance(0.7).then_some(staff),
            staff,
            closed: rng.chance(0.15),
            is_read: rng.chance(0.6),
            facebook_issue: partner == Partner::Facebook && rng.chance(0.1),
            custom_conversation: rng.range(1000, 9999),
        }
    }

    /// Microseconds since the epoch of message `i`.
    pub(crate) fn time(&self, i: usize) -> i64 {
        self.timing.at(i)
    }

    fn kind(&self, i: usize) -> PKind {
        if self.showcase
            && let Some(kind) = showcase_slot(&PARTOO_SHOWCASE, self.len, i)
        {
            return kind;
        }
        if i == 0 {
            // Conversations start with the consumer writing.
            return PKind::Text;
        }
        Rng::of(&[self.seed, SALT_KIND, i as u64]).weighted(self.partner.kinds())
    }

    fn sender(&self, i: usize, kind: PKind) -> PSender {
        let mut rng = Rng::of(&[self.seed, SALT_SENDER, i as u64]);
        let consumer_share = match kind {
            PKind::Event => return PSender::Metadata,
            _ if i == 0 => 1.0,
            PKind::Text => 0.55,
            PKind::Document => 0.4,
            PKind::Image | PKind::Video | PKind::Audio => 0.8,
            PKind::StoryReplyText
            | PKind::StoryReplyImage
            | PKind::StoryMention
            | PKind::Unsupported => 1.0,
        };
        if rng.chance(consumer_share) {
            PSender::Consumer
        } else if kind == PKind::Text && rng.chance(0.12) {
            PSender::User(None)
        } else if rng.chance(0.8) {
            PSender::User(Some(self.staff))
        } else {
            PSender::User(Some(rng.index(STAFF.len())))
        }
    }

    /// How many events come before message `i`: events alternate, solving first, so an even
    /// count makes the event at `i` a solving one.
    fn events_before(&self, i: usize) -> usize {
        (0..i).filter(|&j| self.kind(j) == PKind::Event).count()
    }

    fn consumer_name(&self) -> String {
        let (name, handle) = CONSUMERS[self.consumer % CONSUMERS.len()];
        match self.partner {
            Partner::Instagram => format!("{name} (@{handle})"),
            _ => name.to_owned(),
        }
    }

    fn media_url(&self, name: &str) -> String {
        format!("https://cdn.partoo.example/messages/{}/{name}", self.id)
    }

    /// Message `i` as JSON, as the seed drew it and then changed by `lifecycle`.
    pub(crate) fn message(&self, i: usize, lifecycle: &Lifecycle) -> Box<RawValue> {
        self.draw(i, lifecycle, |message| raw(message))
    }

    /// The parts of message `i` its lifecycle moves: its status and whether it is deleted.
    pub(crate) fn state(&self, i: usize, lifecycle: &Lifecycle) -> PartooState {
        self.draw(i, lifecycle, |m| PartooState {
            status: m.status,
            is_deleted: m.is_deleted,
            from_user: m.sender_type == "User",
        })
    }

    /// Draws message `i` and hands it to `f`. The draws happen in one fixed order whatever
    /// the lifecycle says, so a changed message differs only in what was changed.
    fn draw<T>(&self, i: usize, lifecycle: &Lifecycle, f: impl FnOnce(&Message<'_>) -> T) -> T {
        let kind = self.kind(i);
        let sender = self.sender(i, kind);
        let mut rng = Rng::of(&[self.seed, SALT_CONTENT, i as u64]);
        let id = lifecycle.id.unwrap_or(self.first_message_id + i as i64);
        let (consumer, handle) = CONSUMERS[self.consumer % CONSUMERS.len()];
        let business = &BUSINESSES[self.business % BUSINESSES.len()];
        // The strings the content borrows.
        let text: String;
        let url: String;
        let name: String;
        let story_id: String;
        let story_url: String;
        let content = match kind {
            PKind::Text => {
                let template = match sender {
                    PSender::Consumer => *rng.pick(CONSUMER_TEXTS),
                    PSender::User(None) => *rng.pick(AUTOMATED_TEXTS),
                    _ => *rng.pick(USER_TEXTS),
                };
                text = template.replace("{name}", first_name(consumer));
                Content::Text(&text)
            }
            PKind::Image => {
                let name = match rng.below(3) {
                    0 => format!("IMG_{:04}.jpg", rng.below(10_000)),
                    1 => format!("photo-{id}.jpg"),
                    _ => format!("screenshot-{id}.png"),
                };
                url = self.media_url(&name);
                Content::Text(&url)
            }
            PKind::Video | PKind::Audio | PKind::Document => {
                name = match kind {
                    PKind::Video => format!("video-{id}.mp4"),
                    PKind::Audio => format!("voice-{id}.ogg"),
                    _ => (*rng.pick(DOCUMENTS)).to_owned(),
                };
                let named = match kind {
                    PKind::Audio => rng.chance(0.2),
                    PKind::Video => rng.chance(0.6),
                    _ => true,
                };
                url = self.media_url(&name);
                Content::Media {
                    file_name: named.then_some(name.as_str()),
                    url: &url,
                }
            }
            PKind::StoryReplyText | PKind::StoryReplyImage => {
                let story = rng.range(3_000_000_000_000_000_000, 3_099_999_999_999_999_999);
                story_id = rng
                    .range(17_900_000_000_000_000, 17_999_999_999_999_999)
                    .to_string();
                story_url = format!(
                    "https://www.instagram.com/stories/{}/{story}/",
                    business.handle
                );
                let (content, content_type) = if kind == PKind::StoryReplyText {
                    (rng.pick_str(STORY_REPLIES), "Text")
                } else {
                    url = self.media_url(&format!("story-reply-{id}.jpg"));
                    (url.as_str(), "Image")
                };
                Content::Story {
                    content,
                    content_type,
                    id: &story_id,
                    url: &story_url,
                }
            }
            PKind::StoryMention => {
                let story = rng.range(3_000_000_000_000_000_000, 3_099_999_999_999_999_999);
                story_url = format!("https://www.instagram.com/stories/{handle}/{story}/");
                Content::Text(&story_url)
            }
            PKind::Unsupported => Content::Unsupported {
                kind: rng.pick_str(&["video", "audio", "unknown", "unknown"]),
            },
            PKind::Event => {
                let solving = self.events_before(i).is_multiple_of(2);
                Content::Text(if solving { "Solving" } else { "Reopening" })
            }
        };
        let external_id = (self.partner == Partner::Custom).then(|| format!("crm-msg-{id:06}"));
        let date = partoo_date(lifecycle.created.unwrap_or_else(|| self.time(i)));
        let drawn_deleted =
            sender == PSender::Consumer && self.partner == Partner::Instagram && rng.chance(0.03);
        let drawn_status = match sender {
            PSender::User(_) => rng.weighted(&[("Success", 94), ("Sending", 3), ("Failed", 3)]),
            _ => "Success",
        };
        let message = Message {
            content,
            content_type: match kind {
                PKind::Text | PKind::Event => "Text",
                PKind::Image => "Image",
                PKind::Video => "Video",
                PKind::Audio => "Audio",
                PKind::Document => "Document",
                PKind::StoryReplyText | PKind::StoryReplyImage => "IgStoryReply",
                PKind::StoryMention => "IgStoryMention",
                PKind::Unsupported => "Unsupported",
            },
            conversation_id: self.id,
            custom_channel: external_id
                .as_deref()
                .map(|external_message_id| MessageChannel {
                    external_message_id,
                }),
            date: &date,
            id,
            is_automated: sender == PSender::User(None),
            is_deleted: lifecycle.deleted.unwrap_or(drawn_deleted),
            sender_label: match sender {
                PSender::Consumer => Some(consumer),
                PSender::User(Some(staff)) => Some(STAFF[staff % STAFF.len()].0),
                PSender::User(None) | PSender::Metadata => None,
            },
            sender_type: match sender {
                PSender::Consumer => "Consumer",
                PSender::User(_) => "User",
                PSender::Metadata => "Metadata",
            },
            status: lifecycle.status.unwrap_or(drawn_status),
            user_id: match sender {
                PSender::User(Some(staff)) => Some(STAFF[staff % STAFF.len()].1),
                _ => None,
            },
        };
        f(&message)
    }

    /// The conversation as `GET /conversations` lists it, when it holds `len` messages (the
    /// drawn ones, then any appended), `last` is its newest message and `sent(i)` says
    /// whether message `i` was sent through the API (a message of the account's user, not
    /// one the seed drew).
    pub(crate) fn conversation(
        &self,
        len: usize,
        last: Option<&RawValue>,
        sent: impl Fn(usize) -> bool,
    ) -> Box<RawValue> {
        let business = &BUSINESSES[self.business % BUSINESSES.len()];
        let mut events = 0;
        let mut user_message = false;
        for i in 0..len {
            if sent(i) {
                user_message = true;
                continue;
            }
            let kind = self.kind(i);
            events += usize::from(kind == PKind::Event);
            user_message |= matches!(self.sender(i, kind), PSender::User(Some(_)));
        }
        let first = (len > 0).then(|| self.time(0));
        let created = partoo_date(first.map_or(self.timing.start, |t| t - 250_000));
        let first_date = first.map(partoo_date);
        let img = format!("https://cdn.partoo.example/consumers/{}.jpg", self.id);
        let external = format!("crm-conv-{}", self.custom_conversation);
        let consumer_name = self.consumer_name();
        raw(&Conversation {
            assigned_user_id: self.assigned.map(|s| STAFF[s % STAFF.len()].1),
            business: BusinessRef {
                city: business.city,
                country: "FR",
                formatted_address: business.address,
                id: business.id,
                name: business.name,
                zipcode: business.zipcode,
            },
            consumer_img: (self.consumer % 5 != 4).then_some(img.as_str()),
            consumer_name: &consumer_name,
            consumer_phone_number: self.phone.as_deref(),
            created_at: &created,
            custom_channel: (self.partner == Partner::Custom).then_some(ConversationChannel {
                external_conversation_id: &external,
            }),
            first_message_date: first_date.as_deref(),
            has_one_user_message: user_message,
            id: self.id,
            is_expired: self.closed,
            is_read: self.is_read,
            is_solved: events % 2 == 1,
            issues: if self.facebook_issue {
                &["facebook_no_page_linked"]
            } else {
                &[]
            },
            last_message: last,
            messaging_partner: self.partner.name(),
            status: if self.closed { "Closed" } else { "Open" },
        })
    }
}

/// The Partoo user every account's key belongs to (`GET /v2/users/me`), who sends what the
/// API is asked to send.
pub(crate) const ACCOUNT_USER_ID: &str = "5f3c2a1b9d8e7f6a5b4c3d2e";
/// Its first name.
pub(crate) const ACCOUNT_USER_FIRST_NAME: &str = "Camille";
/// Its last name.
pub(crate) const ACCOUNT_USER_LAST_NAME: &str = "Martin";
/// Its name as messages label it (`sender_label`).
const ACCOUNT_USER_LABEL: &str = "Camille Martin";

/// A message sent through `POST /messages`: what [`sent_message`] writes.
pub(crate) struct SentMessage<'a> {
    /// Its id.
    pub(crate) id: i64,
    /// Its conversation.
    pub(crate) conversation_id: i64,
    /// `Text`, `Image`, `Video`, `Audio` or `Document`.
    pub(crate) content_type: &'static str,
    /// The text, or the media URL.
    pub(crate) content: &'a str,
    /// When it was created, microseconds since the epoch.
    pub(crate) created: i64,
    /// `Success` or `Failed`.
    pub(crate) status: &'static str,
    /// Whether its conversation is on a custom channel (its messages carry an external id).
    pub(crate) custom_channel: bool,
}

/// A sent message as `GET /messages` serves it: a message of the account's user, shaped as
/// the generator's user messages (text as a string; an image's URL as a string; a video's,
/// an audio file's or a document's as `{file_name, url}`, the file name being the URL's
/// last path segment).
pub(crate) fn sent_message(sent: &SentMessage<'_>) -> Box<RawValue> {
    let content = match sent.content_type {
        "Video" | "Audio" | "Document" => Content::Media {
            file_name: last_segment(sent.content),
            url: sent.content,
        },
        _ => Content::Text(sent.content),
    };
    let external_id = sent
        .custom_channel
        .then(|| format!("crm-msg-{:06}", sent.id));
    let date = partoo_date(sent.created);
    raw(&Message {
        content,
        content_type: sent.content_type,
        conversation_id: sent.conversation_id,
        custom_channel: external_id
            .as_deref()
            .map(|external_message_id| MessageChannel {
                external_message_id,
            }),
        date: &date,
        id: sent.id,
        is_automated: false,
        is_deleted: false,
        sender_label: Some(ACCOUNT_USER_LABEL),
        sender_type: "User",
        status: sent.status,
        user_id: Some(ACCOUNT_USER_ID),
    })
}

/// The last segment of a URL's path (before any query or fragment), unless empty.
fn last_segment(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = rest.split(['?', '#']).next().unwrap_or(rest);
    // The host is not a path segment.
    let (_, path) = path.split_once('/')?;
    path.rsplit('/').next().filter(|s| !s.is_empty())
}

/// What a message's lifecycle can change, as the message shows it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartooState {
    /// `Success`, `Sending` or `Failed`.
    pub(crate) status: &'static str,
    /// Whether the consumer deleted it.
    pub(crate) is_deleted: bool,
    /// Whether a Partoo user (or an automation) sent it.
    pub(crate) from_user: bool,
}

/// A message of `GET /messages`, in Partoo's field order.
#[derive(Serialize)]
struct Message<'a> {
    content: Content<'a>,
    content_type: &'static str,
    conversation_id: i64,
    custom_channel: Option<MessageChannel<'a>>,
    date: &'a str,
    id: i64,
    is_automated: bool,
    is_deleted: bool,
    sender_label: Option<&'a str>,
    sender_type: &'static str,
    status: &'static str,
    user_id: Option<&'a str>,
}

/// A message's content, whose shape follows `content_type` (written beside it). Untagged on
/// the writing side only: each variant is one shape, chosen by the generator.
#[derive(Serialize)]
#[serde(untagged)]
enum Content<'a> {
    /// Text, Image and IgStoryMention content, and Metadata events.
    Text(&'a str),
    /// Video, Audio and Document content.
    Media {
        file_name: Option<&'a str>,
        url: &'a str,
    },
    /// IgStoryReply content.
    Story {
        content: &'a str,
        content_type: &'static str,
        id: &'a str,
        url: &'a str,
    },
    /// Unsupported content.
    Unsupported {
        #[serde(rename = "type")]
        kind: &'static str,
    },
}

#[derive(Serialize)]
struct MessageChannel<'a> {
    external_message_id: &'a str,
}

/// A conversation of `GET /conversations`, in Partoo's field order.
#[derive(Serialize)]
struct Conversation<'a> {
    assigned_user_id: Option<&'a str>,
    business: BusinessRef<'a>,
    consumer_img: Option<&'a str>,
    consumer_name: &'a str,
    consumer_phone_number: Option<&'a str>,
    created_at: &'a str,
    custom_channel: Option<ConversationChannel<'a>>,
    first_message_date: Option<&'a str>,
    has_one_user_message: bool,
    id: i64,
    is_expired: bool,
    is_read: bool,
    is_solved: bool,
    issues: &'a [&'a str],
    last_message: Option<&'a RawValue>,
    messaging_partner: &'a str,
    status: &'a str,
}

#[derive(Serialize)]
struct BusinessRef<'a> {
    city: &'a str,
    country: &'a str,
    formatted_address: &'a str,
    id: &'a str,
    name: &'a str,
    zipcode: &'a str,
}

#[derive(Serialize)]
struct ConversationChannel<'a> {
    external_conversation_id: &'a str,
}
