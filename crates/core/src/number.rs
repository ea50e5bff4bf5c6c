//! Numbers as people read them in messages.

/// A number in short form: Rust's shortest round-trip decimal (`0.1`, `250`, `-70.5`,
/// `3400`), unless scientific notation is at least three characters shorter (`1e6`,
/// `1e30`, `2.5e-9`), so that an error never prints 31 digits.
pub fn short(x: f64) -> String {
    let plain = format!("{x}");
    if !x.is_finite() {
        return plain;
    }
    let sci = format!("{x:e}");
    if sci.len() + 3 <= plain.len() {
        sci
    } else {
        plain
    }
}

#[cfg(test)]
mod tests {
    use super::short;

    #[test]
    fn short_forms() {
        assert_eq!(short(0.1), "0.1");
        assert_eq!(short(250.0), "250");
        assert_eq!(short(-70.5), "-70.5");
        assert_eq!(short(1e30), "1e30");
        assert_eq!(short(1e300), "1e300");
        assert_eq!(short(2.5e-9), "2.5e-9");
        assert_eq!(short(0.0), "0");
        assert_eq!(short(f64::NAN), "NaN");
        assert_eq!(short(f64::INFINITY), "inf");
        assert_eq!(short(3400.0), "3400");
        assert_eq!(short(10000.0), "10000");
        assert_eq!(short(1e6), "1e6");
        assert_eq!(short(1e8), "1e8");
        assert_eq!(short(0.0001), "0.0001");
        assert_eq!(short(123456789012345.0), "123456789012345");
    }
}
