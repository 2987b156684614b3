//! A small hand-written parser for exactly the grammar in [`super::sql`].
//!
//! It never recurses (unary minus is counted, expressions are flat), so no
//! input can exhaust the stack, and it allocates at most one token per
//! input byte.

use super::sql::{ArithOp, Atom, Expr, Statement, Term};
use super::value::Value;
use thiserror::Error;

/// Why a statement's text does not parse.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("parse error at byte {offset}: expected {expected}, found {found}")]
pub struct ParseError {
    /// Byte offset of the offending token.
    pub offset: usize,
    /// What the grammar allows there.
    pub expected: &'static str,
    /// What was there instead.
    pub found: String,
}

const KEYWORDS: &[&str] = &[
    "CREATE", "TABLE", "ALTER", "ADD", "COLUMN", "INSERT", "INTO", "VALUES", "UPDATE", "SET",
    "WHERE", "DELETE", "FROM", "NULL",
];

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Int(u64),
    Text(String),
    Punct(char),
}

impl Token {
    fn describe(&self) -> String {
        let mut s = match self {
            Token::Word(w) => format!("`{w}`"),
            Token::Int(i) => format!("integer {i}"),
            Token::Text(t) => format!("text '{t}'"),
            Token::Punct(c) => format!("`{c}`"),
        };
        if s.len() > 40 {
            let cut = (0..=40).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
            s.truncate(cut);
            s.push('…');
        }
        s
    }
}

fn err(offset: usize, expected: &'static str, found: impl Into<String>) -> ParseError {
    ParseError {
        offset,
        expected,
        found: found.into(),
    }
}

fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, ParseError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let mut word = String::from(c);
            while let Some((_, c)) = chars.next_if(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
            {
                word.push(c);
            }
            tokens.push((at, Token::Word(word)));
        } else if let Some(digit) = c.to_digit(10) {
            let mut value = u64::from(digit);
            while let Some((_, c)) = chars.next_if(|(_, c)| c.is_ascii_digit()) {
                value = value
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u64::from(c.to_digit(10).unwrap_or(0))))
                    .ok_or_else(|| err(at, "an integer that fits in 64 bits", "a longer one"))?;
            }
            tokens.push((at, Token::Int(value)));
        } else if c == '\'' {
            let mut text = String::new();
            loop {
                match chars.next() {
                    Some((_, '\'')) => {
                        if chars.next_if(|(_, c)| *c == '\'').is_some() {
                            text.push('\'');
                        } else {
                            break;
                        }
                    }
                    Some((_, c)) => text.push(c),
                    None => return Err(err(at, "a closing quote", "the end of the statement")),
                }
            }
            tokens.push((at, Token::Text(text)));
        } else if "(),=+-".contains(c) {
            tokens.push((at, Token::Punct(c)));
        } else {
            return Err(err(
                at,
                "a name, number, quoted text or one of ( ) , = + -",
                format!("{c:?}"),
            ));
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: std::vec::IntoIter<(usize, Token)>,
    peeked: Option<(usize, Token)>,
    end: usize,
}

impl Parser {
    fn peek(&mut self) -> Option<&Token> {
        if self.peeked.is_none() {
            self.peeked = self.tokens.next();
        }
        self.peeked.as_ref().map(|(_, t)| t)
    }

    fn next(&mut self, expected: &'static str) -> Result<(usize, Token), ParseError> {
        self.peek();
        self.peeked
            .take()
            .ok_or_else(|| err(self.end, expected, "the end of the statement"))
    }

    fn keyword(&mut self, kw: &'static str) -> Result<(), ParseError> {
        match self.next(kw)? {
            (_, Token::Word(w)) if w.eq_ignore_ascii_case(kw) => Ok(()),
            (at, t) => Err(err(at, kw, t.describe())),
        }
    }

    fn punct(&mut self, p: char, expected: &'static str) -> Result<(), ParseError> {
        match self.next(expected)? {
            (_, Token::Punct(c)) if c == p => Ok(()),
            (at, t) => Err(err(at, expected, t.describe())),
        }
    }

    fn at_punct(&mut self, p: char) -> bool {
        if self.peek() == Some(&Token::Punct(p)) {
            self.peeked = None;
            true
        } else {
            false
        }
    }

    fn name(&mut self) -> Result<String, ParseError> {
        const EXPECTED: &str = "a table or column name (not a keyword)";
        match self.next(EXPECTED)? {
            (at, Token::Word(w)) => {
                if KEYWORDS.iter().any(|k| w.eq_ignore_ascii_case(k)) {
                    Err(err(at, EXPECTED, format!("keyword `{w}`")))
                } else {
                    Ok(w)
                }
            }
            (at, t) => Err(err(at, EXPECTED, t.describe())),
        }
    }

    /// `'(' item (',' item)* ')'`
    fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Parser) -> Result<T, ParseError>,
    ) -> Result<Vec<T>, ParseError> {
        self.punct('(', "`(`")?;
        let mut items = vec![item(self)?];
        while self.at_punct(',') {
            items.push(item(self)?);
        }
        self.punct(')', "`,` or `)`")?;
        Ok(items)
    }

    fn term(&mut self) -> Result<Term, ParseError> {
        let mut minuses = 0usize;
        while self.at_punct('-') {
            minuses += 1;
        }
        let negated = minuses % 2 == 1;
        const EXPECTED: &str =
            "a value: integer, 'text', NULL, a column, now(), rand() or next_id()";
        let atom = match self.next(EXPECTED)? {
            (at, Token::Int(v)) => {
                let value = if negated {
                    0i64.checked_sub_unsigned(v)
                } else {
                    i64::try_from(v).ok()
                };
                let value = value
                    .ok_or_else(|| err(at, "an integer within the 64-bit range", v.to_string()))?;
                return Ok(Term {
                    negated: false,
                    atom: Atom::Literal(Value::Int(value)),
                });
            }
            (_, Token::Text(t)) => Atom::Literal(Value::Text(t)),
            (_, Token::Word(w)) if w.eq_ignore_ascii_case("NULL") => Atom::Literal(Value::Null),
            (at, Token::Word(w)) => {
                if self.at_punct('(') {
                    self.punct(')', "`)` (functions take no arguments)")?;
                    match w.as_str() {
                        "now" => Atom::Now,
                        "rand" => Atom::Rand,
                        "next_id" => Atom::NextId,
                        _ => return Err(err(at, "now(), rand() or next_id()", w)),
                    }
                } else if KEYWORDS.iter().any(|k| w.eq_ignore_ascii_case(k)) {
                    return Err(err(at, EXPECTED, format!("keyword `{w}`")));
                } else {
                    Atom::Column(w)
                }
            }
            (at, t) => return Err(err(at, EXPECTED, t.describe())),
        };
        Ok(Term { negated, atom })
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        let first = self.term()?;
        let mut rest = Vec::new();
        loop {
            let op = if self.at_punct('+') {
                ArithOp::Add
            } else if self.at_punct('-') {
                ArithOp::Sub
            } else {
                break;
            };
            rest.push((op, self.term()?));
        }
        Ok(Expr { first, rest })
    }

    fn statement(&mut self) -> Result<Statement, ParseError> {
        const EXPECTED: &str = "CREATE, ALTER, INSERT, UPDATE or DELETE";
        let (at, first) = self.next(EXPECTED)?;
        let Token::Word(verb) = first else {
            return Err(err(at, EXPECTED, first.describe()));
        };
        let statement = match verb.to_ascii_uppercase().as_str() {
            "CREATE" => {
                self.keyword("TABLE")?;
                let table = self.name()?;
                let columns = self.list(Parser::name)?;
                Statement::CreateTable { table, columns }
            }
            "ALTER" => {
                self.keyword("TABLE")?;
                let table = self.name()?;
                self.keyword("ADD")?;
                self.keyword("COLUMN")?;
                let column = self.name()?;
                Statement::AddColumn { table, column }
            }
            "INSERT" => {
                self.keyword("INTO")?;
                let table = self.name()?;
                let columns = self.list(Parser::name)?;
                self.keyword("VALUES")?;
                let values = self.list(Parser::expr)?;
                Statement::Insert {
                    table,
                    columns,
                    values,
                }
            }
            "UPDATE" => {
                let table = self.name()?;
                self.keyword("SET")?;
                let mut assignments = Vec::new();
                loop {
                    let column = self.name()?;
                    self.punct('=', "`=`")?;
                    assignments.push((column, self.expr()?));
                    if !self.at_punct(',') {
                        break;
                    }
                }
                let (key_column, key) = self.where_clause()?;
                Statement::Update {
                    table,
                    assignments,
                    key_column,
                    key,
                }
            }
            "DELETE" => {
                self.keyword("FROM")?;
                let table = self.name()?;
                let (key_column, key) = self.where_clause()?;
                Statement::Delete {
                    table,
                    key_column,
                    key,
                }
            }
            _ => return Err(err(at, EXPECTED, format!("`{verb}`"))),
        };
        match self.peeked.take().or_else(|| self.tokens.next()) {
            None => Ok(statement),
            Some((at, t)) => Err(err(at, "the end of the statement", t.describe())),
        }
    }

    fn where_clause(&mut self) -> Result<(String, Expr), ParseError> {
        self.keyword("WHERE")?;
        let column = self.name()?;
        self.punct('=', "`=`")?;
        Ok((column, self.expr()?))
    }
}

/// Parses one statement.
pub fn parse(text: &str) -> Result<Statement, ParseError> {
    let tokens = tokenize(text)?;
    Parser {
        tokens: tokens.into_iter(),
        peeked: None,
        end: text.len(),
    }
    .statement()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_statement_form_and_prints_it_back() {
        for text in [
            "CREATE TABLE users (id, name, score)",
            "ALTER TABLE users ADD COLUMN email",
            "INSERT INTO users (name, score) VALUES ('it''s', -3 + rand())",
            "UPDATE users SET score = score + 1, name = NULL WHERE id = next_id() - 2",
            "DELETE FROM users WHERE id = -9223372036854775808",
            "UPDATE users SET seen = now() WHERE id = -score",
        ] {
            let statement = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(statement.to_string(), text);
        }
    }

    #[test]
    fn keywords_are_case_insensitive_names_are_not() {
        let s = parse("insert into T (Id) values (1)").unwrap();
        assert_eq!(s.table(), "T");
    }

    #[test]
    fn errors_point_at_the_offending_token() {
        let e = parse("DELETE FROM t WHERE id = ").unwrap_err();
        assert_eq!(e.offset, 25);
        assert!(e.expected.starts_with("a value"));
        let e = parse("SELECT a FROM t").unwrap_err();
        assert_eq!(e.found, "`SELECT`");
        let e = parse("INSERT INTO t (where) VALUES (1)").unwrap_err();
        assert_eq!(e.found, "keyword `where`");
        assert!(parse("UPDATE t SET a = 'open").is_err());
        assert!(parse("UPDATE t SET a = 99999999999999999999 WHERE id = 1").is_err());
        assert!(parse("DELETE FROM t WHERE id = 1 1").is_err());
        assert!(parse("UPDATE t SET a = b() WHERE id = 1").is_err());
    }

    #[test]
    fn long_unary_chains_do_not_recurse() {
        let text = format!("DELETE FROM t WHERE id = {}1", "-".repeat(100_000));
        assert!(parse(&text).is_ok());
    }
}
