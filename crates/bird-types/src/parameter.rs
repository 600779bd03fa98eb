//! The structured values of template parameters: sections, time slots, products, Apple Pay
//! items, WhatsApp products and carousel cards.

use inbox_wire::{Str, Timestamp};

inbox_wire::wire_struct! {
    /// The value of a `sectionList` parameter.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct SectionListValue {
        /// The sections (required and nullable: `None` is `null`).
        sections: null Vec<ListSection> = "sections",
    }
}

inbox_wire::wire_struct! {
    /// A section of reply actions.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ListSection {
        /// The section ID.
        id: maybe Str = "id",
        /// Whether several items may be picked.
        multiple_selection: opt bool = "multipleSelection",
        /// The title.
        title: req Str = "title",
        /// The items.
        items: req Vec<ReplyActionItem> = "items",
    }
}

inbox_wire::open_enum! {
    /// The `type` of a [`ReplyActionItem`].
    pub enum ReplyActionItemType {
        /// A reply action.
        ReplyAction = "reply-action",
    }
}

inbox_wire::wire_struct! {
    /// An item of a section (`ReplyAction`).
    #[derive(Debug, Clone, PartialEq)]
    pub struct ReplyActionItem {
        /// The item ID.
        id: opt Str = "id",
        /// Always `reply-action`.
        item_type: req ReplyActionItemType = "type",
        /// A reference.
        reference: opt Str = "reference",
        /// A role.
        role: opt Str = "role",
        /// Whether the item is hidden.
        hidden: opt bool = "hidden",
        /// The reply.
        reply_action: req ReplyActionContent = "replyAction",
    }
}

inbox_wire::wire_struct! {
    /// The reply of a [`ReplyActionItem`].
    #[derive(Debug, Clone, PartialEq)]
    pub struct ReplyActionContent {
        /// The text.
        text: req Str = "text",
        /// An image.
        image_url: opt Str = "imageUrl",
        /// The payload sent back when picked.
        payload: opt Str = "payload",
        /// A subtitle.
        sub_title: opt Str = "subTitle",
    }
}

inbox_wire::wire_struct! {
    /// The value of a `timeslotList` parameter.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct TimeslotListValue {
        /// The time slots.
        timeslots: req Vec<Timeslot> = "timeslots",
    }
}

inbox_wire::wire_struct! {
    /// A time slot.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Timeslot {
        /// The slot ID.
        id: maybe Str = "id",
        /// When it starts.
        start_time: req Timestamp = "startTime",
        /// How long it lasts, as the JSON number sent.
        duration: req serde_json::Number = "duration",
    }
}

inbox_wire::wire_struct! {
    /// The value of a `productSections` parameter.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ProductSectionsValue {
        /// The sections.
        product_sections: req Vec<ProductSection> = "productSections",
    }
}

inbox_wire::wire_struct! {
    /// A section of products.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ProductSection {
        /// The title (1 to 24 characters).
        title: req Str = "title",
        /// The products.
        products: req Vec<Product> = "products",
    }
}

inbox_wire::wire_struct! {
    /// A product.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Product {
        /// The product's ID in the catalogue.
        external_product_id: req Str = "externalProductId",
        /// Its price, as text.
        amount: opt Str = "amount",
        /// A description.
        text: opt Str = "text",
    }
}

inbox_wire::wire_struct! {
    /// The value of a `productList` parameter.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ProductListValue {
        /// The products.
        products: req Vec<ProductListItem> = "products",
    }
}

inbox_wire::open_enum! {
    /// The `type` of a [`ProductListItem`].
    pub enum ProductListItemType {
        /// A product.
        Product = "product",
    }
}

inbox_wire::wire_struct! {
    /// An item of a product list.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ProductListItem {
        /// Always `product`.
        item_type: req ProductListItemType = "type",
        /// The product.
        product: req Product = "product",
    }
}

inbox_wire::wire_struct! {
    /// The value of a `shippingMethodList` parameter (Apple Pay).
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ShippingMethodListValue {
        /// The shipping methods (required and nullable: `None` is `null`).
        shipping_methods: null Vec<ShippingMethod> = "shippingMethods",
    }
}

inbox_wire::wire_struct! {
    /// A shipping method (Apple Pay).
    #[derive(Debug, Clone, PartialEq)]
    pub struct ShippingMethod {
        /// Its price, as text.
        amount: req Str = "amount",
        /// Its label.
        label: req Str = "label",
        /// Its identifier.
        identifier: req Str = "identifier",
        /// A description.
        detail: req Str = "detail",
    }
}

inbox_wire::wire_struct! {
    /// The value of a `lineItemList` parameter (Apple Pay).
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct LineItemListValue {
        /// The line items (required and nullable: `None` is `null`).
        line_items: null Vec<LineItem> = "lineItems",
    }
}

inbox_wire::open_enum! {
    /// Whether a line item's amount is final.
    pub enum LineItemType {
        /// Not final yet.
        Pending = "pending",
        /// Final.
        Final = "final",
    }
}

inbox_wire::wire_struct! {
    /// A line item (Apple Pay).
    #[derive(Debug, Clone, PartialEq)]
    pub struct LineItem {
        /// Its price, as text.
        amount: req Str = "amount",
        /// Its label.
        text: req Str = "text",
        /// Whether the amount is final.
        item_type: opt LineItemType = "type",
    }
}

inbox_wire::wire_struct! {
    /// The value of a `whatsappProductSections` parameter.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct WhatsappProductSectionsValue {
        /// The sections.
        sections: req Vec<WhatsappProductSection> = "sections",
    }
}

inbox_wire::open_enum! {
    /// The `type` of a [`WhatsappProductSection`].
    pub enum WhatsappProductSectionType {
        /// A WhatsApp product section.
        WhatsappProductSection = "whatsapp-product-section",
    }
}

inbox_wire::wire_struct! {
    /// A WhatsApp product section.
    #[derive(Debug, Clone, PartialEq)]
    pub struct WhatsappProductSection {
        /// The section ID.
        id: opt Str = "id",
        /// Always `whatsapp-product-section`.
        section_type: req WhatsappProductSectionType = "type",
        /// A reference.
        reference: opt Str = "reference",
        /// A role.
        role: opt Str = "role",
        /// Whether the section is hidden.
        hidden: opt bool = "hidden",
        /// The section.
        whatsapp_product_section: req WhatsappProductSectionContent = "whatsappProductSection",
    }
}

inbox_wire::wire_struct! {
    /// The content of a [`WhatsappProductSection`].
    #[derive(Debug, Clone, PartialEq)]
    pub struct WhatsappProductSectionContent {
        /// The title (1 to 24 characters).
        title: req Str = "title",
        /// The products.
        products: req Vec<WhatsappProductItem> = "products",
    }
}

inbox_wire::wire_struct! {
    /// The value of a `whatsappProductItems` parameter.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct WhatsappProductItemsValue {
        /// The products.
        products: req Vec<WhatsappProductItem> = "products",
    }
}

inbox_wire::open_enum! {
    /// The `type` of a [`WhatsappProductItem`].
    pub enum WhatsappProductItemType {
        /// A WhatsApp product item.
        WhatsappProductItem = "whatsapp-product-item",
    }
}

inbox_wire::wire_struct! {
    /// A WhatsApp product.
    #[derive(Debug, Clone, PartialEq)]
    pub struct WhatsappProductItem {
        /// The item ID.
        id: opt Str = "id",
        /// Always `whatsapp-product-item`.
        item_type: req WhatsappProductItemType = "type",
        /// A reference.
        reference: opt Str = "reference",
        /// A role.
        role: opt Str = "role",
        /// Whether the item is hidden.
        hidden: opt bool = "hidden",
        /// The product.
        whatsapp_product_item: req WhatsappProductItemContent = "whatsappProductItem",
    }
}

inbox_wire::wire_struct! {
    /// The content of a [`WhatsappProductItem`].
    #[derive(Debug, Clone, PartialEq)]
    pub struct WhatsappProductItemContent {
        /// The product's ID in the catalogue.
        external_product_id: req Str = "externalProductId",
    }
}

inbox_wire::wire_struct! {
    /// The value of a `carouselCards` parameter.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct CarouselCardsValue {
        /// The cards.
        cards: req Vec<CarouselCard> = "cards",
    }
}

inbox_wire::open_enum! {
    /// The `type` of a [`CarouselCard`].
    pub enum CarouselCardType {
        /// A WhatsApp carousel card.
        WhatsappCarouselCard = "whatsapp-carousel-card",
    }
}

inbox_wire::wire_struct! {
    /// A WhatsApp carousel card (`WhatsappCarouselCard`).
    #[derive(Debug, Clone, PartialEq)]
    pub struct CarouselCard {
        /// The card ID.
        id: opt Str = "id",
        /// Always `whatsapp-carousel-card`.
        card_type: req CarouselCardType = "type",
        /// A reference.
        reference: opt Str = "reference",
        /// A role.
        role: opt Str = "role",
        /// Whether the card is hidden.
        hidden: opt bool = "hidden",
        /// The card.
        whatsapp_carousel_card: req CarouselCardContent = "whatsappCarouselCard",
    }
}

inbox_wire::wire_struct! {
    /// The content of a [`CarouselCard`].
    #[derive(Debug, Clone, PartialEq)]
    pub struct CarouselCardContent {
        /// An image or a file on top.
        header: req CardHeader = "header",
        /// The text.
        body: req CardBody = "body",
        /// The card's button (exactly one).
        actions: req Vec<CardAction> = "actions",
    }
}

inbox_wire::open_enum! {
    /// The `type` of a [`CardHeader`].
    pub enum CardHeaderType {
        /// An image.
        Image = "image",
        /// A file.
        File = "file",
    }
}

tagged_union! {
    /// The content of a [`CardHeader`], by its `type`.
    pub enum CardHeaderContent: CardHeaderType, key {
        /// `image`
        Image(CardImage) = Image @ "image",
        /// `file`
        File(CardFile) = File @ "file",
    }
}

tagged_struct! {
    /// The header of a carousel card: `{"type":"image","image":{...}}` or
    /// `{"type":"file","file":{...}}`.
    pub struct CardHeader: CardHeaderType {
        /// The header, by kind.
        content: CardHeaderContent
    }
}

inbox_wire::wire_struct! {
    /// An image header.
    #[derive(Debug, Clone, PartialEq)]
    pub struct CardImage {
        /// Where the image is.
        media_url: req Str = "mediaUrl",
        /// Alternative text.
        alt_text: opt Str = "altText",
    }
}

inbox_wire::wire_struct! {
    /// A file header.
    #[derive(Debug, Clone, PartialEq)]
    pub struct CardFile {
        /// Where the file is.
        media_url: req Str = "mediaUrl",
        /// Its MIME type.
        content_type: opt Str = "contentType",
    }
}

plain_content!(CardImage, CardFile);

inbox_wire::open_enum! {
    /// The `type` of a [`CardBody`].
    pub enum CardBodyType {
        /// Text.
        Text = "text",
    }
}

inbox_wire::wire_struct! {
    /// The text of a carousel card.
    #[derive(Debug, Clone, PartialEq)]
    pub struct CardBody {
        /// Always `text`.
        body_type: req CardBodyType = "type",
        /// The text.
        text: req CardText = "text",
    }
}

inbox_wire::wire_struct! {
    /// A carousel card's text.
    #[derive(Debug, Clone, PartialEq)]
    pub struct CardText {
        /// The text.
        text: req Str = "text",
    }
}

inbox_wire::open_enum! {
    /// The `type` of a [`CardAction`].
    pub enum CardActionType {
        /// A link.
        LinkAction = "link-action",
    }
}

inbox_wire::wire_struct! {
    /// A carousel card's button.
    #[derive(Debug, Clone, PartialEq)]
    pub struct CardAction {
        /// Always `link-action`.
        action_type: req CardActionType = "type",
        /// The link.
        link_action: req CardLink = "linkAction",
    }
}

inbox_wire::wire_struct! {
    /// A carousel card's link.
    #[derive(Debug, Clone, PartialEq)]
    pub struct CardLink {
        /// The button text.
        text: req Str = "text",
        /// The URL.
        url: req Str = "url",
    }
}

plain_content!(
    SectionListValue,
    TimeslotListValue,
    ProductSectionsValue,
    ProductListValue,
    ShippingMethodListValue,
    LineItemListValue,
    WhatsappProductSectionsValue,
    WhatsappProductItemsValue,
    CarouselCardsValue,
);
