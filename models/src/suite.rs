//! The model-checking suite: the registry of models `steadfast check` runs.

/// How hard the suite works: `Ci` fits the whole suite in minutes on two
/// cores; `Deep` uses the largest bounds that fit the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Bounded configurations for continuous integration.
    Ci,
    /// Larger bounds, for a nightly or a pre-release run.
    Deep,
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ci" => Ok(Profile::Ci),
            "deep" => Ok(Profile::Deep),
            other => Err(format!(
                "unknown profile {other:?}: expected \"ci\" or \"deep\""
            )),
        }
    }
}

/// The names of the models the suite knows, in the order it runs them.
pub fn model_names() -> Vec<&'static str> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_and_reject_unknown_names() {
        assert_eq!("ci".parse::<Profile>(), Ok(Profile::Ci));
        assert_eq!("deep".parse::<Profile>(), Ok(Profile::Deep));
        assert!("fast".parse::<Profile>().unwrap_err().contains("fast"));
    }
}
