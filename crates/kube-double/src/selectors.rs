//! Label and field selectors, parsed and matched as the API server does.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::store::Kind;
use crate::validation;

/// How a label requirement compares.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Operator {
    Equals(String),
    NotEquals(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Requirement {
    key: String,
    operator: Operator,
}

/// A label selector: every requirement must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LabelSelector {
    requirements: Vec<Requirement>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Identifier(String),
    Equals,
    DoubleEquals,
    NotEquals,
    Not,
    Open,
    Close,
    Comma,
}

fn is_identifier_character(character: char) -> bool {
    !character.is_whitespace() && !matches!(character, ',' | '(' | ')' | '=' | '!')
}

fn tokenize(text: &str) -> Vec<Token> {
    let characters: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        let next = characters.get(index + 1).copied();
        match character {
            _ if character.is_whitespace() => index += 1,
            ',' => {
                tokens.push(Token::Comma);
                index += 1;
            }
            '(' => {
                tokens.push(Token::Open);
                index += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                index += 1;
            }
            '=' if next == Some('=') => {
                tokens.push(Token::DoubleEquals);
                index += 2;
            }
            '=' => {
                tokens.push(Token::Equals);
                index += 1;
            }
            '!' if next == Some('=') => {
                tokens.push(Token::NotEquals);
                index += 2;
            }
            '!' => {
                tokens.push(Token::Not);
                index += 1;
            }
            _ => {
                let start = index;
                while index < characters.len() && is_identifier_character(characters[index]) {
                    index += 1;
                }
                tokens.push(Token::Identifier(characters[start..index].iter().collect()));
            }
        }
    }
    tokens
}

fn parse_error(detail: &str) -> String {
    format!("unable to parse requirement: {detail}")
}

fn check_key(key: &str) -> Result<(), String> {
    match validation::qualified_name(key).first() {
        None => Ok(()),
        Some(error) => Err(parse_error(&format!(
            "key: Invalid value: {key:?}: {error}"
        ))),
    }
}

fn check_value(value: &str) -> Result<(), String> {
    match validation::label_value(value).first() {
        None => Ok(()),
        Some(error) => Err(parse_error(&format!(
            "values[0]: Invalid value: {value:?}: {error}"
        ))),
    }
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).cloned();
        self.position += 1;
        token
    }

    fn identifier(&mut self, what: &str) -> Result<String, String> {
        match self.next() {
            Some(Token::Identifier(name)) => Ok(name),
            other => Err(parse_error(&format!("found '{other:?}', expected: {what}"))),
        }
    }

    /// A value after `=`: may be empty when the requirement ends there.
    fn value(&mut self) -> Result<String, String> {
        match self.peek() {
            None | Some(Token::Comma) => Ok(String::new()),
            _ => self.identifier("identifier"),
        }
    }

    fn values(&mut self) -> Result<Vec<String>, String> {
        if self.next() != Some(Token::Open) {
            return Err(parse_error("found '', expected: '('"));
        }
        let mut values = Vec::new();
        loop {
            match self.next() {
                Some(Token::Identifier(value)) => values.push(value),
                Some(Token::Close) if values.is_empty() => break,
                _ => return Err(parse_error("found '', expected: ',', ')' or identifier")),
            }
            match self.next() {
                Some(Token::Comma) => {}
                Some(Token::Close) => break,
                _ => return Err(parse_error("found '', expected: ',' or ')'")),
            }
        }
        if values.is_empty() {
            return Err(parse_error(
                "for 'in', 'notin' operators, values set can't be empty",
            ));
        }
        Ok(values)
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        if self.peek() == Some(&Token::Not) {
            self.position += 1;
            let key = self.identifier("identifier")?;
            check_key(&key)?;
            return Ok(Requirement {
                key,
                operator: Operator::DoesNotExist,
            });
        }
        let key = self.identifier("identifier")?;
        check_key(&key)?;
        let operator = match self.peek() {
            None | Some(Token::Comma) => Operator::Exists,
            Some(Token::Equals | Token::DoubleEquals) => {
                self.position += 1;
                Operator::Equals(self.value()?)
            }
            Some(Token::NotEquals) => {
                self.position += 1;
                Operator::NotEquals(self.value()?)
            }
            Some(Token::Identifier(word)) if word == "in" => {
                self.position += 1;
                Operator::In(self.values()?)
            }
            Some(Token::Identifier(word)) if word == "notin" => {
                self.position += 1;
                Operator::NotIn(self.values()?)
            }
            Some(other) => {
                return Err(parse_error(&format!(
                    "found '{other:?}', expected: in, notin, =, ==, !=, gt, lt"
                )));
            }
        };
        match &operator {
            Operator::Equals(value) | Operator::NotEquals(value) => check_value(value)?,
            Operator::In(values) | Operator::NotIn(values) => {
                for value in values {
                    check_value(value)?;
                }
            }
            Operator::Exists | Operator::DoesNotExist => {}
        }
        Ok(Requirement { key, operator })
    }
}

impl LabelSelector {
    /// Parses the `labelSelector` query parameter.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parser = Parser {
            tokens: tokenize(text),
            position: 0,
        };
        let mut requirements = Vec::new();
        while parser.peek().is_some() {
            requirements.push(parser.requirement()?);
            match parser.next() {
                None => break,
                Some(Token::Comma) => {}
                Some(other) => {
                    return Err(parse_error(&format!("found '{other:?}', expected: ','")));
                }
            }
        }
        Ok(Self { requirements })
    }

    /// Whether labels satisfy every requirement.
    pub fn matches_labels(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|requirement| {
            let value = labels.get(&requirement.key);
            match &requirement.operator {
                Operator::Equals(expected) => value == Some(expected),
                Operator::NotEquals(unexpected) => value != Some(unexpected),
                Operator::In(values) => value.is_some_and(|value| values.contains(value)),
                Operator::NotIn(values) => value.is_none_or(|value| !values.contains(value)),
                Operator::Exists => value.is_some(),
                Operator::DoesNotExist => value.is_none(),
            }
        })
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        if self.requirements.is_empty() {
            return true;
        }
        let labels: BTreeMap<String, String> = object
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        self.matches_labels(&labels)
    }
}

/// A field selector: every `field=value` or `field!=value` must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FieldSelector {
    requirements: Vec<(String, bool, String)>,
}

/// The fields a kind can be selected by, and where they are in the object.
fn field_pointer(kind: Kind, field: &str) -> Option<&'static str> {
    let pointer = match (kind, field) {
        (_, "metadata.name") => "/metadata/name",
        (_, "metadata.namespace") => "/metadata/namespace",
        (Kind::Pod, "spec.nodeName") => "/spec/nodeName",
        (Kind::Pod, "spec.restartPolicy") => "/spec/restartPolicy",
        (Kind::Pod, "spec.schedulerName") => "/spec/schedulerName",
        (Kind::Pod, "spec.serviceAccountName") => "/spec/serviceAccountName",
        (Kind::Pod, "status.phase") => "/status/phase",
        (Kind::Pod, "status.podIP") => "/status/podIP",
        (Kind::Pod, "status.nominatedNodeName") => "/status/nominatedNodeName",
        (Kind::Secret, "type") => "/type",
        _ => return None,
    };
    Some(pointer)
}

impl FieldSelector {
    /// Parses the `fieldSelector` query parameter for objects of `kind`.
    pub fn parse(kind: Kind, text: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for part in text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
        {
            let (field, equal, value) = if let Some((field, value)) = part.split_once("!=") {
                (field, false, value)
            } else if let Some((field, value)) = part.split_once("==") {
                (field, true, value)
            } else if let Some((field, value)) = part.split_once('=') {
                (field, true, value)
            } else {
                return Err(format!(
                    "invalid selector: '{text}'; can't understand '{part}'"
                ));
            };
            let field = field.trim();
            if field_pointer(kind, field).is_none() {
                return Err(format!("field label not supported: {field}"));
            }
            requirements.push((field.to_owned(), equal, value.trim().to_owned()));
        }
        Ok(Self { requirements })
    }

    /// Whether an object of `kind` satisfies every requirement.
    pub fn matches(&self, kind: Kind, object: &Value) -> bool {
        self.requirements.iter().all(|(field, equal, expected)| {
            let actual = field_pointer(kind, field)
                .and_then(|pointer| object.pointer(pointer))
                .and_then(Value::as_str)
                .unwrap_or("");
            (actual == expected) == *equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    fn selects(selector: &str, pairs: &[(&str, &str)]) -> bool {
        LabelSelector::parse(selector)
            .expect("the selector parses")
            .matches_labels(&labels(pairs))
    }

    #[test]
    fn equality() {
        assert!(selects("app=eider", &[("app", "eider")]));
        assert!(selects("app==eider", &[("app", "eider")]));
        assert!(!selects("app=eider", &[("app", "other")]));
        assert!(!selects("app=eider", &[]));
        assert!(selects("app!=eider", &[("app", "other")]));
        assert!(selects("app!=eider", &[]));
        assert!(!selects("app!=eider", &[("app", "eider")]));
        assert!(selects("app=", &[("app", "")]));
    }

    #[test]
    fn existence() {
        assert!(selects("app", &[("app", "x")]));
        assert!(!selects("app", &[]));
        assert!(selects("!app", &[]));
        assert!(!selects("!app", &[("app", "x")]));
    }

    #[test]
    fn sets() {
        assert!(selects("tier in (a, b)", &[("tier", "b")]));
        assert!(!selects("tier in (a,b)", &[("tier", "c")]));
        assert!(!selects("tier in (a,b)", &[]));
        assert!(selects("tier notin (a)", &[("tier", "b")]));
        assert!(selects("tier notin (a)", &[]));
        assert!(!selects("tier notin (a)", &[("tier", "a")]));
    }

    #[test]
    fn conjunction() {
        let pairs = [("app", "eider"), ("eider.dev/run", "7"), ("tier", "a")];
        assert!(selects(
            "app=eider,eider.dev/run=7, tier in (a,b),!gone",
            &pairs
        ));
        assert!(!selects("app=eider,eider.dev/run=8", &pairs));
        assert!(selects("", &pairs));
    }

    #[test]
    fn parse_errors() {
        assert!(LabelSelector::parse("bad key=x").is_err());
        assert!(LabelSelector::parse("a in ()").is_err());
        assert!(LabelSelector::parse("a in (x").is_err());
        assert!(LabelSelector::parse("a=b c").is_err());
        assert!(LabelSelector::parse("a=-x").is_err());
        assert!(LabelSelector::parse("=x").is_err());
    }

    #[test]
    fn field_selectors() {
        let pod = json!({"metadata": {"name": "p", "namespace": "default"}, "status": {"phase": "Running"}});
        let selector = FieldSelector::parse(Kind::Pod, "metadata.name=p,status.phase!=Failed")
            .expect("the selector parses");
        assert!(selector.matches(Kind::Pod, &pod));
        let selector =
            FieldSelector::parse(Kind::Pod, "metadata.name==q").expect("the selector parses");
        assert!(!selector.matches(Kind::Pod, &pod));
        assert!(FieldSelector::parse(Kind::Pod, "spec.containers=x").is_err());
        assert!(FieldSelector::parse(Kind::ConfigMap, "status.phase=x").is_err());
    }
}
