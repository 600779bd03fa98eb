//! Who sends and receives: participants, recipients and inboxes.

use inbox_wire::Str;

inbox_wire::open_enum! {
    /// What a participant is (`ParticipantType`). The main ones are `user`, `contact` and
    /// `agent`; the others are system participants.
    pub enum ParticipantType {
        /// A user of the Bird workspace.
        User = "user",
        /// One of the workspace's customers.
        Contact = "contact",
        /// A customer service agent.
        Agent = "agent",
        /// A flow (automation).
        Flow = "flow",
        /// A bot.
        Bot = "bot",
        /// An access key (an API integration).
        AccessKey = "accessKey",
        /// A channel.
        Channel = "channel",
        /// A connector.
        Connector = "connector",
        /// A collaboration automation.
        CollaborationAutomation = "collaborationAutomation",
    }
}

inbox_wire::open_enum! {
    /// A participant's status in the conversation (documented default: `active`).
    pub enum ParticipantStatus {
        /// Pending approval.
        Pending = "pending",
        /// Pending acceptance by the participant.
        Invited = "invited",
        /// Can send and receive messages.
        Active = "active",
    }
}

inbox_wire::open_enum! {
    /// Which email header a recipient is in: `to`, `cc` or `bcc`. Also the items of a
    /// message's `receiverTypes`.
    pub enum RecipientType {
        /// The "To" header.
        To = "to",
        /// The "CC" header.
        Cc = "cc",
        /// The "BCC" header.
        Bcc = "bcc",
    }
}

inbox_wire::open_enum! {
    /// Who owns an inbox.
    pub enum InboxOwnerType {
        /// A user.
        User = "user",
        /// A group.
        Group = "group",
    }
}

inbox_wire::open_enum! {
    /// What kind of inbox it is.
    pub enum InboxType {
        /// A personal inbox.
        Personal = "personal",
        /// A shared inbox.
        Shared = "shared",
        /// A support inbox.
        Support = "support",
    }
}

inbox_wire::wire_struct! {
    /// A participant who can send and receive messages in a conversation
    /// (`ConversationParticipant`): a message's `sender`, a conversation's featured and
    /// initiating participants.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Participant {
        /// Participant ID; what it refers to depends on `type` (a user ID, a contact ID, an
        /// access key ID, ...).
        id: req Str = "id",
        /// The participant's name.
        display_name: opt Str = "displayName",
        /// URL of the participant's avatar (Bird sends `""` when there is none).
        avatar_url: opt Str = "avatarUrl",
        /// The contact's identifiers, for contact participants.
        contact: opt ParticipantContact = "contact",
        /// What the participant is.
        participant_type: req ParticipantType = "type",
        /// The participant's status in the conversation.
        status: opt ParticipantStatus = "status",
    }
}

inbox_wire::wire_struct! {
    /// A contact participant's identifiers on the channel.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ParticipantContact {
        /// Identifier key on the channel, e.g. `emailaddress` or `phonenumber`.
        identifier_key: opt Str = "identifierKey",
        /// Identifier value, e.g. an email address or a phone number.
        identifier_value: opt Str = "identifierValue",
        /// The contact's address on the platform.
        platform_address: opt Str = "platformAddress",
        /// An expression that picks the platform address dynamically (advanced sending).
        platform_address_selector: opt Str = "platformAddressSelector",
    }
}

inbox_wire::wire_struct! {
    /// A participant who receives a message (`MessageRecipient`).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Recipient {
        /// Participant ID.
        id: req Str = "id",
        /// Which email header the recipient is in.
        recipient_type: req RecipientType = "type",
        /// Identifier key on the channel, e.g. `emailaddress`.
        identifier_key: opt Str = "identifierKey",
        /// Identifier value, e.g. an email address.
        identifier_value: opt Str = "identifierValue",
        /// The recipient's address on the platform.
        platform_address: opt Str = "platformAddress",
        /// An expression that picks the platform address dynamically.
        platform_address_selector: opt Str = "platformAddressSelector",
        /// The contact's name, when known.
        contact_annotation: opt ContactAnnotation = "contactAnnotation",
        /// Whether the recipient is the inbox.
        is_inbox: opt bool = "isInbox",
    }
}

inbox_wire::wire_struct! {
    /// A recipient's contact name.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ContactAnnotation {
        /// Contact name (nullable: `Some(None)` is an explicit `null`).
        name: maybe Str = "name",
    }
}

inbox_wire::wire_struct! {
    /// The inbox a message belongs to (`InboxRef`).
    #[derive(Debug, Clone, PartialEq)]
    pub struct InboxRef {
        /// The inbox ID (a UUID).
        id: req Str = "id",
        /// The inbox's identifier inside the workspace (the user part of an email address).
        identifier: req Str = "identifier",
        /// The ID of the inbox's owner (a UUID).
        owner_id: req Str = "ownerId",
        /// What owns the inbox.
        owner_type: req InboxOwnerType = "ownerType",
        /// What kind of inbox it is.
        inbox_type: req InboxType = "type",
    }
}
