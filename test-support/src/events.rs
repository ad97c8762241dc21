//! A blocking Server-Sent Events reader for tests and benchmarks: one stream per TCP
//! connection, asked as HTTP/1.0 so the body comes as plain bytes until the server closes it
//! (no chunked framing to undo).

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// One event as the server sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// The `event:` field; empty when there was none.
    pub event: String,
    pub data: String,
    pub id: Option<String>,
    pub retry: Option<u64>,
}

impl Event {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap_or(serde_json::Value::Null)
    }

    /// A JSON list field of the data, as strings.
    pub fn list(&self, field: &str) -> Vec<String> {
        self.json()[field]
            .as_array()
            .map_or_else(Vec::new, |a| a.iter().map(|s| s.as_str().unwrap_or_default().to_string()).collect())
    }
}

/// What reading the next event gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Event(Event),
    /// The server ended the stream.
    End,
    /// Nothing came in time.
    TimedOut,
}

/// An open event stream, or the error reply that came instead.
pub struct EventStream {
    reader: BufReader<TcpStream>,
    pub status: u16,
    /// Names in lowercase.
    pub headers: Vec<(String, String)>,
    /// Heartbeat comments seen so far.
    pub comments: usize,
}

impl EventStream {
    /// Opens `path` on `addr`, sending `Last-Event-ID` if given; waits for the reply's head.
    pub fn open(addr: SocketAddr, path: &str, last_event_id: Option<&str>) -> std::io::Result<EventStream> {
        let mut socket = TcpStream::connect(addr)?;
        socket.set_nodelay(true)?;
        socket.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: text/event-stream\r\n");
        if let Some(id) = last_event_id {
            request.push_str(&format!("Last-Event-ID: {id}\r\n"));
        }
        request.push_str("\r\n");
        socket.write_all(request.as_bytes())?;
        let mut reader = BufReader::new(socket);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut headers = Vec::new();
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                break;
            }
            if let Some((name, value)) = line.trim_end().split_once(':') {
                headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
            }
        }
        Ok(EventStream { reader, status, headers, comments: 0 })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The rest of the body (for an error reply).
    pub fn rest(mut self) -> String {
        let mut body = String::new();
        let _ = self.reader.read_to_string(&mut body);
        body
    }

    /// The next event (heartbeats skipped and counted), waiting at most `patience`.
    pub fn next_within(&mut self, patience: Duration) -> Next {
        let deadline = Instant::now() + patience;
        let mut event = Event::default();
        let mut fields = 0;
        let mut line = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Next::TimedOut;
            }
            let _ = self.reader.get_ref().set_read_timeout(Some(left));
            match self.reader.read_line(&mut line) {
                Ok(0) => return Next::End,
                Ok(_) if !line.ends_with('\n') => continue,
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return Next::End,
                Err(e) => panic!("reading an event stream: {e}"),
            }
            let text = line.trim_end_matches(['\r', '\n']).to_string();
            line.clear();
            if text.is_empty() {
                if fields > 0 {
                    return Next::Event(event);
                }
                continue;
            }
            if text.starts_with(':') {
                self.comments += 1;
                continue;
            }
            fields += 1;
            let (name, value) = text.split_once(':').unwrap_or((&text, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match name {
                "event" => event.event = value.to_string(),
                "data" if event.data.is_empty() => event.data = value.to_string(),
                "data" => event.data = format!("{}\n{value}", event.data),
                "id" => event.id = Some(value.to_string()),
                "retry" => event.retry = value.parse().ok(),
                _ => {}
            }
        }
    }

    /// The next event, which must come within `patience`.
    pub fn next(&mut self, patience: Duration) -> Event {
        match self.next_within(patience) {
            Next::Event(event) => event,
            other => panic!("waited {patience:?} for an event, got {other:?}"),
        }
    }
}
