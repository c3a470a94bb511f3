//! Tooltips for header fields and flags: `field.<wire::fields key>` and `flag.<name>` in `assets/i18n/`.

/// The tooltip for a field key (empty when there is none).
pub fn field(key: &str) -> &'static str {
    crate::i18n::get(&format!("field.{key}")).unwrap_or("")
}

/// The tooltip for a flag name.
pub fn flag(name: &str) -> &'static str {
    crate::i18n::get(&format!("flag.{name}")).unwrap_or("")
}
