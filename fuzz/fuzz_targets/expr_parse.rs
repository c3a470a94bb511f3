//! Fuzz the expression parser: any text parses or gives a positioned error, never a panic or a stack overflow
//! (however deep its parentheses or long its chains); what parses evaluates the same after a round trip through
//! its own text and through RON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tcpcraft::preset::expr::{Expr, ExprError, Scope};

/// Every name is bound, to a value derived from its spelling.
struct All;
impl Scope for All {
    fn lookup(&mut self, name: &str) -> Option<u32> {
        Some(name.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into())))
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Expr::parse(text) {
        Ok(e) => {
            let v = e.eval(&mut All).ok();
            assert!(v.is_some(), "every name is bound");
            let again = Expr::parse(e.text()).map(|x| x.eval(&mut All).ok());
            assert_eq!(again, Ok(v), "its own text parses to the same value");
            let ron_text = ron::to_string(&e).ok();
            let back = ron_text.as_deref().and_then(|t| ron::from_str::<Expr>(t).ok());
            assert_eq!(back.and_then(|b| b.eval(&mut All).ok()), v, "RON round trip");
        }
        Err(ExprError::Syntax { at, .. }) => assert!(at >= 1 && at <= text.chars().count() + 1, "{at}"),
        Err(_) => {}
    }
});
