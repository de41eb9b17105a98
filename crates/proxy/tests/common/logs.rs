//! Every log line of a test binary at trace level, captured in memory: the first call installs
//! the global subscriber, so a binary that reads logs calls [`log_text`] before it starts a
//! proxy and installs no subscriber of its own.

use std::sync::{Arc, Mutex, OnceLock};

/// The captured bytes; a writer for the subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every line logged so far by this test binary (the proxy's and the sandbox's alike), at trace
/// level, without colours.
pub fn log_text() -> String {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    let logs = LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        captured
    });
    String::from_utf8_lossy(&logs.0.lock().expect("lock")).into_owned()
}
