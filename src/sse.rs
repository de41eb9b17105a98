//! A Server-Sent Events parser (the WHATWG event-stream format), fed with text chunks as they
//! arrive from a fetch body stream.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` name, `message` when none was given.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Incremental parser state.
#[derive(Debug, Default)]
pub struct SseParser {
    line: String,
    event: String,
    data: String,
    has_data: bool,
    last_event_id: Option<String>,
    pending_id: Option<String>,
    skip_lf: bool,
}

impl SseParser {
    /// A parser with no resume id.
    pub fn new() -> Self {
        Self::default()
    }

    /// The last `id:` seen, to send back as `Last-Event-ID` on reconnect.
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }

    /// Feeds a chunk of text and returns the events it completes.
    pub fn push(&mut self, chunk: &str) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for c in chunk.chars() {
            if self.skip_lf {
                self.skip_lf = false;
                if c == '\n' {
                    continue;
                }
            }
            match c {
                '\r' | '\n' => {
                    self.skip_lf = c == '\r';
                    let line = std::mem::take(&mut self.line);
                    if let Some(event) = self.process_line(&line) {
                        events.push(event);
                    }
                }
                _ => self.line.push(c),
            }
        }
        events
    }

    fn process_line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = value.to_owned(),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.pending_id = Some(value.to_owned()),
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        if let Some(id) = self.pending_id.take() {
            self.last_event_id = Some(id);
        }
        let event = std::mem::take(&mut self.event);
        let data = std::mem::take(&mut self.data);
        if !std::mem::take(&mut self.has_data) {
            return None;
        }
        Some(SseEvent {
            event: if event.is_empty() {
                "message".to_owned()
            } else {
                event
            },
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events_split_across_chunks() {
        let mut parser = SseParser::new();
        assert!(parser.push("event: sta").is_empty());
        assert!(parser.push("tus\nid: 3\ndata: {\"a\":").is_empty());
        let events = parser.push("1}\n\n");
        assert_eq!(
            events,
            vec![SseEvent {
                event: "status".into(),
                data: "{\"a\":1}".into()
            }]
        );
        assert_eq!(parser.last_event_id(), Some("3"));
    }

    #[test]
    fn comments_keepalives_and_crlf() {
        let mut parser = SseParser::new();
        let events = parser.push(": keep-alive\r\n\r\ndata: one\r\ndata: two\r\n\r\n");
        assert_eq!(
            events,
            vec![SseEvent {
                event: "message".into(),
                data: "one\ntwo".into()
            }]
        );
        assert_eq!(parser.last_event_id(), None);
    }

    #[test]
    fn cr_then_lf_in_the_next_chunk_is_one_line_end() {
        let mut parser = SseParser::new();
        assert!(parser.push("data: x\r").is_empty());
        let events = parser.push("\n\r\n");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, "x");
    }
}
