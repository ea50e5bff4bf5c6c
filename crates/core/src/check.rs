//! Checks of single parameter values, one definition for every crate that checks
//! parameters: each check gives the [`Rule`] a value broke, which says what is allowed;
//! the caller names the field in its own error type.
//!
//! ```
//! use engram_core::check::{self, Rule};
//!
//! assert_eq!(check::positive(2.0), Ok(()));
//! assert_eq!(check::positive(0.0), Err(Rule::Positive));
//! assert_eq!(check::non_negative(f64::NAN), Err(Rule::NonNegative));
//! assert_eq!(Rule::Positive.allowed(), "must be a finite number > 0");
//! ```

/// A rule of a single value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A finite number > 0.
    Positive,
    /// A finite number >= 0.
    NonNegative,
    /// A finite number (not NaN nor infinite).
    Finite,
}

impl Rule {
    /// Whether `value` keeps the rule.
    pub fn holds(self, value: f64) -> bool {
        value.is_finite()
            && match self {
                Rule::Positive => value > 0.0,
                Rule::NonNegative => value >= 0.0,
                Rule::Finite => true,
            }
    }

    /// `Ok` if `value` keeps the rule, else the rule it broke.
    pub fn check(self, value: f64) -> Result<(), Rule> {
        if self.holds(value) { Ok(()) } else { Err(self) }
    }

    /// What the rule allows, as parameter errors say it ("must be a finite number > 0").
    pub fn allowed(self) -> &'static str {
        match self {
            Rule::Positive => "must be a finite number > 0",
            Rule::NonNegative => "must be a finite number >= 0",
            Rule::Finite => "must be finite",
        }
    }
}

/// `value` is a finite number > 0.
pub fn positive(value: f64) -> Result<(), Rule> {
    Rule::Positive.check(value)
}

/// `value` is a finite number >= 0.
pub fn non_negative(value: f64) -> Result<(), Rule> {
    Rule::NonNegative.check(value)
}

/// `value` is finite.
pub fn finite(value: f64) -> Result<(), Rule> {
    Rule::Finite.check(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_refuse_what_they_say() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(positive(v), Err(Rule::Positive));
            assert_eq!(non_negative(v), Err(Rule::NonNegative));
            assert_eq!(finite(v), Err(Rule::Finite));
        }
        assert_eq!(positive(0.0), Err(Rule::Positive));
        assert_eq!(positive(-1.0), Err(Rule::Positive));
        assert_eq!(positive(f64::MIN_POSITIVE), Ok(()));
        assert_eq!(non_negative(-0.0), Ok(()));
        assert_eq!(non_negative(-1e-300), Err(Rule::NonNegative));
        assert_eq!(finite(-1e300), Ok(()));
        assert_eq!(Rule::NonNegative.allowed(), "must be a finite number >= 0");
        assert_eq!(Rule::Finite.allowed(), "must be finite");
    }
}
