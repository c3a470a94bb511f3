//! The tiny, total expression language of preset templates: unsigned integers, names bound from earlier replies
//! (`peer.seq`), our own state (`isn`, `next`), `random`, `+ - *` with wrapping u32 arithmetic, and parentheses.
//! Parsing checks the syntax and the names; evaluation cannot fail except for a name not bound yet.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::limits::EXPR_MAX_DEPTH;

/// A parsed expression, kept with its source text (what presets store and the editor shows).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expr {
    text: String,
    ast: Node,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Num(u32),
    Name(String),
    /// `first op x op y …`, all of one precedence level, evaluated left to right. Kept flat, so a long chain
    /// (`1+1+…+1`) is a long list rather than a deep tree that recursion (walk, eval, drop) would overflow on.
    Chain(Box<Node>, Vec<(Op, Node)>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
}

/// What is wrong with an expression.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ExprError {
    /// The text does not parse.
    #[error("'{}': {reason} at character {at}", shorten(text))]
    Syntax {
        /// The expression.
        text: String,
        /// What was expected.
        reason: String,
        /// 1-based character position.
        at: usize,
    },
    /// A name that the language does not know.
    #[error("'{0}' is not a known name (known: isn, next, random, sport, dport, NAME.seq, NAME.ack, NAME.len, NAME.next, NAME.win, NAME.isn)")]
    UnknownName(String),
    /// A name of a reply that has not been bound (no earlier `Expect` bound it).
    #[error("'{0}' is not bound yet: no earlier Expect step binds '{1}'")]
    Unbound(String, String),
}

/// An expression as quoted in errors: whole when short, else its start and length (a hostile 1 MB expression
/// would otherwise fill the screen).
fn shorten(text: &str) -> String {
    const SHOWN: usize = 40;
    // Control characters (a NUL, a newline) are shown escaped.
    let shown = |c: char| if c.is_control() { c.escape_debug().to_string() } else { c.to_string() };
    let n = text.chars().count();
    if n <= SHOWN + 20 {
        return text.chars().map(shown).collect();
    }
    let head: String = text.chars().take(SHOWN).map(shown).collect();
    format!("{head}… ({n} characters)")
}

/// Fields a bound reply offers, as `NAME.field`.
pub const REPLY_FIELDS: [&str; 8] = ["seq", "ack", "len", "next", "win", "isn", "sport", "dport"];

/// The value of one of [`REPLY_FIELDS`] of a bound reply; `isn` is the peer's ISN when known, else the reply's seq.
pub fn reply_field(s: &crate::wire::Segment, field: &str, peer_isn: Option<u32>) -> Option<u32> {
    let len = s.payload.len();
    Some(match field {
        "seq" => s.tcp.seq,
        "ack" => s.tcp.ack,
        "len" => u32::try_from(len).ok()?,
        "next" => crate::wire::seq::next_seq(s.tcp.seq, s.tcp.flags, len),
        "win" => s.tcp.window.into(),
        "isn" => peer_isn.unwrap_or(s.tcp.seq),
        "sport" => s.tcp.sport.into(),
        "dport" => s.tcp.dport.into(),
        _ => return None,
    })
}
/// Names of our own state.
pub const OWN_NAMES: [&str; 5] = ["isn", "next", "random", "sport", "dport"];

/// Resolves names while evaluating.
pub trait Scope {
    /// The value of `name`, or `None` when it is not bound.
    fn lookup(&mut self, name: &str) -> Option<u32>;
}

impl Expr {
    /// Parses `text`, checking the syntax and that every name is of a known shape.
    pub fn parse(text: &str) -> Result<Expr, ExprError> {
        let tokens = tokenize(text)?;
        let mut p = Parser { text, tokens, pos: 0, depth: 0 };
        let ast = p.sum()?;
        if let Some((at, _)) = p.tokens.get(p.pos) {
            return Err(p.err("unexpected text after the expression", *at));
        }
        let e = Expr { text: text.trim().to_string(), ast };
        for n in e.names() {
            check_name(&n)?;
        }
        Ok(e)
    }

    /// An expression that is just a number.
    pub fn num(v: u32) -> Expr {
        Expr { text: v.to_string(), ast: Node::Num(v) }
    }

    /// The source text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Every name the expression uses.
    pub fn names(&self) -> Vec<String> {
        fn walk(n: &Node, out: &mut Vec<String>) {
            match n {
                Node::Num(_) => {}
                Node::Name(s) => out.push(s.clone()),
                Node::Chain(first, rest) => {
                    walk(first, out);
                    for (_, n) in rest {
                        walk(n, out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.ast, &mut out);
        out
    }

    /// The value under `scope`, with wrapping u32 arithmetic.
    pub fn eval(&self, scope: &mut dyn Scope) -> Result<u32, ExprError> {
        fn go(n: &Node, s: &mut dyn Scope) -> Result<u32, ExprError> {
            Ok(match n {
                Node::Num(v) => *v,
                Node::Name(name) => s.lookup(name).ok_or_else(|| {
                    let binding = name.split('.').next().unwrap_or(name).to_string();
                    ExprError::Unbound(name.clone(), binding)
                })?,
                Node::Chain(first, rest) => {
                    let mut x = go(first, s)?;
                    for (op, n) in rest {
                        let y = go(n, s)?;
                        x = match op {
                            Op::Add => x.wrapping_add(y),
                            Op::Sub => x.wrapping_sub(y),
                            Op::Mul => x.wrapping_mul(y),
                        };
                    }
                    x
                }
            })
        }
        go(&self.ast, scope)
    }
}

/// Known shapes: our own names, or `BINDING.field` with a field from [`REPLY_FIELDS`].
fn check_name(n: &str) -> Result<(), ExprError> {
    let ok = OWN_NAMES.contains(&n)
        || n.split_once('.').is_some_and(|(b, f)| is_ident(b) && REPLY_FIELDS.contains(&f) && !OWN_NAMES.contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ExprError::UnknownName(n.to_string()))
    }
}

fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_') && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Num(u32),
    Name(String),
    Op(char),
    Open,
    Close,
}

fn tokenize(text: &str) -> Result<Vec<(usize, Tok)>, ExprError> {
    let chars: Vec<char> = text.chars().collect();
    let err = |reason: &str, at: usize| ExprError::Syntax { text: text.to_string(), reason: reason.into(), at: at + 1 };
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric()) {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some(h) => u64::from_str_radix(h, 16),
                None => s.parse::<u64>(),
            }
            .map_err(|_| err("not a number", start))?;
            let v = u32::try_from(v).map_err(|_| err("number larger than 4294967295", start))?;
            out.push((start, Tok::Num(v)));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                i += 1;
            }
            out.push((start, Tok::Name(chars[start..i].iter().collect())));
        } else if matches!(c, '+' | '-' | '*') {
            out.push((i, Tok::Op(c)));
            i += 1;
        } else if c == '(' {
            out.push((i, Tok::Open));
            i += 1;
        } else if c == ')' {
            out.push((i, Tok::Close));
            i += 1;
        } else {
            return Err(err(&format!("unexpected {c:?}"), i));
        }
    }
    Ok(out)
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<(usize, Tok)>,
    pos: usize,
    /// Parentheses open around the current position (at most [`EXPR_MAX_DEPTH`]).
    depth: usize,
}

/// `first` alone, or the chain `first rest…`.
fn chain(first: Node, rest: Vec<(Op, Node)>) -> Node {
    if rest.is_empty() {
        first
    } else {
        Node::Chain(Box::new(first), rest)
    }
}

impl Parser<'_> {
    fn err(&self, reason: &str, at: usize) -> ExprError {
        ExprError::Syntax { text: self.text.to_string(), reason: reason.into(), at: at + 1 }
    }

    fn end(&self) -> usize {
        self.text.chars().count()
    }

    /// Terms joined by `+` and `-`, read in a loop (not by recursion), however many there are.
    fn sum(&mut self) -> Result<Node, ExprError> {
        let first = self.product()?;
        let mut rest = Vec::new();
        while let Some((_, Tok::Op(c @ ('+' | '-')))) = self.tokens.get(self.pos) {
            let op = if *c == '+' { Op::Add } else { Op::Sub };
            self.pos += 1;
            rest.push((op, self.product()?));
        }
        Ok(chain(first, rest))
    }

    /// Factors joined by `*`, read in a loop.
    fn product(&mut self) -> Result<Node, ExprError> {
        let first = self.atom()?;
        let mut rest = Vec::new();
        while let Some((_, Tok::Op('*'))) = self.tokens.get(self.pos) {
            self.pos += 1;
            rest.push((Op::Mul, self.atom()?));
        }
        Ok(chain(first, rest))
    }

    fn atom(&mut self) -> Result<Node, ExprError> {
        let Some((at, tok)) = self.tokens.get(self.pos).cloned() else {
            return Err(self.err("expected a number, a name or '('", self.end()));
        };
        self.pos += 1;
        match tok {
            Tok::Num(v) => Ok(Node::Num(v)),
            Tok::Name(n) => Ok(Node::Name(n)),
            Tok::Open => {
                // Parentheses are the only recursion; their depth is bounded, so the stack is too.
                if self.depth >= EXPR_MAX_DEPTH {
                    return Err(self.err(&format!("parentheses nested more than {EXPR_MAX_DEPTH} deep"), at));
                }
                self.depth += 1;
                let inner = self.sum()?;
                self.depth -= 1;
                match self.tokens.get(self.pos) {
                    Some((_, Tok::Close)) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    Some((at, _)) => Err(self.err("expected ')'", *at)),
                    None => Err(self.err("expected ')'", self.end())),
                }
            }
            Tok::Op(c) => Err(self.err(&format!("expected a number, a name or '(' before '{c}'"), at)),
            Tok::Close => Err(self.err("unexpected ')'", at)),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.ast {
            Node::Num(v) if self.text == v.to_string() => s.serialize_u32(v),
            _ => s.serialize_str(&self.text),
        }
    }
}

impl<'de> Deserialize<'de> for Expr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Expr, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(u32),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(v) => Ok(Expr::num(v)),
            Raw::Text(t) => Expr::parse(&t).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct Map(HashMap<&'static str, u32>);
    impl Scope for Map {
        fn lookup(&mut self, name: &str) -> Option<u32> {
            self.0.get(name).copied()
        }
    }

    fn eval(text: &str) -> Result<u32, ExprError> {
        let mut m = Map(HashMap::from([("isn", 0xFFFF_FFFF), ("peer.seq", 41), ("peer.len", 18), ("next", 7)]));
        Expr::parse(text)?.eval(&mut m)
    }

    #[test]
    fn arithmetic_wraps_and_respects_precedence() {
        assert_eq!(eval("isn + 1"), Ok(0));
        assert_eq!(eval("peer.seq + peer.len"), Ok(59));
        assert_eq!(eval("0 - 1"), Ok(u32::MAX));
        assert_eq!(eval("2 + 3 * 4"), Ok(14));
        assert_eq!(eval("(2 + 3) * 4"), Ok(20));
        assert_eq!(eval("0x10 * 0x10000000"), Ok(0));
        assert_eq!(eval("  next "), Ok(7));
    }

    #[test]
    fn errors_say_where() {
        assert_eq!(
            Expr::parse("peer.seq +").unwrap_err().to_string(),
            "'peer.seq +': expected a number, a name or '(' at character 11"
        );
        assert!(matches!(Expr::parse("1 $ 2"), Err(ExprError::Syntax { at: 3, .. })));
        assert!(matches!(Expr::parse("(1 + 2"), Err(ExprError::Syntax { .. })));
        assert!(matches!(Expr::parse("4294967296"), Err(ExprError::Syntax { .. })));
        assert_eq!(Expr::parse("peer.sq"), Err(ExprError::UnknownName("peer.sq".into())));
        assert_eq!(Expr::parse("bogus"), Err(ExprError::UnknownName("bogus".into())));
        assert_eq!(eval("synack.seq"), Err(ExprError::Unbound("synack.seq".into(), "synack".into())));
    }

    /// Nesting is bounded (a clear error at the first parenthesis too many, not a stack overflow), and a long
    /// chain of terms parses, evaluates and drops without recursion.
    #[test]
    fn deep_nesting_is_refused_and_long_chains_are_fine() {
        let ok = format!("{}1{}", "(".repeat(EXPR_MAX_DEPTH), ")".repeat(EXPR_MAX_DEPTH));
        assert_eq!(eval(&ok), Ok(1));
        let deep = format!("{}1{}", "(".repeat(20_000), ")".repeat(20_000));
        let e = Expr::parse(&deep).unwrap_err();
        assert!(matches!(e, ExprError::Syntax { at, .. } if at == EXPR_MAX_DEPTH + 1), "{e}");
        assert!(e.to_string().contains("nested more than 64 deep"));
        let spaced = format!("1 + {}", "( ".repeat(100));
        assert!(matches!(Expr::parse(&spaced), Err(ExprError::Syntax { at: 133, .. })));
        let chain = vec!["1"; 200_000].join("+");
        assert_eq!(eval(&chain), Ok(200_000));
        let mixed = vec!["2*3"; 100_000].join("-");
        assert_eq!(eval(&mixed), Ok(6u32.wrapping_mul(1).wrapping_sub(6 * 99_999)));
        assert_eq!(eval("10 - 2 - 3"), Ok(5));
        assert_eq!(eval("2 * 3 + 4 * 5 - 1"), Ok(25));
    }

    #[test]
    fn serde_keeps_numbers_as_numbers_and_text_as_text() {
        assert_eq!(ron::to_string(&Expr::num(5)).unwrap(), "5");
        assert_eq!(ron::to_string(&Expr::parse("peer.seq + 1").unwrap()).unwrap(), "\"peer.seq + 1\"");
        let e: Expr = ron::from_str("\"isn+1\"").unwrap();
        assert_eq!(e.text(), "isn+1");
        assert!(ron::from_str::<Expr>("\"isn +\"").is_err());
    }
}
