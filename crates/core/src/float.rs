//! The rounding the rules need (`ceil`, `floor`, `round`, `fract`) without `std`, whose `f64` methods
//! the browser library's build does not have: by the integer conversion, exact for every `f64`
//! (from 2^52 on, every `f64` is whole already).

/// From this magnitude on, every `f64` is a whole number.
const ALL_WHOLE: f64 = 4_503_599_627_370_496.0; // 2^52

/// `x` without its fractional part, toward zero (`f64::trunc`).
pub fn trunc(x: f64) -> f64 {
    if x.abs() < ALL_WHOLE {
        // Below 2^52 in magnitude the cast is exact.
        (x as i64 as f64).copysign(x)
    } else {
        x
    }
}

/// The smallest whole number at least `x` (`f64::ceil`).
pub fn ceil(x: f64) -> f64 {
    let whole = trunc(x);
    if x > whole {
        whole + 1.0
    } else {
        whole
    }
}

/// The largest whole number at most `x` (`f64::floor`).
pub fn floor(x: f64) -> f64 {
    let whole = trunc(x);
    if x < whole {
        whole - 1.0
    } else {
        whole
    }
}

/// The fractional part of `x` (`f64::fract`).
pub fn fract(x: f64) -> f64 {
    x - trunc(x)
}

/// The nearest whole number, halves away from zero (`f64::round`).
pub fn round(x: f64) -> f64 {
    let whole = trunc(x);
    if (x - whole).abs() >= 0.5 {
        whole + x.signum()
    } else {
        whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn they_agree_with_f64s_own_methods() {
        for x in [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            2.4999,
            3.0000001,
            -7.2,
            1e15 + 0.5,
            4.5e15,
            f64::MAX,
            f64::MIN_POSITIVE,
        ] {
            assert_eq!(ceil(x), x.ceil(), "ceil {x}");
            assert_eq!(floor(x), x.floor(), "floor {x}");
            assert_eq!(round(x), x.round(), "round {x}");
            assert_eq!(fract(x), x.fract(), "fract {x}");
        }
        assert!(fract(f64::NAN).is_nan() && fract(f64::INFINITY).is_nan());
    }
}
