//! YAML as the deploy files need it read: every node keeps its line, a key given twice in
//! one mapping is an error (most loaders keep the last silently, and the first one was the
//! setting someone meant), and `<<` merge keys are applied, since compose files lean on them.

use std::collections::HashMap;

use saphyr_parser::{Event, Input, Parser, ScalarStyle, Span};

#[derive(Debug, Clone)]
pub struct Node {
    /// 1-based line where the node starts.
    pub line: usize,
    pub value: Value,
}

#[derive(Debug, Clone)]
pub enum Value {
    /// The text, and whether it was plain (unquoted): only a plain scalar can be null.
    Scalar(String, bool),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug)]
pub struct Error {
    pub line: usize,
    pub msg: String,
}

static EMPTY_SEQ: Vec<Node> = Vec::new();
static EMPTY_MAP: Vec<(Node, Node)> = Vec::new();

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()
            .iter()
            .find(|(k, _)| k.scalar() == Some(key))
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    }

    /// A scalar's text; `None` for null, sequences and mappings.
    pub fn scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s, _) if !self.is_null() => Some(s),
            _ => None,
        }
    }

    /// The scalar's text, or "" for anything else: what a comparison with a string needs.
    pub fn text(&self) -> &str {
        self.scalar().unwrap_or("")
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar(s, true) if matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    pub fn is_seq(&self) -> bool {
        matches!(self.value, Value::Seq(_))
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.value {
            Value::Map(m) => m,
            _ => &EMPTY_MAP,
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(s) => s,
            _ => &EMPTY_SEQ,
        }
    }

    /// `key`'s sequence, or nothing when it is absent or not a sequence.
    pub fn seq(&self, key: &str) -> &[Node] {
        self.get(key).map(Node::items).unwrap_or(&EMPTY_SEQ)
    }

    /// `key`'s mapping entries, or nothing when it is absent or not a mapping.
    pub fn map(&self, key: &str) -> &[(Node, Node)] {
        self.get(key).map(Node::entries).unwrap_or(&EMPTY_MAP)
    }

    /// Follows a path of mapping keys.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |n, k| n.get(k))
    }
}

/// Every non-empty document of `text`.
pub fn load(text: &str) -> Result<Vec<Node>, Error> {
    let mut parser = Parser::new_from_str(text);
    let mut anchors = HashMap::new();
    let mut docs = Vec::new();
    loop {
        let (event, _) = next(&mut parser)?;
        match event {
            Event::StreamEnd => return Ok(docs),
            Event::DocumentStart(_) => {
                let (event, span) = next(&mut parser)?;
                if matches!(event, Event::DocumentEnd) {
                    continue;
                }
                let root = build(event, span, &mut parser, &mut anchors)?;
                if !root.is_null() {
                    docs.push(root);
                }
            }
            // StreamStart, DocumentEnd: structure only.
            _ => {}
        }
    }
}

fn next<'a, T: Input>(parser: &mut Parser<'a, T>) -> Result<(Event<'a>, Span), Error> {
    match parser.next_event() {
        Some(Ok(pair)) => Ok(pair),
        Some(Err(e)) => Err(Error {
            line: e.marker().line(),
            msg: format!("{} (column {})", e.info(), e.marker().col() + 1),
        }),
        None => Err(Error {
            line: 0,
            msg: "the text ends inside a document".into(),
        }),
    }
}

fn build<'a, T: Input>(
    event: Event<'a>,
    span: Span,
    parser: &mut Parser<'a, T>,
    anchors: &mut HashMap<usize, Node>,
) -> Result<Node, Error> {
    let line = span.start.line();
    let (value, anchor) = match event {
        Event::Scalar(text, style, anchor, _) => (
            Value::Scalar(text.into_owned(), style == ScalarStyle::Plain),
            anchor,
        ),
        Event::Alias(id) => {
            return anchors.get(&id).cloned().ok_or(Error {
                line,
                msg: "alias of an anchor not defined before it".into(),
            })
        }
        Event::SequenceStart(anchor, _) => {
            let mut items = Vec::new();
            loop {
                let (event, span) = next(parser)?;
                if matches!(event, Event::SequenceEnd) {
                    break;
                }
                items.push(build(event, span, parser, anchors)?);
            }
            (Value::Seq(items), anchor)
        }
        Event::MappingStart(anchor, _) => (Value::Map(mapping(parser, anchors)?), anchor),
        other => {
            return Err(Error {
                line,
                msg: format!("unexpected {other:?}"),
            })
        }
    };
    let node = Node { line, value };
    if anchor > 0 {
        anchors.insert(anchor, node.clone());
    }
    Ok(node)
}

fn mapping<'a, T: Input>(
    parser: &mut Parser<'a, T>,
    anchors: &mut HashMap<usize, Node>,
) -> Result<Vec<(Node, Node)>, Error> {
    let mut entries: Vec<(Node, Node)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut merged = Vec::new();
    loop {
        let (event, span) = next(parser)?;
        if matches!(event, Event::MappingEnd) {
            break;
        }
        let key = build(event, span, parser, anchors)?;
        let (event, span) = next(parser)?;
        let value = build(event, span, parser, anchors)?;
        if matches!(&key.value, Value::Scalar(k, true) if k == "<<") {
            // The first source of a key wins among merged mappings, as YAML 1.1 says.
            let sources: Vec<&Node> = match &value.value {
                Value::Map(_) => vec![&value],
                Value::Seq(items) if items.iter().all(Node::is_map) => items.iter().collect(),
                _ => {
                    return Err(Error {
                        line: value.line,
                        msg: "a << merge key needs a mapping or a list of mappings".into(),
                    })
                }
            };
            for source in sources {
                for (k, v) in source.entries() {
                    if !merged
                        .iter()
                        .any(|(m, _): &(Node, Node)| m.text() == k.text())
                    {
                        merged.push((k.clone(), v.clone()));
                    }
                }
            }
            continue;
        }
        let name = match &key.value {
            Value::Scalar(s, _) => s.clone(),
            _ => format!("{:?}", key.value),
        };
        if let Some(first) = seen.get(&name) {
            return Err(Error {
                line: key.line,
                msg: format!("duplicate key {name:?} (first at line {first})"),
            });
        }
        seen.insert(name, key.line);
        entries.push((key, value));
    }
    // Keys written out in the mapping override merged ones, wherever the `<<` stands.
    for (k, v) in merged {
        if !seen.contains_key(k.text()) {
            entries.push((k, v));
        }
    }
    Ok(entries)
}
