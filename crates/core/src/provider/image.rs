//! Images a provider limits in size, for the checks that need the file itself. Core checks what
//! the request carries (a base64 image's header); the proxy checks the images it stored itself
//! and a request names by URL ([`LimitedImage`]); a remote URL cannot be checked without fetching
//! it, and is left to the provider.

use alloc::string::String;

use crate::media::MaxResolution;

/// One image URL of a prepared request and the size its provider allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitedImage {
    /// The field, as the proxy names it on the wire (`input.swap_image`).
    pub field: &'static str,
    /// The image's URL.
    pub url: String,
    /// The largest size the provider takes.
    pub max: MaxResolution,
}
