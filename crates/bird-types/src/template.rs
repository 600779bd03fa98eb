//! Message templates and their parameters.

use std::collections::BTreeMap;
use std::fmt;

use inbox_wire::{Extra, Str};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::parameter::{
    CarouselCardsValue, LineItemListValue, ProductListValue, ProductSectionsValue,
    SectionListValue, ShippingMethodListValue, TimeslotListValue, WhatsappProductItemsValue,
    WhatsappProductSectionsValue,
};
use crate::union::Union as _;

inbox_wire::wire_struct! {
    /// A template a message was sent from (`Template`).
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct Template {
        /// The template's platform name.
        name: opt Str = "name",
        /// The Studio project ID.
        project_id: opt Str = "projectId",
        /// The template version.
        version: opt Str = "version",
        /// The locale (BCP 47).
        locale: opt Str = "locale",
        /// Attachments.
        attachments: maybe Vec<TemplateAttachment> = "attachments",
        /// SMS link shortening options.
        short_links: maybe ShortLinks = "shortLinks",
        /// Deprecated by Bird in favour of `parameters`: variables by name.
        variables: maybe BTreeMap<String, String> = "variables",
        /// UTM parameters appended to links (1 to 8).
        utm_parameters: maybe Vec<UtmParameter> = "utmParameters",
        /// The values filled into the template.
        parameters: maybe Vec<TemplateParameter> = "parameters",
        /// Settings.
        settings: maybe TemplateSettings = "settings",
    }
}

inbox_wire::wire_struct! {
    /// An attachment of a template.
    #[derive(Debug, Clone, PartialEq)]
    pub struct TemplateAttachment {
        /// Where the file is.
        media_url: req Str = "mediaUrl",
        /// Its file name.
        filename: req Str = "filename",
        /// Whether it is shown inline.
        inline: opt bool = "inline",
    }
}

inbox_wire::wire_struct! {
    /// SMS link shortening options.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ShortLinks {
        /// Whether links are shortened.
        enabled: opt bool = "enabled",
        /// The shortening domain (`default`: the workspace's default domain).
        domain: opt Str = "domain",
    }
}

inbox_wire::open_enum! {
    /// A dynamic UTM value.
    pub enum UtmReference {
        /// The platform's name.
        PlatformName = "platform_name",
        /// The channel's name.
        ChannelName = "channel_name",
    }
}

inbox_wire::wire_struct! {
    /// A UTM parameter: a static `value` or a dynamic `reference` (Bird's schema allows exactly
    /// one of them).
    #[derive(Debug, Clone, PartialEq)]
    pub struct UtmParameter {
        /// The query-string name.
        key: req Str = "key",
        /// A static value.
        value: opt Str = "value",
        /// A dynamic value.
        reference: opt UtmReference = "reference",
    }
}

inbox_wire::wire_struct! {
    /// Template settings.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct TemplateSettings {
        /// WhatsApp marketing templates: whether MM Lite must not be used.
        disallow_mm_lite: maybe bool = "disallowMmLite",
    }
}

inbox_wire::open_enum! {
    /// The kind of a [`TemplateParameter`].
    pub enum ParameterType {
        /// A string.
        String = "string",
        /// A number.
        Number = "number",
        /// A boolean.
        Boolean = "boolean",
        /// A free-form object.
        Object = "object",
        /// Sections of reply actions.
        SectionList = "sectionList",
        /// Time slots.
        TimeslotList = "timeslotList",
        /// Sections of products.
        ProductSections = "productSections",
        /// Products.
        ProductList = "productList",
        /// Shipping methods (Apple Pay).
        ShippingMethodList = "shippingMethodList",
        /// Line items (Apple Pay).
        LineItemList = "lineItemList",
        /// WhatsApp product sections.
        WhatsappProductSections = "whatsappProductSections",
        /// WhatsApp products.
        WhatsappProductItems = "whatsappProductItems",
        /// WhatsApp carousel cards.
        CarouselCards = "carouselCards",
    }
}

tagged_union! {
    /// The `value` of a [`TemplateParameter`], by its `type`.
    ///
    /// Bird does not require `value`: a parameter without one is
    /// [`ParameterValue::Untyped`] with no content.
    pub enum ParameterValue: ParameterType, key "value" {
        /// `string`
        String(Str) = String @ "value",
        /// `number`, as the JSON number sent.
        Number(serde_json::Number) = Number @ "value",
        /// `boolean`
        Boolean(bool) = Boolean @ "value",
        /// `object`: free-form.
        Object(Extra) = Object @ "value",
        /// `sectionList`
        SectionList(SectionListValue) = SectionList @ "value",
        /// `timeslotList`
        TimeslotList(TimeslotListValue) = TimeslotList @ "value",
        /// `productSections`
        ProductSections(ProductSectionsValue) = ProductSections @ "value",
        /// `productList`
        ProductList(ProductListValue) = ProductList @ "value",
        /// `shippingMethodList`
        ShippingMethodList(ShippingMethodListValue) = ShippingMethodList @ "value",
        /// `lineItemList`
        LineItemList(LineItemListValue) = LineItemList @ "value",
        /// `whatsappProductSections`
        WhatsappProductSections(WhatsappProductSectionsValue) = WhatsappProductSections @ "value",
        /// `whatsappProductItems`
        WhatsappProductItems(WhatsappProductItemsValue) = WhatsappProductItems @ "value",
        /// `carouselCards`
        CarouselCards(CarouselCardsValue) = CarouselCards @ "value",
    }
}

/// A value filled into a template (`TemplateParameter`): `{"type", "key", "value"}`, decoded
/// by its `type`. An unknown kind, or a value that does not fit its kind, is kept as sent in
/// [`ParameterValue::Untyped`].
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateParameter {
    /// The name of the parameter in the template.
    pub key: Str,
    /// The value, by kind.
    pub value: ParameterValue,
    /// Keys besides `type`, `key` and `value`, as sent.
    pub extra: Extra,
}

impl TemplateParameter {
    /// A parameter with no other keys.
    pub fn new(key: impl Into<Str>, value: ParameterValue) -> Self {
        Self {
            key: key.into(),
            value,
            extra: Extra::new(),
        }
    }

    /// The `type` of this parameter.
    pub fn kind(&self) -> ParameterType {
        self.value.kind()
    }
}

impl Serialize for TemplateParameter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", &self.value.kind())?;
        map.serialize_entry("key", &self.key)?;
        self.value.write_content(&mut map)?;
        for (k, v) in &self.extra {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for TemplateParameter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TemplateParameter;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a template parameter object with a `type` and a `key`")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TemplateParameter, A::Error> {
                let mut key: Option<Str> = None;
                let (value, extra) =
                    crate::union::visit::<ParameterValue, A, _>(map, &["key"], |_, map| {
                        if key.is_some() {
                            return Err(de::Error::duplicate_field("key"));
                        }
                        key = Some(map.next_value()?);
                        Ok(())
                    })?;
                let key = key.ok_or_else(|| de::Error::missing_field("key"))?;
                Ok(TemplateParameter { key, value, extra })
            }
        }
        deserializer.deserialize_map(V)
    }
}
