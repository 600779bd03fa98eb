//! Message bodies: `{"type": KIND, KIND: {...}}`, decoded by their `type`.

use inbox_wire::Str;
use std::collections::BTreeMap;

use crate::action::Action;

inbox_wire::open_enum! {
    /// The `type` of a [`Body`] (`BodyTypes`).
    pub enum BodyType {
        /// Plain text.
        Text = "text",
        /// HTML (email).
        Html = "html",
        /// Images.
        Image = "image",
        /// Files.
        File = "file",
        /// A GIF.
        Gif = "gif",
        /// A location.
        Location = "location",
        /// A carousel of items.
        Carousel = "carousel",
        /// A list of items.
        List = "list",
        /// Sections of bodies.
        Section = "section",
        /// A one-time password.
        Authentication = "authentication",
        /// Listed by Bird, with no content schema: decoded as [`BodyContent::Untyped`].
        Template = "template",
        /// A permission request (see [`ActionBody`]).
        Action = "action",
    }
}

tagged_union! {
    /// The content of a [`Body`], by its `type`.
    pub enum BodyContent: BodyType, key {
        /// `text`
        Text(TextBody) = Text @ "text",
        /// `html`
        Html(HtmlBody) = Html @ "html",
        /// `image`
        Image(ImageBody) = Image @ "image",
        /// `file`
        File(FileBody) = File @ "file",
        /// `gif`
        Gif(GifBody) = Gif @ "gif",
        /// `location`
        Location(LocationBody) = Location @ "location",
        /// `carousel`
        Carousel(CarouselBody) = Carousel @ "carousel",
        /// `list`
        List(ListBody) = List @ "list",
        /// `section`
        Section(SectionBody) = Section @ "section",
        /// `authentication`
        Authentication(AuthenticationBody) = Authentication @ "authentication",
        /// `action`: the content sits under the key `action` (see [`ActionBody`]).
        Action(ActionBody) = Action @ "action",
    }
}

tagged_struct! {
    /// A message body (`MessageBody`), decoded by its `type`.
    ///
    /// An unknown `type` keeps its other keys in `extra`; a known `type` whose content is
    /// missing or does not fit its schema is kept as sent in [`BodyContent::Untyped`]. Neither
    /// fails the message.
    pub struct Body: BodyType {
        /// The body, by kind.
        content: BodyContent
    }
}

inbox_wire::wire_struct! {
    /// A `text` body.
    #[derive(Debug, Clone, PartialEq)]
    pub struct TextBody {
        /// The text.
        text: req Str = "text",
        /// Attachments (email).
        attachments: maybe Vec<TextAttachment> = "attachments",
        /// Buttons and quick replies.
        actions: maybe Vec<Action> = "actions",
        /// Channel-specific settings.
        metadata: opt Box<TextMetadata> = "metadata",
    }
}

inbox_wire::wire_struct! {
    /// An attachment of a `text` body.
    #[derive(Debug, Clone, PartialEq)]
    pub struct TextAttachment {
        /// Where the file is.
        media_url: req Str = "mediaUrl",
        /// Its file name.
        filename: req Str = "filename",
        /// Whether it is shown inline.
        inline: opt bool = "inline",
        /// Its content ID, for inline references.
        content_id: opt Str = "contentId",
    }
}

inbox_wire::wire_struct! {
    /// Channel-specific settings of a `text` body.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct TextMetadata {
        /// Email subject.
        subject: opt Str = "subject",
        /// Email headers.
        headers: opt BTreeMap<String, String> = "headers",
        /// WhatsApp settings.
        whatsapp: opt WhatsappMetadata = "whatsapp",
        /// LINE settings.
        line: opt LineMetadata = "line",
        /// Telegram settings.
        telegram: opt TelegramMetadata = "telegram",
        /// Apple Messages for Business settings.
        apple: opt AppleMetadata = "apple",
    }
}

inbox_wire::wire_struct! {
    /// WhatsApp settings of a `text` body.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct WhatsappMetadata {
        /// Whether WhatsApp shows a preview of the first URL.
        preview_url: opt bool = "previewUrl",
    }
}

inbox_wire::wire_struct! {
    /// LINE settings of a `text` body.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct LineMetadata {
        /// LINE emoji in the text.
        emoji: opt LineEmoji = "emoji",
    }
}

inbox_wire::wire_struct! {
    /// LINE emoji in a text.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct LineEmoji {
        /// The emoji.
        items: maybe Vec<LineEmojiItem> = "items",
    }
}

inbox_wire::wire_struct! {
    /// One LINE emoji in a text.
    #[derive(Debug, Clone, PartialEq)]
    pub struct LineEmojiItem {
        /// Position in the text.
        index: req i64 = "index",
        /// LINE product ID of the emoji set.
        product_id: req Str = "productId",
        /// LINE emoji ID.
        emoji_id: req Str = "emojiId",
        /// Length in the text (read-only).
        length: maybe i64 = "length",
    }
}

inbox_wire::open_enum! {
    /// How Telegram parses the text.
    pub enum TelegramParseMode {
        /// Markdown.
        Markdown = "Markdown",
        /// MarkdownV2.
        MarkdownV2 = "MarkdownV2",
    }
}

inbox_wire::wire_struct! {
    /// Telegram settings.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct TelegramMetadata {
        /// How Telegram parses the text.
        parse_mode: opt TelegramParseMode = "parseMode",
    }
}

inbox_wire::wire_struct! {
    /// Apple Messages for Business settings.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct AppleMetadata {
        /// Summary text.
        summary_text: opt Str = "summaryText",
        /// Whether an App Clip preview is shown.
        app_clip_preview: opt bool = "appClipPreview",
        /// The App Clip region.
        app_clip_region: opt Str = "appClipRegion",
    }
}

inbox_wire::wire_struct! {
    /// An `html` body (email). Bird requires `text` or `html`.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct HtmlBody {
        /// The plain-text part.
        text: opt Str = "text",
        /// The HTML part.
        html: opt Str = "html",
        /// Attachments.
        attachments: maybe Vec<HtmlAttachment> = "attachments",
        /// Buttons and quick replies.
        actions: maybe Vec<Action> = "actions",
        /// Email settings.
        metadata: opt Box<HtmlMetadata> = "metadata",
    }
}

inbox_wire::wire_struct! {
    /// An attachment of an `html` body: by URL (`mediaUrl`) or inline (`content` and
    /// `contentType`).
    #[derive(Debug, Clone, PartialEq)]
    pub struct HtmlAttachment {
        /// Where the file is.
        media_url: opt Str = "mediaUrl",
        /// Its file name.
        filename: req Str = "filename",
        /// Whether it is shown inline.
        inline: opt bool = "inline",
        /// Its content, inline.
        content: opt Str = "content",
        /// Its MIME type, for inline content.
        content_type: opt Str = "contentType",
        /// Its content ID, for inline references.
        content_id: opt Str = "contentId",
    }
}

inbox_wire::wire_struct! {
    /// Email settings of an `html` body.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct HtmlMetadata {
        /// Email subject.
        subject: opt Str = "subject",
        /// The From address.
        email_from: opt EmailFrom = "emailFrom",
        /// Email headers.
        headers: opt BTreeMap<String, String> = "headers",
        /// Whether the initial open is tracked.
        initial_open_tracking: opt bool = "initialOpenTracking",
        /// Whether clicks are tracked.
        click_tracking: opt bool = "clickTracking",
        /// Whether opens are tracked.
        open_tracking: opt bool = "openTracking",
    }
}

inbox_wire::wire_struct! {
    /// An email From address.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct EmailFrom {
        /// The user part of the address (`john.doe` in `john.doe@bird.com`).
        username: opt Str = "username",
        /// The display name.
        display_name: opt Str = "displayName",
    }
}

inbox_wire::wire_struct! {
    /// An `image` body.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ImageBody {
        /// A caption.
        text: opt Str = "text",
        /// The images.
        images: req Vec<Image> = "images",
        /// Channel-specific settings.
        metadata: opt Box<MediaMetadata> = "metadata",
        /// Buttons and quick replies.
        actions: maybe Vec<Action> = "actions",
    }
}

inbox_wire::wire_struct! {
    /// An image of an `image` body.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Image {
        /// Where the image is.
        media_url: req Str = "mediaUrl",
        /// Alternative text.
        alt_text: opt Str = "altText",
    }
}

inbox_wire::wire_struct! {
    /// Channel-specific settings of an `image` or `file` body.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct MediaMetadata {
        /// Email subject.
        subject: opt Str = "subject",
        /// Text for channels that cannot show the media.
        fallback_text: opt Str = "fallbackText",
        /// The story type (Instagram).
        story_type: opt Str = "storyType",
        /// Telegram settings.
        telegram: opt TelegramMetadata = "telegram",
    }
}

inbox_wire::wire_struct! {
    /// A `file` body.
    #[derive(Debug, Clone, PartialEq)]
    pub struct FileBody {
        /// A caption.
        text: opt Str = "text",
        /// The files.
        files: req Vec<FileItem> = "files",
        /// Channel-specific settings.
        metadata: opt Box<MediaMetadata> = "metadata",
        /// Buttons and quick replies.
        actions: maybe Vec<Action> = "actions",
    }
}

inbox_wire::wire_struct! {
    /// A file of a `file` body.
    #[derive(Debug, Clone, PartialEq)]
    pub struct FileItem {
        /// Where the file is.
        media_url: req Str = "mediaUrl",
        /// Its MIME type.
        content_type: req Str = "contentType",
        /// Its file name.
        filename: opt Str = "filename",
        /// Alternative text.
        alt_text: opt Str = "altText",
        /// File settings.
        metadata: opt FileItemMetadata = "metadata",
    }
}

inbox_wire::wire_struct! {
    /// Settings of one file.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct FileItemMetadata {
        /// Whether the file is animated (stickers).
        is_animated: opt bool = "isAnimated",
    }
}

inbox_wire::wire_struct! {
    /// A `gif` body.
    #[derive(Debug, Clone, PartialEq)]
    pub struct GifBody {
        /// A caption.
        text: opt Str = "text",
        /// Where the GIF is.
        media_url: req Str = "mediaUrl",
        /// Alternative text.
        alt_text: opt Str = "altText",
        /// Buttons and quick replies.
        actions: maybe Vec<Action> = "actions",
        /// Channel-specific settings.
        metadata: opt Box<GifMetadata> = "metadata",
    }
}

inbox_wire::wire_struct! {
    /// Channel-specific settings of a `gif` body.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct GifMetadata {
        /// Telegram settings.
        telegram: opt TelegramMetadata = "telegram",
    }
}

inbox_wire::wire_struct! {
    /// A `location` body.
    #[derive(Debug, Clone, PartialEq)]
    pub struct LocationBody {
        /// Where.
        coordinates: req Coordinates = "coordinates",
        /// The place's address and label.
        location: opt Place = "location",
    }
}

inbox_wire::wire_struct! {
    /// Coordinates, as the JSON numbers sent (so that `52` stays `52`, not `52.0`).
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct Coordinates {
        /// Latitude, -90 to 90.
        latitude: opt serde_json::Number = "latitude",
        /// Longitude, -180 to 180.
        longitude: opt serde_json::Number = "longitude",
    }
}

impl Coordinates {
    /// Latitude and longitude as floats, when both are present.
    pub fn lat_lon(&self) -> Option<(f64, f64)> {
        let lat = self.latitude.as_ref()?.as_f64()?;
        let lon = self.longitude.as_ref()?.as_f64()?;
        Some((lat, lon))
    }
}

inbox_wire::wire_struct! {
    /// A place's address and label.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct Place {
        /// The address.
        address: opt Str = "address",
        /// A label.
        label: opt Str = "label",
    }
}

inbox_wire::wire_struct! {
    /// A `carousel` body.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct CarouselBody {
        /// Text above the carousel.
        text: opt Str = "text",
        /// The cards (required and nullable: `None` is `null`).
        items: null Vec<Item> = "items",
    }
}

inbox_wire::wire_struct! {
    /// A card of a carousel or an item of a list (`Items`).
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct Item {
        /// The title.
        title: opt Str = "title",
        /// An image.
        media_url: maybe Str = "mediaUrl",
        /// Alternative text.
        alt_text: opt Str = "altText",
        /// Buttons and quick replies.
        actions: maybe Vec<Action> = "actions",
    }
}

inbox_wire::wire_struct! {
    /// A `list` body.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ListBody {
        /// The title.
        title: opt Str = "title",
        /// The text.
        text: req Str = "text",
        /// Alternative text.
        alt_text: opt Str = "altText",
        /// The items.
        items: maybe Vec<Item> = "items",
        /// Buttons and quick replies.
        actions: maybe Vec<Action> = "actions",
        /// Channel-specific settings.
        metadata: opt Box<ListMetadata> = "metadata",
    }
}

inbox_wire::wire_struct! {
    /// Channel-specific settings of a `list` body.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ListMetadata {
        /// The button that opens the list.
        button: opt ListButton = "button",
        /// The message shown when an item is picked (Apple Messages for Business).
        reply_message: opt ListReplyMessage = "replyMessage",
    }
}

inbox_wire::wire_struct! {
    /// The button that opens a list.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ListButton {
        /// Its label.
        label: opt Str = "label",
    }
}

inbox_wire::wire_struct! {
    /// The message shown when a list item is picked.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ListReplyMessage {
        /// Its title.
        title: opt Str = "title",
        /// Its text.
        text: opt Str = "text",
    }
}

inbox_wire::wire_struct! {
    /// A `section` body: bodies in sections. Its items are bodies of type `text`, `image`,
    /// `file`, `gif`, `location`, `carousel`, `list`, or `section` (one level deep).
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct SectionBody {
        /// The bodies.
        items: opt Vec<Body> = "items",
        /// Free-form settings.
        configurations: opt BTreeMap<String, String> = "configurations",
    }
}

inbox_wire::wire_struct! {
    /// An `authentication` body.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct AuthenticationBody {
        /// The one-time password settings.
        otp: opt Otp = "otp",
    }
}

inbox_wire::wire_struct! {
    /// One-time password settings.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Otp {
        /// Whether a security disclaimer is added.
        disclaimer: req bool = "disclaimer",
        /// Seconds until the password expires (1 to 90).
        expiration_time: maybe i64 = "expirationTime",
        /// Buttons (e.g. copy code).
        actions: maybe Vec<Action> = "actions",
    }
}

inbox_wire::open_enum! {
    /// The kind of an [`ActionBody`].
    pub enum ActionBodyType {
        /// A permission request.
        PermissionRequest = "permission_request",
    }
}

inbox_wire::open_enum! {
    /// What a permission request asks for.
    pub enum PermissionResource {
        /// Calling the recipient.
        Call = "call",
    }
}

inbox_wire::wire_struct! {
    /// The content of an `action` body: `{"type":"action","action":{"type":"permission_request",
    /// "permission_request":{"resource":"call"}}}`.
    ///
    /// Bird's schema (`TypeAction`) cannot validate as written: the body's discriminator is
    /// `action`, while the schema's `type` enum is `permission_request`. This crate reads the
    /// schema as the content under the `action` key, the way every other body kind nests its
    /// content under its own name; content that does not fit is kept raw.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ActionBody {
        /// The kind of action.
        action_type: opt ActionBodyType = "type",
        /// The permission asked for.
        permission_request: opt PermissionRequest = "permission_request",
    }
}

inbox_wire::wire_struct! {
    /// A permission request.
    #[derive(Debug, Clone, PartialEq)]
    pub struct PermissionRequest {
        /// What is asked for.
        resource: req PermissionResource = "resource",
    }
}

plain_content!(
    TextBody,
    HtmlBody,
    ImageBody,
    FileBody,
    GifBody,
    LocationBody,
    CarouselBody,
    ListBody,
    SectionBody,
    AuthenticationBody,
    ActionBody,
);
