//! Errors of loading and running a detection model.

/// Why a model could not be read or run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ModelError {
    /// The model file is not a readable TensorFlow Lite file.
    #[error("the face model is corrupt: {0}")]
    Corrupt(&'static str),
    /// The model uses an operator or layout this runner does not implement.
    #[error("the face model uses something this runner does not support: {0}")]
    Unsupported(String),
}
