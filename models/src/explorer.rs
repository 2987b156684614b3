//! The Explorer (stateright's web UI) over one check's model, as a reader
//! wants it: each state a few compact lines (role, epoch, log as positions,
//! commit and applied points, messages in flight; see
//! [`render`](crate::display::render)), steps in their one-line form, and
//! the same bounds as `steadfast check` (a depth-bounded check's depth
//! bound included).
//!
//! [`Explorable`] wraps the model without changing it: the same initial
//! states, actions, steps, boundary and properties. Only how a state and an
//! action print differs, and the depth a state was reached at travels with
//! it (it is not part of the state: equal states reached at different
//! depths are one state, as in a breadth-first search).

use crate::properties::{Model, State};
use crate::report::Action;
use crate::suite::Check;
use stateright::{Model as _, Path, Property};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

/// A model state with the depth it was reached at.
#[derive(Clone)]
pub struct Shown {
    /// The model state.
    pub state: State,
    /// Steps from an initial state.
    pub depth: usize,
    servers: usize,
}

impl PartialEq for Shown {
    fn eq(&self, other: &Shown) -> bool {
        self.state == other.state
    }
}

impl Hash for Shown {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.state.hash(h);
    }
}

impl fmt::Debug for Shown {
    /// The Explorer prints states with `{:#?}`; this is the compact form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::display::render(&self.state, self.servers))
    }
}

/// One check's model, for the Explorer.
pub struct Explorable {
    model: Model,
    /// The model's property conditions, by index.
    conditions: Vec<fn(&Model, &State) -> bool>,
    servers: usize,
    max_depth: usize,
    properties: Vec<Property<Explorable>>,
}

/// The Explorer evaluates properties through plain function pointers, so
/// each of the model's properties is reached through its index.
fn holds<const I: usize>(m: &Explorable, s: &Shown) -> bool {
    m.conditions
        .get(I)
        .is_none_or(|condition| condition(&m.model, &s.state))
}

/// One condition per property index; models have fewer.
const CONDITIONS: [fn(&Explorable, &Shown) -> bool; 24] = [
    holds::<0>,
    holds::<1>,
    holds::<2>,
    holds::<3>,
    holds::<4>,
    holds::<5>,
    holds::<6>,
    holds::<7>,
    holds::<8>,
    holds::<9>,
    holds::<10>,
    holds::<11>,
    holds::<12>,
    holds::<13>,
    holds::<14>,
    holds::<15>,
    holds::<16>,
    holds::<17>,
    holds::<18>,
    holds::<19>,
    holds::<20>,
    holds::<21>,
    holds::<22>,
    holds::<23>,
];

impl Explorable {
    /// The Explorer's view of `check`: its model at its bounds.
    pub fn new(check: &Check) -> Explorable {
        let servers = check.model.servers;
        let model = check.model.clone().into_model();
        let properties = model
            .properties()
            .iter()
            .zip(CONDITIONS)
            .map(|(p, condition)| Property {
                expectation: p.expectation.clone(),
                name: p.name,
                condition,
            })
            .collect();
        let conditions = model.properties().iter().map(|p| p.condition).collect();
        Explorable {
            model,
            conditions,
            servers,
            max_depth: check.max_depth,
            properties,
        }
    }

    fn shown(&self, state: State, depth: usize) -> Shown {
        Shown {
            state,
            depth,
            servers: self.servers,
        }
    }

    /// The model's path for one of the Explorer's paths.
    fn inner(&self, path: Path<Shown, Action>) -> Option<Path<State, Action>> {
        let steps = path.into_vec();
        let init = steps.first()?.0.state.clone();
        let actions: Vec<Action> = steps.into_iter().filter_map(|(_, a)| a).collect();
        Path::from_actions(&self.model, init, actions.iter())
    }
}

impl stateright::Model for Explorable {
    type State = Shown;
    type Action = Action;

    fn init_states(&self) -> Vec<Shown> {
        self.model
            .init_states()
            .into_iter()
            .map(|s| self.shown(s, 0))
            .collect()
    }

    fn actions(&self, state: &Shown, actions: &mut Vec<Action>) {
        if self.max_depth == 0 || state.depth + 1 < self.max_depth {
            self.model.actions(&state.state, actions);
        }
    }

    fn next_state(&self, state: &Shown, action: Action) -> Option<Shown> {
        let next = self.model.next_state(&state.state, action)?;
        Some(self.shown(next, state.depth + 1))
    }

    fn format_action(&self, action: &Action) -> String {
        crate::report::describe_action(action, self.servers)
    }

    fn format_step(&self, last: &Shown, action: Action) -> Option<String> {
        let next = self.model.next_state(&last.state, action)?;
        Some(crate::display::render(&next, self.servers))
    }

    fn as_svg(&self, path: Path<Shown, Action>) -> Option<String> {
        self.model.as_svg(self.inner(path)?)
    }

    fn properties(&self) -> Vec<Property<Explorable>> {
        self.properties.clone()
    }

    fn within_boundary(&self, state: &Shown) -> bool {
        stateright::Model::within_boundary(&self.model, &state.state)
    }
}

/// Why the Explorer cannot listen where it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum AddrError {
    /// Not an address (`host:port`, port at most 65535).
    #[error(
        "{addr:?} is not an address to listen on (want host:port, e.g. 127.0.0.1:3000): {reason}"
    )]
    Invalid {
        /// What was given.
        addr: String,
        /// Why it was refused.
        reason: String,
    },
    /// A valid address the Explorer cannot bind (in use, not local, not
    /// permitted).
    #[error("cannot listen on {addr}: {reason}")]
    Unavailable {
        /// The resolved address.
        addr: SocketAddr,
        /// The operating system's reason.
        reason: std::io::Error,
    },
}

/// Check that the Explorer can listen on `addr`: it must parse, resolve and
/// bind. Returns the address it bound (then released, for the Explorer's
/// web server to bind again at once).
pub fn bindable(addr: &str) -> Result<SocketAddr, AddrError> {
    let invalid = |reason: String| AddrError::Invalid {
        addr: addr.to_string(),
        reason,
    };
    let resolved = addr
        .to_socket_addrs()
        .map_err(|e| invalid(e.to_string()))?
        .next()
        .ok_or_else(|| invalid("it resolves to no address".to_string()))?;
    let listener = TcpListener::bind(resolved).map_err(|reason| AddrError::Unavailable {
        addr: resolved,
        reason,
    })?;
    listener
        .local_addr()
        .map_err(|reason| AddrError::Unavailable {
            addr: resolved,
            reason,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::{checks, Profile};

    fn check(family: &str) -> Check {
        checks(Profile::Ci)
            .into_iter()
            .find(|c| c.family == family)
            .expect("the family exists")
    }

    #[test]
    fn the_explorer_sees_the_models_states_compactly_and_its_properties() {
        let check = check("matrix");
        let explorable = Explorable::new(&check);
        let model = check.model.clone().into_model();
        assert_eq!(
            explorable
                .properties()
                .iter()
                .map(|p| p.name)
                .collect::<Vec<_>>(),
            model
                .properties()
                .iter()
                .map(|p| p.name)
                .collect::<Vec<_>>()
        );
        assert!(model.properties().len() <= CONDITIONS.len());
        let init = &explorable.init_states()[0];
        let text = format!("{init:#?}");
        assert!(text.len() < 1_000, "{text}");
        assert!(text.contains("Follower e0"), "{text}");
        let mut actions = Vec::new();
        explorable.actions(init, &mut actions);
        assert!(!actions.is_empty());
        let described = explorable.format_action(&actions[0]);
        assert!(!described.contains("request"), "{described}");
        let next = actions
            .into_iter()
            .find_map(|a| explorable.next_state(init, a))
            .expect("a step");
        assert_eq!(next.depth, 1);
        let always = explorable
            .properties()
            .into_iter()
            .filter(|p| p.expectation == stateright::Expectation::Always);
        for p in always {
            assert!((p.condition)(&explorable, &next), "{}", p.name);
        }
    }

    #[test]
    fn a_depth_bounded_check_stays_bounded_in_the_explorer() {
        let check = check("crash");
        assert!(check.max_depth > 0);
        let explorable = Explorable::new(&check);
        let mut state = explorable.init_states()[0].clone();
        let mut steps = 0;
        loop {
            let mut actions = Vec::new();
            explorable.actions(&state, &mut actions);
            let Some(next) = actions
                .into_iter()
                .find_map(|a| explorable.next_state(&state, a))
            else {
                break;
            };
            state = next;
            steps += 1;
        }
        assert!(steps < check.max_depth, "{steps} steps");
    }

    #[test]
    fn bad_addresses_are_refused_with_a_reason() {
        for bad in ["127.0.0.1:99999", "nonsense", "127.0.0.1"] {
            let err = bindable(bad).expect_err(bad).to_string();
            assert!(err.contains("not an address"), "{bad}: {err}");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
        let taken = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let addr = taken.local_addr().expect("its address").to_string();
        let err = bindable(&addr).expect_err("taken").to_string();
        assert!(err.starts_with("cannot listen on"), "{err}");
        assert!(bindable("127.0.0.1:0").is_ok());
    }
}
