//! The engine: everything the sandbox does that no provider's wire format decides. Face
//! detection ([`detect`]), the classical swap ([`swap`] aligned by keypoints, blended by
//! [`poisson`]), colour spaces ([`color`]), matching faces to references
//! ([`similarity`]), videos through ffmpeg ([`video`]), the blocking work of each kind of swap
//! ([`jobs`]), inputs fetched under the origin policy ([`fetch`]), tasks ([`tasks`]), results on
//! disk ([`store`]) and webhook delivery ([`webhook`]). Provider modules
//! ([`crate::providers`]) turn their requests into a [`tasks::Job`] and report the outcome in
//! their own words.

pub mod codec;
pub mod color;
pub mod detect;
pub mod fetch;
pub mod jobs;
pub mod poisson;
pub mod similarity;
pub mod store;
pub mod swap;
pub mod tasks;
pub mod video;
pub mod webhook;
