//! Numbers written the way the provider writes them: whole values without a fraction.

use serde::Serializer;

/// Serialises a whole `f64` as an integer (`5`, not `5.0`), anything else as a float.
pub(crate) fn serialize_whole_as_integer<S: Serializer>(
    value: &f64,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    if crate::float::fract(*value) == 0.0 && value.abs() < 9.0e15 {
        serializer.serialize_i64(*value as i64)
    } else {
        serializer.serialize_f64(*value)
    }
}
