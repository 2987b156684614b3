//! The arguments of one transcript command, as the `datadriven` directive
//! line gives them: `verb 1 2 ms=50 voters=(1,2,3) drop=true`. Bare numbers
//! are node ids; bare words are payloads; `key=value` and `key=(a,b)` are
//! options. Every argument must be used: a leftover one is reported, so a
//! typo in a script cannot pass silently.

use std::collections::BTreeMap;
use std::str::FromStr;
use steadfast::NodeId;

/// The arguments of one command, consumed as the verb reads them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Args {
    args: BTreeMap<String, Vec<String>>,
}

impl Args {
    /// Arguments as `datadriven::TestCase::args` holds them: each name with
    /// its values (none for a bare word).
    pub fn new(args: impl IntoIterator<Item = (String, Vec<String>)>) -> Args {
        Args {
            args: args.into_iter().collect(),
        }
    }

    /// Take the bare numbers: node ids, in increasing order.
    pub fn ids(&mut self) -> Vec<NodeId> {
        let bare: Vec<String> = self
            .args
            .iter()
            .filter(|(k, v)| v.is_empty() && k.parse::<u64>().is_ok())
            .map(|(k, _)| k.clone())
            .collect();
        let mut ids: Vec<NodeId> = bare
            .iter()
            .filter_map(|k| {
                self.args.remove(k);
                k.parse().ok().map(NodeId)
            })
            .collect();
        ids.sort();
        ids
    }

    /// Take exactly one bare number.
    pub fn id(&mut self) -> Result<NodeId, String> {
        match self.ids().as_slice() {
            [id] => Ok(*id),
            other => Err(format!("expected one node id, got {}", other.len())),
        }
    }

    /// Take the bare words that are not numbers (payloads), in sorted
    /// order (the directive line's order is not kept).
    pub fn words(&mut self) -> Vec<String> {
        let bare: Vec<String> = self
            .args
            .iter()
            .filter(|(k, v)| v.is_empty() && k.parse::<u64>().is_err())
            .map(|(k, _)| k.clone())
            .collect();
        for word in &bare {
            self.args.remove(word);
        }
        bare
    }

    /// Take the option `name=value`, if given.
    pub fn opt<T: FromStr>(&mut self, name: &str) -> Result<Option<T>, String> {
        let Some(values) = self.args.remove(name) else {
            return Ok(None);
        };
        match values.as_slice() {
            [value] => value
                .parse()
                .map(Some)
                .map_err(|_| format!("cannot parse {name}={value}")),
            _ => Err(format!("{name} takes one value")),
        }
    }

    /// Take the option `name=value`, or `default`.
    pub fn opt_or<T: FromStr>(&mut self, name: &str, default: T) -> Result<T, String> {
        Ok(self.opt(name)?.unwrap_or(default))
    }

    /// Take the list option `name=(1,2,3)` (or `name=1`) of numbers.
    pub fn list(&mut self, name: &str) -> Result<Option<Vec<u64>>, String> {
        let Some(values) = self.args.remove(name) else {
            return Ok(None);
        };
        values
            .iter()
            .map(|v| v.parse().map_err(|_| format!("cannot parse {name}: {v}")))
            .collect::<Result<Vec<u64>, String>>()
            .map(Some)
    }

    /// Fail if an argument was not used.
    pub fn finish(&self) -> Result<(), String> {
        if self.args.is_empty() {
            Ok(())
        } else {
            let names: Vec<&str> = self.args.keys().map(String::as_str).collect();
            Err(format!("unknown argument(s): {}", names.join(", ")))
        }
    }
}
