//! KEDA's `advanced.scalingModifiers.formula`: an expression over the ScaledObject's named
//! triggers, in the language KEDA evaluates it with (github.com/expr-lang/expr, operator
//! precedences from its parser/operator/operator.go). kedacore/keda
//! pkg/scaling/modifiers/formula.go runs it on each trigger's value (a float, or nil when the
//! trigger's metric failed past `fallback.failureThreshold` with `behavior: scalingModifiers`);
//! the result, cast to a float, is the composite metric.
//!
//! The subset capsim evaluates: numbers, `true`/`false`/`nil`, trigger names, `+ - * / ** ^`,
//! unary `- + ! not`, `== != < <= > >=`, `&& and || or`, `??`, `cond ? a : b`, parentheses and
//! the builtins `abs ceil floor round min max float int`. Anything else (`%`, strings, `let`,
//! arrays, members, other builtins) is rejected when the scenario is read, naming the
//! construct.

use std::collections::BTreeMap;

/// A parsed formula.
#[derive(Clone, Debug, PartialEq)]
pub enum Formula {
    Num(f64),
    Bool(bool),
    Nil,
    Var(String),
    Unary(char, Box<Formula>),
    Binary(&'static str, Box<Formula>, Box<Formula>),
    Ternary(Box<Formula>, Box<Formula>, Box<Formula>),
    Call(&'static str, Vec<Formula>),
}

/// A value while evaluating.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val {
    Num(f64),
    Bool(bool),
    Nil,
}

/// expr-lang's binary operators capsim evaluates, with their precedence (all left-associative
/// but `**`/`^`).
const BINARY: &[(&str, u8)] = &[
    ("||", 10),
    ("or", 10),
    ("&&", 15),
    ("and", 15),
    ("==", 20),
    ("!=", 20),
    ("<=", 20),
    (">=", 20),
    ("<", 20),
    (">", 20),
    ("+", 30),
    ("-", 30),
    ("*", 60),
    ("/", 60),
    ("**", 100),
    ("^", 100),
    ("??", 200),
];
const UNARY_NOT: u8 = 50;
const UNARY_SIGN: u8 = 90;
const FUNCTIONS: &[&str] = &["abs", "ceil", "floor", "round", "min", "max", "float", "int"];

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    Question,
    Colon,
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'_') {
                i += 1;
            }
            if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                i += 1;
                if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                    i += 1;
                }
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let text: String = src[start..i].chars().filter(|c| *c != '_').collect();
            let v = text
                .parse::<f64>()
                .map_err(|_| format!("bad number {:?}", &src[start..i]))?;
            out.push(Tok::Num(v));
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(src[start..i].to_string()));
            continue;
        }
        let two = src.get(i..i + 2).unwrap_or("");
        let op2 = ["||", "&&", "==", "!=", "<=", ">=", "**", "??"]
            .into_iter()
            .find(|o| *o == two);
        if let Some(o) = op2 {
            out.push(Tok::Op(o));
            i += 2;
            continue;
        }
        let tok = match c {
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            '?' => Tok::Question,
            ':' => Tok::Colon,
            '+' => Tok::Op("+"),
            '-' => Tok::Op("-"),
            '*' => Tok::Op("*"),
            '/' => Tok::Op("/"),
            '^' => Tok::Op("^"),
            '<' => Tok::Op("<"),
            '>' => Tok::Op(">"),
            '!' => Tok::Op("!"),
            '%' => return Err("the % operator (it needs integers; trigger values are floats)".into()),
            '"' | '\'' | '`' => return Err("a string literal".into()),
            '[' | ']' => return Err("an array".into()),
            '.' => return Err("member access (.)".into()),
            ';' | '=' => return Err("a `let` binding or `;` sequence".into()),
            other => return Err(format!("the character {other:?}")),
        };
        out.push(tok);
        i += 1;
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn expect(&mut self, t: Tok, what: &str) -> Result<(), String> {
        match self.next() {
            Some(x) if x == t => Ok(()),
            Some(x) => Err(format!("expected {what}, found {x:?}")),
            None => Err(format!("expected {what}, found the end")),
        }
    }

    /// expr-lang `parseExpression(0)` then its conditional: `a ? b : c` (right-associative).
    fn conditional(&mut self) -> Result<Formula, String> {
        let cond = self.binary(0)?;
        if self.peek() != Some(&Tok::Question) {
            return Ok(cond);
        }
        self.next();
        if self.peek() == Some(&Tok::Colon) {
            return Err("the ?: shorthand".into());
        }
        let a = self.conditional()?;
        self.expect(Tok::Colon, "':' of a ternary")?;
        let b = self.conditional()?;
        Ok(Formula::Ternary(Box::new(cond), Box::new(a), Box::new(b)))
    }

    fn binary_op(&self) -> Option<(&'static str, u8)> {
        let name = match self.peek()? {
            Tok::Op(o) => *o,
            Tok::Ident(w) if matches!(w.as_str(), "and" | "or") => {
                if w == "and" {
                    "and"
                } else {
                    "or"
                }
            }
            _ => return None,
        };
        BINARY.iter().find(|(o, _)| *o == name).copied()
    }

    fn binary(&mut self, min: u8) -> Result<Formula, String> {
        let mut lhs = self.unary()?;
        while let Some((op, prec)) = self.binary_op() {
            if prec < min {
                break;
            }
            self.next();
            let right_assoc = matches!(op, "**" | "^");
            let rhs = self.binary(if right_assoc { prec } else { prec + 1 })?;
            let op = match op {
                "and" => "&&",
                "or" => "||",
                "^" => "**",
                o => o,
            };
            lhs = Formula::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Formula, String> {
        let op = match self.peek() {
            Some(Tok::Op("-")) => Some(('-', UNARY_SIGN)),
            Some(Tok::Op("+")) => Some(('+', UNARY_SIGN)),
            Some(Tok::Op("!")) => Some(('!', UNARY_NOT)),
            Some(Tok::Ident(w)) if w == "not" => Some(('!', UNARY_NOT)),
            _ => None,
        };
        if let Some((c, prec)) = op {
            self.next();
            let e = self.binary(prec)?;
            return Ok(Formula::Unary(c, Box::new(e)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Formula, String> {
        match self.next() {
            Some(Tok::Num(v)) => Ok(Formula::Num(v)),
            Some(Tok::LParen) => {
                let e = self.conditional()?;
                self.expect(Tok::RParen, "')'")?;
                Ok(e)
            }
            Some(Tok::Ident(w)) => match w.as_str() {
                "true" => Ok(Formula::Bool(true)),
                "false" => Ok(Formula::Bool(false)),
                "nil" => Ok(Formula::Nil),
                "let" => Err("a `let` binding".into()),
                _ if self.peek() == Some(&Tok::LParen) => {
                    let Some(f) = FUNCTIONS.iter().find(|f| **f == w) else {
                        return Err(format!("the function {w}()"));
                    };
                    self.next();
                    let mut args = Vec::new();
                    if self.peek() != Some(&Tok::RParen) {
                        loop {
                            args.push(self.conditional()?);
                            if self.peek() == Some(&Tok::Comma) {
                                self.next();
                                continue;
                            }
                            break;
                        }
                    }
                    self.expect(Tok::RParen, "')' closing a call")?;
                    let arity_ok = match *f {
                        "min" | "max" => !args.is_empty(),
                        _ => args.len() == 1,
                    };
                    if !arity_ok {
                        return Err(format!("{f}() with {} arguments", args.len()));
                    }
                    Ok(Formula::Call(f, args))
                }
                _ => Ok(Formula::Var(w)),
            },
            Some(t) => Err(format!("unexpected {t:?}")),
            None => Err("an unexpected end".into()),
        }
    }
}

impl Formula {
    /// Parses `src`; the error names the construct capsim does not evaluate or the syntax error.
    pub fn parse(src: &str) -> Result<Formula, String> {
        let toks = lex(src)?;
        if toks.is_empty() {
            return Err("an empty formula".into());
        }
        let mut p = Parser { toks, at: 0 };
        let f = p.conditional()?;
        if let Some(t) = p.peek() {
            return Err(format!("unexpected {t:?} after the expression"));
        }
        Ok(f)
    }

    /// Every variable the formula reads.
    pub fn vars(&self, out: &mut Vec<String>) {
        match self {
            Formula::Var(v) => out.push(v.clone()),
            Formula::Unary(_, e) => e.vars(out),
            Formula::Binary(_, a, b) => {
                a.vars(out);
                b.vars(out);
            }
            Formula::Ternary(c, a, b) => {
                c.vars(out);
                a.vars(out);
                b.vars(out);
            }
            Formula::Call(_, args) => args.iter().for_each(|a| a.vars(out)),
            Formula::Num(_) | Formula::Bool(_) | Formula::Nil => {}
        }
    }

    /// The formula's value with the triggers' values `env` (nil for a failed trigger), as
    /// expr-lang runs it: a type error (arithmetic on nil or a bool, a non-bool condition) is
    /// an error.
    pub fn eval(&self, env: &BTreeMap<String, Val>) -> Result<Val, String> {
        let num = |v: Val, what: &str| match v {
            Val::Num(x) => Ok(x),
            other => Err(format!("invalid operation: {what} on {other:?}")),
        };
        let boolean = |v: Val, what: &str| match v {
            Val::Bool(b) => Ok(b),
            other => Err(format!("{what} needs a bool, got {other:?}")),
        };
        Ok(match self {
            Formula::Num(v) => Val::Num(*v),
            Formula::Bool(b) => Val::Bool(*b),
            Formula::Nil => Val::Nil,
            Formula::Var(v) => *env.get(v).ok_or_else(|| format!("unknown name {v}"))?,
            Formula::Unary(c, e) => {
                let v = e.eval(env)?;
                match c {
                    '-' => Val::Num(-num(v, "-")?),
                    '+' => Val::Num(num(v, "+")?),
                    _ => Val::Bool(!boolean(v, "!")?),
                }
            }
            Formula::Binary(op, a, b) => match *op {
                "&&" => Val::Bool(boolean(a.eval(env)?, "&&")? && boolean(b.eval(env)?, "&&")?),
                "||" => Val::Bool(boolean(a.eval(env)?, "||")? || boolean(b.eval(env)?, "||")?),
                "??" => match a.eval(env)? {
                    Val::Nil => b.eval(env)?,
                    v => v,
                },
                "==" | "!=" => {
                    let (x, y) = (a.eval(env)?, b.eval(env)?);
                    let eq = x == y;
                    Val::Bool(if *op == "==" { eq } else { !eq })
                }
                _ => {
                    let (x, y) = (num(a.eval(env)?, op)?, num(b.eval(env)?, op)?);
                    match *op {
                        "+" => Val::Num(x + y),
                        "-" => Val::Num(x - y),
                        "*" => Val::Num(x * y),
                        "/" => Val::Num(x / y),
                        "**" => Val::Num(x.powf(y)),
                        "<" => Val::Bool(x < y),
                        "<=" => Val::Bool(x <= y),
                        ">" => Val::Bool(x > y),
                        _ => Val::Bool(x >= y),
                    }
                }
            },
            Formula::Ternary(c, a, b) => {
                if boolean(c.eval(env)?, "a ternary's condition")? {
                    a.eval(env)?
                } else {
                    b.eval(env)?
                }
            }
            Formula::Call(f, args) => {
                let mut xs = Vec::with_capacity(args.len());
                for a in args {
                    xs.push(num(a.eval(env)?, f)?);
                }
                Val::Num(match *f {
                    "abs" => xs[0].abs(),
                    "ceil" => xs[0].ceil(),
                    "floor" => xs[0].floor(),
                    // expr-lang `round`: math.Round, half away from zero.
                    "round" => xs[0].round(),
                    "int" => xs[0].trunc(),
                    "float" => xs[0],
                    "min" => xs.iter().copied().fold(f64::INFINITY, f64::min),
                    _ => xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str, env: &[(&str, Val)]) -> Result<Val, String> {
        let env = env.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        Formula::parse(src)?.eval(&env)
    }

    #[test]
    fn precedence_follows_expr_lang() {
        // `*` (60) over `+` (30); `**` (100, right) over unary `-` (90).
        assert_eq!(run("1 + 2 * 3", &[]), Ok(Val::Num(7.0)));
        assert_eq!(run("-2 ** 2", &[]), Ok(Val::Num(-4.0)));
        assert_eq!(run("2 ** 3 ** 2", &[]), Ok(Val::Num(512.0)));
        assert_eq!(run("(1 + 2) * 3", &[]), Ok(Val::Num(9.0)));
        assert_eq!(run("10 - 4 - 3", &[]), Ok(Val::Num(3.0)));
    }

    #[test]
    fn keda_documented_formulas() {
        // keda.sh docs, "Scaling Modifiers": an average, a ternary, a fallback with ??.
        let env = [("trig_one", Val::Num(4.0)), ("trig_two", Val::Num(10.0))];
        assert_eq!(run("(trig_one + trig_two)/2", &env), Ok(Val::Num(7.0)));
        assert_eq!(run("trig_one < 2 ? trig_one + trig_two : 1", &env), Ok(Val::Num(1.0)));
        assert_eq!(
            run("trig_one > 2 && trig_two >= 10 ? max(trig_one, trig_two) : 0", &env),
            Ok(Val::Num(10.0))
        );
        let failed = [("a", Val::Nil), ("b", Val::Num(3.0))];
        assert_eq!(run("a ?? b", &failed), Ok(Val::Num(3.0)));
        assert_eq!(run("(a ?? 0) + b", &failed), Ok(Val::Num(3.0)));
        assert!(
            run("a + b", &failed).is_err(),
            "arithmetic on nil is expr-lang's runtime error"
        );
    }

    #[test]
    fn unsupported_constructs_are_named() {
        for (src, what) in [
            ("a % 2", "%"),
            ("\"x\"", "string"),
            ("let x = 1; x", "let"),
            ("len(a)", "len()"),
            ("a.b", "member"),
            ("a ?: b", "?:"),
        ] {
            let e = Formula::parse(src).unwrap_err();
            assert!(e.contains(what), "{src}: {e}");
        }
    }
}
