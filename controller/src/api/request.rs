//! HTTP/1.x request heads, parsed with limits and without panics.
//!
//! The API serves `GET`s of small documents, so a request is only its head: the request
//! line and the header fields, up to the empty line. [`parse_request`] is handed the
//! bytes read so far and says whether the head is complete (and how many bytes it took,
//! so pipelined requests stay in the buffer), incomplete, or refused with the status to
//! answer. Everything it does not need (most header fields) is skipped, not stored; what
//! it refuses, it refuses before the limits are crossed: a head longer than
//! [`MAX_HEAD`] (431), a target longer than [`MAX_TARGET`] (414), more than
//! [`MAX_HEADERS`] fields (431), anything that is not `HTTP/1.0` or `HTTP/1.1` (505 for
//! another version, 400 for garbage), folded or malformed fields (400), and a body
//! announced in a way that cannot be measured (400). A request announcing a body is
//! parsed, and [`Request::has_body`] tells the server to answer and close, since the body
//! is never read.

/// The longest request head (request line and fields) taken.
pub const MAX_HEAD: usize = 8 * 1024;

/// The longest request target taken.
pub const MAX_TARGET: usize = 2048;

/// The most header fields taken.
pub const MAX_HEADERS: usize = 64;

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, as sent (methods are case-sensitive).
    pub method: String,
    /// The target: an absolute path with an optional query.
    pub target: String,
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    /// The `Host` field, if sent.
    pub host: Option<String>,
    /// Whether the client wants the connection kept open after the response.
    pub keep_alive: bool,
    /// The request announces a body (which is never read).
    pub has_body: bool,
}

/// What [`parse_request`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// The head is not complete yet: read more.
    Partial,
    /// A whole head, and the bytes of the buffer it took.
    Complete(Request, usize),
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The head, or its fields, are too large (431).
    #[error("request head too large")]
    HeadTooLarge,
    /// The target is too long (414).
    #[error("request target too long")]
    TargetTooLong,
    /// Not HTTP/1.0 or HTTP/1.1 (505).
    #[error("HTTP version not supported")]
    Version,
    /// Anything else malformed (400).
    #[error("malformed request: {0}")]
    Malformed(&'static str),
}

impl RequestError {
    /// The status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            RequestError::HeadTooLarge => 431,
            RequestError::TargetTooLong => 414,
            RequestError::Version => 505,
            RequestError::Malformed(_) => 400,
        }
    }
}

/// The end of the head in `buf` (the index after the empty line), if there is one.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == b'\n' {
            match buf.get(i + 1) {
                Some(b'\n') => return Some(i + 2),
                Some(b'\r') if buf.get(i + 2) == Some(&b'\n') => return Some(i + 3),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Parses the request head at the start of `buf` (see the module documentation).
pub fn parse_request(buf: &[u8]) -> Result<Parsed, RequestError> {
    // Empty lines before a request are ignored (RFC 9112, 2.2).
    let skip = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buf.len());
    let rest = &buf[skip..];
    let Some(end) = head_end(rest) else {
        return if rest.len() > MAX_HEAD {
            Err(RequestError::HeadTooLarge)
        } else {
            Ok(Parsed::Partial)
        };
    };
    if end > MAX_HEAD {
        return Err(RequestError::HeadTooLarge);
    }
    let head = std::str::from_utf8(&rest[..end])
        .map_err(|_| RequestError::Malformed("the head is not UTF-8"))?;
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let line = lines.next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(RequestError::Malformed(
            "the request line is not METHOD TARGET VERSION",
        ));
    };
    if !is_token(method) {
        return Err(RequestError::Malformed("bad method"));
    }
    if target.len() > MAX_TARGET {
        return Err(RequestError::TargetTooLong);
    }
    if !target.starts_with('/') || !target.bytes().all(|c| c.is_ascii_graphic()) {
        return Err(RequestError::Malformed(
            "the target must be an absolute path",
        ));
    }
    let minor = match version {
        "HTTP/1.1" => 1,
        "HTTP/1.0" => 0,
        v if v.starts_with("HTTP/")
            && v.len() == 8
            && v.as_bytes()[5].is_ascii_digit()
            && v.as_bytes()[6] == b'.'
            && v.as_bytes()[7].is_ascii_digit() =>
        {
            return Err(RequestError::Version)
        }
        _ => return Err(RequestError::Malformed("bad HTTP version")),
    };
    let mut req = Request {
        method: method.to_string(),
        target: target.to_string(),
        minor,
        host: None,
        keep_alive: minor == 1,
        has_body: false,
    };
    let mut fields = 0;
    let mut content_length: Option<u64> = None;
    for line in lines {
        if line.is_empty() {
            // The empty line that ends the head (and the empty split after it).
            continue;
        }
        fields += 1;
        if fields > MAX_HEADERS {
            return Err(RequestError::HeadTooLarge);
        }
        if line.starts_with([' ', '\t']) {
            return Err(RequestError::Malformed("folded header field"));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(RequestError::Malformed("header field without a colon"));
        };
        if !is_token(name) {
            return Err(RequestError::Malformed("bad header field name"));
        }
        let value = value.trim_matches([' ', '\t']);
        if value.bytes().any(|c| c.is_ascii_control() && c != b'\t') {
            return Err(RequestError::Malformed(
                "control character in a header field",
            ));
        }
        if name.eq_ignore_ascii_case("host") {
            if req.host.is_some() {
                return Err(RequestError::Malformed("more than one Host field"));
            }
            req.host = Some(value.to_string());
        } else if name.eq_ignore_ascii_case("connection") {
            for option in value.split(',').map(str::trim) {
                if option.eq_ignore_ascii_case("close") {
                    req.keep_alive = false;
                } else if option.eq_ignore_ascii_case("keep-alive") && minor == 0 {
                    req.keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            let n: u64 = if !value.is_empty() && value.bytes().all(|c| c.is_ascii_digit()) {
                value
                    .parse()
                    .map_err(|_| RequestError::Malformed("bad Content-Length"))?
            } else {
                return Err(RequestError::Malformed("bad Content-Length"));
            };
            if content_length.is_some_and(|c| c != n) {
                return Err(RequestError::Malformed("conflicting Content-Length fields"));
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            req.has_body = true;
        }
    }
    if content_length.is_some_and(|n| n > 0) {
        req.has_body = true;
    }
    if minor == 1 && req.host.is_none() {
        return Err(RequestError::Malformed("HTTP/1.1 needs a Host field"));
    }
    Ok(Parsed::Complete(req, skip + end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(text: &str) -> (Request, usize) {
        match parse_request(text.as_bytes()) {
            Ok(Parsed::Complete(r, n)) => (r, n),
            other => panic!("{text:?}: {other:?}"),
        }
    }

    fn refused(text: &[u8]) -> u16 {
        match parse_request(text) {
            Err(e) => e.status(),
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(text)),
        }
    }

    #[test]
    fn a_get_parses_with_its_host_and_keep_alive() {
        let text = "GET /api/switches?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\
                    User-Agent: t\r\n\r\nGET / HTTP/1.1\r\n";
        let (r, n) = complete(text);
        assert_eq!(r.method, "GET");
        assert_eq!(r.target, "/api/switches?x=1");
        assert_eq!(r.minor, 1);
        assert_eq!(r.host.as_deref(), Some("127.0.0.1:8080"));
        assert!(r.keep_alive && !r.has_body);
        assert_eq!(
            &text[n..],
            "GET / HTTP/1.1\r\n",
            "the pipelined request stays"
        );
        let (r, _) = complete("\r\nGET / HTTP/1.0\n\n");
        assert_eq!((r.minor, r.keep_alive, r.host), (0, false, None));
        let (r, _) = complete("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
        assert!(r.keep_alive);
        let (r, _) = complete("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        assert!(!r.keep_alive);
    }

    #[test]
    fn incomplete_heads_ask_for_more_until_the_limit() {
        let text = b"GET /api/links HTTP/1.1\r\nHost: a\r\n\r\n";
        for n in 0..text.len() {
            assert_eq!(parse_request(&text[..n]), Ok(Parsed::Partial), "{n}");
        }
        let mut long = b"GET / HTTP/1.1\r\nX: ".to_vec();
        long.resize(MAX_HEAD + 1, b'a');
        assert_eq!(refused(&long), 431);
        long.extend_from_slice(b"\r\n\r\n");
        assert_eq!(refused(&long), 431);
    }

    #[test]
    fn bodies_are_noticed_and_bad_lengths_refused() {
        let (r, _) = complete("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n");
        assert!(r.has_body);
        let (r, _) = complete("GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
        assert!(!r.has_body);
        let (r, _) = complete("GET /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert!(r.has_body);
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"),
            400
        );
        assert_eq!(
            refused(
                b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n"
            ),
            400
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            400
        );
    }

    #[test]
    fn malformed_heads_get_their_status() {
        for (text, status) in [
            (&b"GET /\r\n\r\n"[..], 400),
            (b"GET / HTTP/1.1 x\r\nHost: a\r\n\r\n", 400),
            (b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            (b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            (b"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            (b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
            (b"GET / HTTP/1.1\r\n\r\n", 400),
            (b"GET / FTP/1.1\r\nHost: a\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost a\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHo st: a\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", 400),
            (b"GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ] {
            assert_eq!(refused(text), status, "{:?}", String::from_utf8_lossy(text));
        }
        let target = "/".repeat(MAX_TARGET + 1);
        assert_eq!(
            refused(format!("GET {target} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes()),
            414
        );
        let mut many = String::from("GET / HTTP/1.1\r\nHost: a\r\n");
        for i in 0..MAX_HEADERS {
            many.push_str(&format!("X-{i}: y\r\n"));
        }
        many.push_str("\r\n");
        assert_eq!(refused(many.as_bytes()), 431);
    }

    #[test]
    fn no_input_makes_it_panic() {
        // A small xorshift: deterministic noise, and mutations of a valid head.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let valid = b"GET /api/flows/00000000000000c1?since=3 HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                      Content-Length: 0\r\nConnection: keep-alive\r\n\r\n";
        let alphabet = b"GET /HTP1.0\r\n: \t?=&\x00\xff\xc3";
        for round in 0..20_000 {
            let mut buf: Vec<u8> = if round % 2 == 0 {
                valid.to_vec()
            } else {
                let len = (next() % 200) as usize;
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            };
            for _ in 0..(next() % 4) {
                if buf.is_empty() {
                    break;
                }
                let i = (next() % buf.len() as u64) as usize;
                buf[i] = next() as u8;
            }
            let cut = if buf.is_empty() {
                0
            } else {
                (next() % (buf.len() as u64 + 1)) as usize
            };
            if let Ok(Parsed::Complete(_, n)) = parse_request(&buf[..cut]) {
                assert!(n <= cut);
            }
        }
    }
}
