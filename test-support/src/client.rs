//! A blocking HTTP/1.1 client for tests: one agent, one keep-alive connection, replies of any
//! status returned as they are.

use std::net::SocketAddr;
use std::time::Duration;

use ureq::http::Request;

/// One reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// Names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as JSON, or `Null` if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A client of one server.
pub struct Client {
    agent: ureq::Agent,
    base: String,
}

impl Client {
    /// A client of the server at `addr`. No connection is made until the first request; the
    /// connection is then kept for the next ones.
    pub fn new(addr: SocketAddr) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections(1)
            .max_idle_connections_per_host(1)
            .no_delay(true)
            .timeout_global(Some(Duration::from_secs(30)))
            .max_redirects(0)
            .build()
            .new_agent();
        Client { agent, base: format!("http://{addr}") }
    }

    /// Sends one request and reads its whole reply. An error means no reply came (refused,
    /// reset, timed out), never an error status.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Reply, ureq::Error> {
        let mut request = Request::builder().method(method).uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = match body {
            Some(body) => self.agent.run(request.body(body.to_vec())?)?,
            None => self.agent.run(request.body(())?)?,
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = if method == "HEAD" { Vec::new() } else { response.into_body().read_to_vec()? };
        Ok(Reply { status, headers, body })
    }

    pub fn get(&self, path: &str) -> Result<Reply, ureq::Error> {
        self.send("GET", path, &[], None)
    }
}
