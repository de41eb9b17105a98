//! Messages built without Rust's formatting machinery: [`text!`](crate::text!) joins pieces (text
//! and whole numbers) into a `String` by appending them one after another.
//!
//! `format!` is the natural way to write a message, but in the browser library's wasm the first
//! `format!` of a `&str` or an integer links `core::fmt`'s padding, integer and character
//! writers (about 4 KB of wasm). Every message the library can produce (its own, and core's
//! validation messages it shares with the proxy) is written with `text!` instead, and says exactly
//! what the `format!` said.

use alloc::string::String;

use core::num::NonZeroU64;

/// The `String` a [`text!`](crate::text!) message is built in (for crates without `std`).
pub type Text = alloc::string::String;

/// One piece of a [`text!`](crate::text!) message.
pub trait Piece {
    /// Appends the piece to `out`.
    fn append_to(&self, out: &mut String);
}

impl Piece for str {
    fn append_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for String {
    fn append_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for char {
    fn append_to(&self, out: &mut String) {
        out.push(*self);
    }
}

impl Piece for bool {
    fn append_to(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

impl<T: Piece + ?Sized> Piece for &T {
    fn append_to(&self, out: &mut String) {
        (**self).append_to(out);
    }
}

/// Appends `n` in decimal, as `Display` writes it (most significant digit first, by powers of
/// ten: no buffer to index, so no bounds checks and no panics).
fn append_unsigned(out: &mut String, n: u64) {
    let mut power = NonZeroU64::MIN;
    while let Some(next) = power.checked_mul(TEN) {
        if next.get() > n {
            break;
        }
        power = next;
    }
    loop {
        // A digit: below 10, so the cast cannot truncate.
        out.push(char::from(b'0' + (n / power % 10) as u8));
        match NonZeroU64::new(power.get() / 10) {
            Some(lower) => power = lower,
            None => break,
        }
    }
}

const TEN: NonZeroU64 = match NonZeroU64::new(10) {
    Some(ten) => ten,
    None => unreachable!(),
};

macro_rules! unsigned_pieces {
    ($($t:ty),*) => {$(
        impl Piece for $t {
            fn append_to(&self, out: &mut String) {
                append_unsigned(out, u64::from(*self));
            }
        }
    )*};
}
unsigned_pieces!(u8, u16, u32, u64);

impl Piece for usize {
    fn append_to(&self, out: &mut String) {
        // usize is at most 64 bits on every target this crate builds for.
        append_unsigned(out, *self as u64);
    }
}

macro_rules! signed_pieces {
    ($($t:ty),*) => {$(
        impl Piece for $t {
            fn append_to(&self, out: &mut String) {
                if *self < 0 {
                    out.push('-');
                }
                append_unsigned(out, i64::from(*self).unsigned_abs());
            }
        }
    )*};
}
signed_pieces!(i8, i16, i32, i64);

/// Joins its pieces (anything implementing [`Piece`]: `&str`, `String`, `char`, whole numbers)
/// into a new `String`: `text!(field, " has ", count, " entries")` is
/// `format!("{field} has {count} entries")` without `core::fmt`.
#[macro_export]
macro_rules! text {
    ($($piece:expr),* $(,)?) => {{
        // `text!()` appends nothing: `mut` is then unused.
        #[allow(unused_mut)]
        let mut out = ::alloc::string::String::new();
        $( $crate::text::Piece::append_to(&$piece, &mut out); )*
        out
    }};
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;
    use proptest::prelude::*;

    #[test]
    fn pieces_join_in_order() {
        let field = "index";
        let owned = String::from("face_image");
        assert_eq!(
            text!(
                field,
                " has ",
                3usize,
                " entries but ",
                owned,
                " has ",
                2u32,
                '.'
            ),
            "index has 3 entries but face_image has 2."
        );
        assert_eq!(text!(), "");
    }

    #[test]
    fn extremes_match_display() {
        assert_eq!(text!(u64::MAX), u64::MAX.to_string());
        assert_eq!(text!(i64::MIN), i64::MIN.to_string());
        assert_eq!(text!(0u8, ' ', -1i32), "0 -1");
        assert_eq!(text!(true, ' ', false), "true false");
    }

    proptest! {
        #[test]
        fn numbers_match_display(n in any::<i64>(), u in any::<u64>(), s in any::<u16>()) {
            prop_assert_eq!(text!(n), n.to_string());
            prop_assert_eq!(text!(u), u.to_string());
            prop_assert_eq!(text!(s), s.to_string());
        }
    }
}
