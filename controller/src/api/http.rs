//! HTTP/1.1 connections of the API, on tokio: read a head, answer it, repeat.
//!
//! [`serve_connection`] owns the bytes and the time limits; what a request means is left
//! to the `answer` function it is given (the driver's, which takes the controller's lock
//! only to render). Pipelined requests are answered in order; a connection is closed
//! after [`HttpLimits::max_requests`] requests, on `Connection: close`, after a refused
//! head (the rest of the stream cannot be trusted), after a request that announced a body
//! (which is never read), and when the client is silent for [`HttpLimits::idle`] between
//! requests, or takes longer than [`HttpLimits::head`] to send one head or
//! [`HttpLimits::write`] to take a response.

use std::future::Future;
use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout_at, Instant};

use super::request::{parse_request, Parsed, MAX_HEAD};
use super::{host_is_loopback, route, ApiPolicy, Response, Route};

/// The limits of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Requests answered on one connection before it is closed.
    pub max_requests: usize,
    /// Silence allowed before a request (the connection is closed without a word).
    pub idle: Duration,
    /// Time allowed for one request head, from its first byte (then 408).
    pub head: Duration,
    /// Time allowed for writing one response.
    pub write: Duration,
}

impl HttpLimits {
    /// The limits the driver uses: 1000 requests, 30 s idle, 10 s per head and per
    /// response.
    pub const DEFAULT: HttpLimits = HttpLimits {
        max_requests: 1000,
        idle: Duration::from_secs(30),
        head: Duration::from_secs(10),
        write: Duration::from_secs(10),
    };
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits::DEFAULT
    }
}

/// Serves one connection until it closes (see the module documentation). `answer` turns
/// a routed request into its response.
pub async fn serve_connection<S, F, Fut>(
    mut stream: S,
    policy: ApiPolicy,
    limits: HttpLimits,
    mut answer: F,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnMut(Route) -> Fut,
    Fut: Future<Output = Response>,
{
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = vec![0u8; 4096];
    let mut out: Vec<u8> = Vec::with_capacity(4096);
    for served in 1..=limits.max_requests.max(1) {
        // Read until a whole head is in the buffer.
        let mut deadline = Instant::now()
            + if buf.is_empty() {
                limits.idle
            } else {
                limits.head
            };
        let parsed = loop {
            match parse_request(&buf) {
                Ok(Parsed::Partial) => {}
                other => break other,
            }
            let n = match timeout_at(deadline, stream.read(&mut chunk)).await {
                Err(_) if buf.is_empty() => return Ok(()),
                Err(_) => {
                    let r = Response::error(408, "the request head took too long");
                    return finish(&mut stream, &r, &mut out, limits.write).await;
                }
                Ok(r) => r?,
            };
            if n == 0 {
                return Ok(());
            }
            if buf.is_empty() {
                deadline = Instant::now() + limits.head;
            }
            // parse_request refuses heads over MAX_HEAD, but not empty lines before one:
            // never hold much more than that either way.
            if buf.len() + n > MAX_HEAD + chunk.len() {
                let r = Response::error(431, "request head too large");
                return finish(&mut stream, &r, &mut out, limits.write).await;
            }
            buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        };
        let (req, used) = match parsed {
            Ok(Parsed::Complete(req, used)) => (req, used),
            Ok(Parsed::Partial) => return Ok(()),
            Err(e) => {
                let r = Response::error(e.status(), &e);
                return finish(&mut stream, &r, &mut out, limits.write).await;
            }
        };
        buf.drain(..used.min(buf.len()));
        let response = if policy.loopback_hosts_only && !host_is_loopback(req.host.as_deref()) {
            Response::error(403, "the API answers only requests to a loopback host")
        } else {
            match route(&req.method, &req.target) {
                Ok(r) if !req.has_body => answer(r).await,
                Ok(_) => Response::error(400, "a GET carries no body"),
                Err(r) => r,
            }
        };
        let keep_alive = req.keep_alive && !req.has_body && served < limits.max_requests;
        out.clear();
        response.encode(keep_alive, &mut out);
        match timeout_at(Instant::now() + limits.write, stream.write_all(&out)).await {
            Ok(r) => r?,
            Err(_) => return Err(io::ErrorKind::TimedOut.into()),
        }
        if !keep_alive {
            let _ = stream.shutdown().await;
            return Ok(());
        }
    }
    Ok(())
}

/// Writes a last response and closes.
async fn finish<S: AsyncWrite + Unpin>(
    stream: &mut S,
    r: &Response,
    out: &mut Vec<u8>,
    write: Duration,
) -> io::Result<()> {
    out.clear();
    r.encode(false, out);
    match timeout_at(Instant::now() + write, stream.write_all(out)).await {
        Ok(r) => r?,
        Err(_) => return Err(io::ErrorKind::TimedOut.into()),
    }
    let _ = stream.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::duplex;

    async fn exchange(input: &[u8], policy: ApiPolicy) -> String {
        let (client, server) = duplex(64 * 1024);
        let task = tokio::spawn(serve_connection(
            server,
            policy,
            HttpLimits::DEFAULT,
            |r: Route| async move {
                Response::json(200, &serde_json::json!({ "route": format!("{r:?}") }))
            },
        ));
        let (mut rd, mut wr) = tokio::io::split(client);
        let input = input.to_vec();
        // The server may stop reading early (a refused head): the writer's error is fine.
        let writer = tokio::spawn(async move {
            let _ = wr.write_all(&input).await;
            let _ = wr.shutdown().await;
        });
        let mut text = String::new();
        rd.read_to_string(&mut text).await.unwrap();
        let _ = task.await.unwrap();
        writer.await.unwrap();
        text
    }

    const OPEN: ApiPolicy = ApiPolicy {
        loopback_hosts_only: false,
    };
    const LOOPBACK: ApiPolicy = ApiPolicy {
        loopback_hosts_only: true,
    };

    #[tokio::test]
    async fn pipelined_requests_are_answered_in_order_and_close_ends() {
        let text = exchange(
            b"GET /api/links HTTP/1.1\r\nHost: localhost\r\n\r\n\
              GET /api/changes?since=7 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n\
              GET /api/hosts HTTP/1.1\r\nHost: localhost\r\n\r\n",
            LOOPBACK,
        )
        .await;
        let links = text.find("Links").expect(&text);
        let changes = text.find("Changes { since: 7 }").expect(&text);
        assert!(links < changes);
        assert!(
            !text.contains("Hosts"),
            "closed after Connection: close:\n{text}"
        );
        assert_eq!(text.matches("HTTP/1.1 200 OK\r\n").count(), 2);
        assert!(text.contains("Connection: keep-alive\r\n"));
        assert!(text.contains("Connection: close\r\n"));
    }

    #[tokio::test]
    async fn errors_are_json_with_their_status() {
        let text = exchange(b"POST /api/links HTTP/1.1\r\nHost: a\r\n\r\n", OPEN).await;
        assert!(
            text.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
            "{text}"
        );
        assert!(text.contains("Allow: GET\r\n") && text.contains("\"status\":405"));
        let text = exchange(b"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n", OPEN).await;
        assert!(text.starts_with("HTTP/1.1 404 "), "{text}");
        let text = exchange(
            b"GET /nope HTTP/1.1\r\nHost: evil.example\r\n\r\n",
            LOOPBACK,
        )
        .await;
        assert!(text.starts_with("HTTP/1.1 403 "), "{text}");
        let text = exchange(b"BREW / HTCPCP/1.0\r\n\r\n", OPEN).await;
        assert!(text.starts_with("HTTP/1.1 400 "), "{text}");
        assert!(text.contains("Connection: close"));
        // A body is never read: answered, then closed.
        let text = exchange(
            b"GET /api/links HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n",
            OPEN,
        )
        .await;
        assert!(text.starts_with("HTTP/1.1 400 "), "{text}");
        assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "{text}");
    }

    #[tokio::test]
    async fn an_endless_head_is_cut_off() {
        let mut long = b"GET / HTTP/1.1\r\nX: ".to_vec();
        long.resize(10 * MAX_HEAD, b'a');
        let text = exchange(&long, OPEN).await;
        assert!(text.starts_with("HTTP/1.1 431 "), "{text}");
        let text = exchange(&b"\r\n".repeat(10 * MAX_HEAD), OPEN).await;
        assert!(
            text.starts_with("HTTP/1.1 431 "),
            "endless empty lines: {text}"
        );
    }

    const SHORT: HttpLimits = HttpLimits {
        max_requests: 2,
        idle: Duration::from_millis(100),
        head: Duration::from_millis(100),
        write: Duration::from_millis(100),
    };

    #[tokio::test]
    async fn a_silent_client_is_dropped_and_a_slow_head_timed_out() {
        let (mut client, server) = duplex(1024);
        let task = tokio::spawn(serve_connection(server, OPEN, SHORT, |_r: Route| async {
            Response::error(500, "unreachable")
        }));
        client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let mut text = String::new();
        client.read_to_string(&mut text).await.unwrap();
        assert!(text.starts_with("HTTP/1.1 408 "), "{text}");
        task.await.unwrap().unwrap();
        let (mut client, server) = duplex(1024);
        let task = tokio::spawn(serve_connection(server, OPEN, SHORT, |_r: Route| async {
            Response::error(500, "unreachable")
        }));
        let mut text = String::new();
        client.read_to_string(&mut text).await.unwrap();
        assert!(text.is_empty(), "an idle connection closes without a word");
        task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_connection_serves_at_most_max_requests() {
        let (mut client, server) = duplex(64 * 1024);
        let task = tokio::spawn(serve_connection(server, OPEN, SHORT, |_r: Route| async {
            Response::json(200, &serde_json::json!({}))
        }));
        client
            .write_all(&b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".repeat(3))
            .await
            .unwrap();
        let mut text = String::new();
        client.read_to_string(&mut text).await.unwrap();
        assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2, "{text}");
        assert!(text.ends_with("{}\n"), "{text}");
        assert!(text.contains("Connection: close"));
        task.await.unwrap().unwrap();
    }
}
