//! Tooltips for header fields and flags: `field.<wire::fields key>` and `flag.<name>` in `assets/i18n/`.

/// The tooltip for a field key (empty when there is none).
pub fn field(key: &str) -> &'static str {
    crate::i18n::get(&format!("field.{key}")).unwrap_or("")
}

/// The tooltip for a flag name.
pub fn flag(name: &str) -> &'static str {
    crate::i18n::get(&format!("flag.{name}")).unwrap_or("")
}

/// The tooltip for a TCP option (`option.<kind>`: what it is for, with its RFC).
pub fn option(o: &crate::wire::TcpOption) -> &'static str {
    use crate::wire::TcpOption as O;
    let key = match o {
        O::Eol => "option.eol",
        O::Nop => "option.nop",
        O::Mss(_) => "option.mss",
        O::WindowScale(_) => "option.wscale",
        O::SackPermitted => "option.sack_perm",
        O::Sack(_) => "option.sack",
        O::Timestamps { .. } => "option.timestamps",
        O::FastOpen(_) => "option.fastopen",
        O::Raw { .. } => "option.raw",
    };
    crate::i18n::get(key).unwrap_or("")
}
