//! Actions attached to a body (buttons, quick replies, ...): `{"type": KIND, KIND: {...}}`.

use inbox_wire::{Extra, Str};

inbox_wire::open_enum! {
    /// The kind of an [`Action`].
    pub enum ActionType {
        /// Opens a link.
        Link = "link",
        /// A quick reply.
        Reply = "reply",
        /// Asks for the recipient's location.
        LocationRequest = "locationRequest",
        /// A purchase.
        Buy = "buy",
        /// Sends a payload back.
        Postback = "postback",
    }
}

tagged_union! {
    /// The content of an [`Action`], by its `type`.
    pub enum ActionContent: ActionType, key {
        /// `link`
        Link(LinkAction) = Link @ "link",
        /// `reply`
        Reply(ReplyAction) = Reply @ "reply",
        /// `locationRequest`: its content may be absent (`None`), `null` (`Some(None)`) or an
        /// object.
        LocationRequest(Option<Option<LocationRequestAction>>) = LocationRequest @ "locationRequest",
        /// `buy`
        Buy(BuyAction) = Buy @ "buy",
        /// `postback`
        Postback(PostbackAction) = Postback @ "postback",
    }
}

tagged_struct! {
    /// An action on a body, an item or a one-time password (`Action`), decoded by its `type`.
    /// An unknown kind, or content that does not fit, is kept as sent in
    /// [`ActionContent::Untyped`].
    pub struct Action: ActionType {
        /// The action, by kind.
        content: ActionContent
    }
}

inbox_wire::wire_struct! {
    /// A `link` action.
    #[derive(Debug, Clone, PartialEq)]
    pub struct LinkAction {
        /// The button text.
        text: req Str = "text",
        /// The URL: an absolute URI, or a `{{placeholder}}` template.
        url: req Str = "url",
    }
}

inbox_wire::wire_struct! {
    /// A `reply` action (a quick reply).
    #[derive(Debug, Clone, PartialEq)]
    pub struct ReplyAction {
        /// The reply text.
        text: req Str = "text",
        /// An image for the reply.
        image_url: opt Str = "imageUrl",
        /// Free-form metadata.
        metadata: opt Extra = "metadata",
    }
}

inbox_wire::wire_struct! {
    /// A `locationRequest` action.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct LocationRequestAction {
        /// The button text (Bird's default: "Send location").
        text: opt Str = "text",
    }
}

inbox_wire::wire_struct! {
    /// A `buy` action.
    #[derive(Debug, Clone, PartialEq)]
    pub struct BuyAction {
        /// The button text.
        text: req Str = "text",
        /// The amount in cents.
        amount_cents: req i64 = "amountCents",
        /// The ISO 4217 currency code.
        currency: req Str = "currency",
    }
}

inbox_wire::wire_struct! {
    /// A `postback` action.
    #[derive(Debug, Clone, PartialEq)]
    pub struct PostbackAction {
        /// The button text.
        text: req Str = "text",
        /// The payload sent back when the button is used.
        payload: opt Str = "payload",
        /// An image for the button.
        image_url: opt Str = "imageUrl",
        /// Free-form metadata.
        metadata: opt Extra = "metadata",
    }
}

plain_content!(LinkAction, ReplyAction, BuyAction, PostbackAction);
