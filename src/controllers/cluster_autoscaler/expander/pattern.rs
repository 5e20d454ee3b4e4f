//! The subset of Go RE2 syntax the priority expander's node-group patterns use in practice.
//!
//! upstream: cluster-autoscaler/expander/priority/priority.go compiles each entry with Go's
//! `regexp.Compile` and matches it *unanchored* (`FindStringIndex(id) != nil`), so `spot` matches
//! `general-spot-a`; write `^spot$` for an exact name. Supported here:
//!
//! * literal characters; `\` escapes of punctuation (`\.`, `\-`, `\*`, ...); `\d \D \w \W \s \S`;
//! * `.` (any character), anchors `^` and `$`;
//! * character classes `[a-z0-9-]`, negated `[^...]`, with ranges and the escapes above;
//! * groups `( )` and `(?: )` with alternation `|` (also at top level);
//! * quantifiers `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}` (a trailing `?` for laziness is accepted:
//!   it does not change *whether* a name matches).
//!
//! Rejected with a clear error: flags and look-around `(?i)`, `(?=`..., back-references, `\b`,
//! `\p{..}`, POSIX classes `[[:alpha:]]`, nested repetition (`a**`), unbalanced brackets.

use std::fmt;

#[derive(Clone, Debug, PartialEq)]
enum Atom {
    Char(char),
    Any,
    Class { ranges: Vec<(char, char)>, negated: bool },
    Group(Box<Alt>),
    Start,
    End,
}

#[derive(Clone, Debug, PartialEq)]
struct Piece {
    atom: Atom,
    min: u32,
    max: Option<u32>,
}

#[derive(Clone, Debug, PartialEq)]
struct Alt(Vec<Vec<Piece>>);

/// A compiled pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    source: String,
    root: Alt,
}

/// A pattern outside the supported subset or malformed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("pattern {pattern:?}: {message} at offset {offset}")]
pub struct PatternError {
    pub pattern: String,
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Largest `{n,m}` bound accepted (Go's RE2 allows 1000).
const MAX_REPEAT: u32 = 1000;

struct Parser<'a> {
    src: &'a str,
    chars: Vec<char>,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, message: impl Into<String>) -> PatternError {
        PatternError {
            pattern: self.src.to_string(),
            offset: self.pos,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn alt(&mut self, depth: usize) -> Result<Alt, PatternError> {
        if depth > 32 {
            return Err(self.err("groups nested too deeply"));
        }
        let mut branches = vec![self.seq(depth)?];
        while self.peek() == Some('|') {
            self.pos += 1;
            branches.push(self.seq(depth)?);
        }
        Ok(Alt(branches))
    }

    fn seq(&mut self, depth: usize) -> Result<Vec<Piece>, PatternError> {
        let mut seq: Vec<Piece> = Vec::new();
        while let Some(c) = self.peek() {
            let atom = match c {
                '|' | ')' => break,
                '*' | '+' | '?' | '{' => {
                    return Err(self.err(if seq.is_empty() {
                        "missing argument to repetition operator"
                    } else {
                        "invalid nested repetition operator"
                    }));
                }
                '(' => {
                    self.pos += 1;
                    if self.peek() == Some('?') {
                        if self.chars.get(self.pos + 1) == Some(&':') {
                            self.pos += 2;
                        } else {
                            return Err(self.err("flags and look-around groups `(?...)` are not supported"));
                        }
                    }
                    let inner = self.alt(depth + 1)?;
                    if self.peek() != Some(')') {
                        return Err(self.err("missing closing )"));
                    }
                    self.pos += 1;
                    Atom::Group(Box::new(inner))
                }
                '[' => self.class()?,
                '.' => {
                    self.pos += 1;
                    Atom::Any
                }
                '^' => {
                    self.pos += 1;
                    Atom::Start
                }
                '$' => {
                    self.pos += 1;
                    Atom::End
                }
                '\\' => self.escape(false)?.into_atom(),
                _ => {
                    self.pos += 1;
                    Atom::Char(c)
                }
            };
            let (min, max) = self.quantifier()?;
            seq.push(Piece { atom, min, max });
        }
        Ok(seq)
    }

    fn quantifier(&mut self) -> Result<(u32, Option<u32>), PatternError> {
        let q = match self.peek() {
            Some('*') => {
                self.pos += 1;
                (0, None)
            }
            Some('+') => {
                self.pos += 1;
                (1, None)
            }
            Some('?') => {
                self.pos += 1;
                (0, Some(1))
            }
            Some('{') => {
                let start = self.pos;
                self.pos += 1;
                let lo = self.number()?;
                let q = match self.peek() {
                    Some('}') => (lo, Some(lo)),
                    Some(',') => {
                        self.pos += 1;
                        if self.peek() == Some('}') {
                            (lo, None)
                        } else {
                            let hi = self.number()?;
                            if hi < lo {
                                self.pos = start;
                                return Err(self.err("invalid repeat count: max < min"));
                            }
                            (lo, Some(hi))
                        }
                    }
                    _ => return Err(self.err("expected } or , in repeat count")),
                };
                if self.peek() != Some('}') {
                    return Err(self.err("missing } in repeat count"));
                }
                self.pos += 1;
                q
            }
            _ => return Ok((1, Some(1))),
        };
        // A lazy marker changes which match is found, not whether one exists.
        if self.peek() == Some('?') {
            self.pos += 1;
        }
        if matches!(self.peek(), Some('*' | '+' | '?' | '{')) {
            return Err(self.err("invalid nested repetition operator"));
        }
        Ok(q)
    }

    fn number(&mut self) -> Result<u32, PatternError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let s: String = self.chars[start..self.pos].iter().collect();
        match s.parse::<u32>() {
            Ok(n) if n <= MAX_REPEAT => Ok(n),
            Ok(_) => Err(self.err(format!("repeat count above {MAX_REPEAT}"))),
            Err(_) => Err(self.err("expected a number in repeat count")),
        }
    }

    /// Parses `\x` at `self.pos`.
    fn escape(&mut self, in_class: bool) -> Result<Escaped, PatternError> {
        self.pos += 1;
        let Some(c) = self.peek() else {
            return Err(self.err("trailing backslash"));
        };
        self.pos += 1;
        let digits = vec![('0', '9')];
        let word = vec![('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
        let space = vec![('\t', '\n'), ('\x0c', '\r'), (' ', ' ')];
        Ok(match c {
            'd' => Escaped::Class(digits, false),
            'D' => Escaped::Class(digits, true),
            'w' => Escaped::Class(word, false),
            'W' => Escaped::Class(word, true),
            's' => Escaped::Class(space, false),
            'S' => Escaped::Class(space, true),
            't' => Escaped::Char('\t'),
            'n' => Escaped::Char('\n'),
            c if c.is_ascii_punctuation() => Escaped::Char(c),
            _ => {
                self.pos -= 2;
                return Err(self.err(format!(
                    "escape \\{c} is not supported{}",
                    if in_class { " in a character class" } else { "" }
                )));
            }
        })
    }

    fn class(&mut self) -> Result<Atom, PatternError> {
        let open = self.pos;
        self.pos += 1;
        let negated = self.peek() == Some('^');
        if negated {
            self.pos += 1;
        }
        if self.chars.get(self.pos) == Some(&'[') && self.chars.get(self.pos + 1) == Some(&':') {
            return Err(self.err("POSIX classes like [[:alpha:]] are not supported"));
        }
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                self.pos = open;
                return Err(self.err("missing closing ]"));
            };
            if c == ']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            let lo = if c == '\\' {
                match self.escape(true)? {
                    Escaped::Char(ch) => ch,
                    Escaped::Class(rs, false) => {
                        ranges.extend(rs);
                        continue;
                    }
                    Escaped::Class(_, true) => {
                        return Err(self.err("negated escapes (\\D, \\W, \\S) are not supported in a class"));
                    }
                }
            } else {
                self.pos += 1;
                c
            };
            if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&n| n != ']') {
                self.pos += 1;
                let hi = match self.peek() {
                    Some('\\') => match self.escape(true)? {
                        Escaped::Char(ch) => ch,
                        Escaped::Class(..) => return Err(self.err("a class escape cannot end a range")),
                    },
                    Some(h) => {
                        self.pos += 1;
                        h
                    }
                    None => return Err(self.err("missing closing ]")),
                };
                if hi < lo {
                    return Err(self.err(format!("invalid character class range {lo}-{hi}")));
                }
                ranges.push((lo, hi));
            } else {
                ranges.push((lo, lo));
            }
        }
        Ok(Atom::Class { ranges, negated })
    }
}

enum Escaped {
    Char(char),
    Class(Vec<(char, char)>, bool),
}

impl Escaped {
    fn into_atom(self) -> Atom {
        match self {
            Escaped::Char(c) => Atom::Char(c),
            Escaped::Class(ranges, negated) => Atom::Class { ranges, negated },
        }
    }
}

impl Pattern {
    pub fn compile(src: &str) -> Result<Pattern, PatternError> {
        let mut p = Parser {
            src,
            chars: src.chars().collect(),
            pos: 0,
        };
        let root = p.alt(0)?;
        if p.pos != p.chars.len() {
            return Err(p.err("unexpected )"));
        }
        Ok(Pattern {
            source: src.to_string(),
            root,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Unanchored search, as Go's `FindStringIndex(s) != nil`.
    pub fn is_match(&self, s: &str) -> bool {
        let input: Vec<char> = s.chars().collect();
        (0..=input.len()).any(|start| match_alt(&self.root, &input, start, &|_| true))
    }
}

fn match_alt(alt: &Alt, input: &[char], pos: usize, k: &dyn Fn(usize) -> bool) -> bool {
    alt.0.iter().any(|seq| match_seq(seq, 0, input, pos, k))
}

fn match_seq(seq: &[Piece], idx: usize, input: &[char], pos: usize, k: &dyn Fn(usize) -> bool) -> bool {
    match seq.get(idx) {
        None => k(pos),
        Some(piece) => match_repeat(piece, 0, seq, idx, input, pos, k),
    }
}

/// Greedy repetition with backtracking; an iteration that consumes nothing ends the loop, so
/// `(a*)*` terminates.
fn match_repeat(
    piece: &Piece,
    n: u32,
    seq: &[Piece],
    idx: usize,
    input: &[char],
    pos: usize,
    k: &dyn Fn(usize) -> bool,
) -> bool {
    let can_more = piece.max.is_none_or(|m| n < m);
    if can_more {
        let more = |next: usize| {
            if next == pos && n >= piece.min {
                return false;
            }
            match_repeat(piece, n + 1, seq, idx, input, next, k)
        };
        if match_atom(&piece.atom, input, pos, &more) {
            return true;
        }
    }
    n >= piece.min && match_seq(seq, idx + 1, input, pos, k)
}

fn match_atom(atom: &Atom, input: &[char], pos: usize, k: &dyn Fn(usize) -> bool) -> bool {
    match atom {
        Atom::Char(c) => input.get(pos) == Some(c) && k(pos + 1),
        Atom::Any => pos < input.len() && k(pos + 1),
        Atom::Class { ranges, negated } => input
            .get(pos)
            .is_some_and(|c| ranges.iter().any(|(lo, hi)| lo <= c && c <= hi) != *negated && k(pos + 1)),
        Atom::Group(alt) => match_alt(alt, input, pos, k),
        Atom::Start => pos == 0 && k(pos),
        Atom::End => pos == input.len() && k(pos),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_like_go_regexp_find() {
        // (pattern, name, matches) — unanchored like FindStringIndex
        let cases: &[(&str, &str, bool)] = &[
            ("general", "general", true),
            ("general", "xgeneral-2", true),
            ("^general$", "general-2", false),
            ("^general$", "general", true),
            (".*", "", true),
            (".*spot.*", "gpu-spot-a", true),
            (".*spot.*", "gpu-ondemand", false),
            ("^m5\\.(x|2x)large$", "m5.2xlarge", true),
            ("^m5\\.(x|2x)large$", "m5x2xlarge", false),
            ("^pool-[0-9]+$", "pool-12", true),
            ("^pool-[0-9]+$", "pool-", false),
            ("^pool-\\d{2}$", "pool-123", false),
            ("^pool-\\d{2,}$", "pool-123", true),
            ("^[^-]+$", "abc", true),
            ("^[^-]+$", "a-c", false),
            ("a|^b", "cb", false),
            ("a|^b", "bc", true),
            ("^(a*)*$", "aaaa", true),
            ("^(?:ab)?c$", "c", true),
            ("^colou?r$", "colr", false),
        ];
        for (pat, name, want) in cases {
            let p = Pattern::compile(pat).unwrap_or_else(|e| panic!("{pat}: {e}"));
            assert_eq!(p.is_match(name), *want, "{pat} on {name}");
        }
    }

    #[test]
    fn rejects_unsupported_syntax() {
        for pat in [
            "(?i)gpu",
            "*a",
            "a**",
            "(ab",
            "ab)",
            "[a-",
            "\\bword",
            "[[:alpha:]]",
            "a{3,1}",
            "[z-a]",
        ] {
            assert!(Pattern::compile(pat).is_err(), "{pat} should be rejected");
        }
        let e = Pattern::compile("(?=x)")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("look-around"), "{e}");
    }
}
