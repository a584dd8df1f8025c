//! Reading the order lane's HTTP/1.1 responses: the status line and headers parsed in place
//! with `httparse`, the body framed by `Content-Length` or chunked encoding, within
//! [`HEAD_LIMIT`] and [`BODY_LIMIT`], into buffers reused from one response to the next.

use super::HttpError;
use std::io::{self, Read};
use std::ops::Range;
use std::time::{Duration, Instant};

/// Longest status line plus header section accepted.
pub const HEAD_LIMIT: usize = 16 * 1024;
/// Longest body accepted (decoded, for a chunked one).
pub const BODY_LIMIT: usize = 1024 * 1024;
/// Room for chunk-size lines and trailers beyond the head and the body.
const FRAMING_LIMIT: usize = 64 * 1024;
/// Longest chunk-size line (size and extensions).
const CHUNK_LINE_LIMIT: usize = 1024;
/// Most header fields in a response (Cloudflare sends about 20).
const MAX_HEADERS: usize = 64;
/// Free room kept in the read buffer before each read.
const READ_CHUNK: usize = 4096;

/// How a response's body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    Length(usize),
    Chunked,
    Empty,
}

/// A parsed status line and header section.
#[derive(Clone, Debug)]
struct Head {
    status: u16,
    len: usize,
    framing: Framing,
    close: bool,
    retry_after: Option<Range<usize>>,
}

/// A complete response, its body and `Retry-After` in the reader's buffers.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    /// The server asked to close (`Connection: close`, HTTP/1.0) or sent bytes past the
    /// response: the connection is not reused.
    pub close: bool,
    retry_after: Option<Range<usize>>,
    /// In `raw` (`Content-Length`) or the whole decoded `body` (chunked) when `None`.
    body: Option<Range<usize>>,
}

/// Reads one response at a time into buffers it keeps (they grow to the largest response seen,
/// within the limits, and are never shrunk).
#[derive(Debug)]
pub struct ResponseReader {
    raw: Vec<u8>,
    filled: usize,
    /// A chunked body, decoded.
    body: Vec<u8>,
}

impl Default for ResponseReader {
    fn default() -> Self {
        ResponseReader {
            raw: vec![0; 2 * READ_CHUNK],
            filled: 0,
            body: Vec::with_capacity(READ_CHUNK),
        }
    }
}

fn offset_in(buf: &[u8], part: &[u8]) -> Range<usize> {
    let start = part.as_ptr() as usize - buf.as_ptr() as usize;
    start..start + part.len()
}

fn parse_length(v: &[u8]) -> Result<usize, HttpError> {
    let v = v.trim_ascii();
    if v.is_empty() || v.len() > 12 || !v.iter().all(u8::is_ascii_digit) {
        return Err(HttpError::Malformed("bad Content-Length"));
    }
    Ok(v.iter().fold(0usize, |n, d| n * 10 + usize::from(d - b'0')))
}

fn has_token(v: &[u8], token: &[u8]) -> bool {
    v.split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// Parses the head at the start of `buf`: `None` while incomplete.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return if buf.len() >= HEAD_LIMIT {
                Err(HttpError::TooLarge("header section over 16 KiB"))
            } else {
                Ok(None)
            };
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Err(HttpError::Malformed("too many header fields"));
        }
        Err(httparse::Error::Status | httparse::Error::Version) => {
            return Err(HttpError::Malformed("bad status line"));
        }
        Err(_) => return Err(HttpError::Malformed("bad header field")),
    };
    if len > HEAD_LIMIT {
        return Err(HttpError::TooLarge("header section over 16 KiB"));
    }
    let (Some(status), Some(version)) = (resp.code, resp.version) else {
        return Err(HttpError::Malformed("bad status line"));
    };
    let mut length = None;
    let mut chunked = false;
    let mut close = version == 0;
    let mut retry_after = None;
    for h in resp.headers.iter() {
        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-length") {
            let n = parse_length(h.value)?;
            if length.is_some_and(|l| l != n) {
                return Err(HttpError::Malformed("conflicting Content-Length"));
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            if chunked || !h.value.trim_ascii().eq_ignore_ascii_case(b"chunked") {
                return Err(HttpError::Malformed("unsupported Transfer-Encoding"));
            }
            chunked = true;
        } else if name.eq_ignore_ascii_case(b"connection") {
            close |= has_token(h.value, b"close");
        } else if name.eq_ignore_ascii_case(b"retry-after") {
            retry_after = Some(offset_in(buf, h.value.trim_ascii()));
        }
    }
    let framing = match (status, length, chunked) {
        (100..=199, _, _) => return Err(HttpError::Malformed("unexpected 1xx response")),
        (204 | 304, _, _) => Framing::Empty,
        (_, Some(_), true) => {
            return Err(HttpError::Malformed(
                "both Content-Length and Transfer-Encoding",
            ));
        }
        (_, Some(n), false) if n > BODY_LIMIT => {
            return Err(HttpError::TooLarge("body over 1 MiB"));
        }
        (_, Some(n), false) => Framing::Length(n),
        (_, None, true) => Framing::Chunked,
        (_, None, false) => {
            return Err(HttpError::Malformed("no Content-Length or chunked framing"));
        }
    };
    Ok(Some(Head {
        status,
        len,
        framing,
        close,
        retry_after,
    }))
}

impl ResponseReader {
    /// Reads one whole response from `r`. `deadline` bounds the whole read (each read is
    /// bounded by the socket's own timeout); `timeout` is what a timeout reports.
    pub fn read_from<R: Read>(
        &mut self,
        r: &mut R,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<Reply, HttpError> {
        self.filled = 0;
        self.body.clear();
        let mut head: Option<Head> = None;
        // Where the next chunk-size line starts (chunked bodies).
        let mut chunk_pos = 0;
        loop {
            if head.is_none() {
                head = parse_head(&self.raw[..self.filled])?;
                chunk_pos = head.as_ref().map_or(0, |h| h.len);
            }
            if let Some(h) = &head {
                let end = match h.framing {
                    Framing::Empty => Some(h.len),
                    Framing::Length(n) => Some(h.len + n).filter(|&e| self.filled >= e),
                    Framing::Chunked => self.decode_chunks(&mut chunk_pos)?,
                };
                if let Some(end) = end {
                    return Ok(Reply {
                        status: h.status,
                        close: h.close || self.filled > end,
                        retry_after: h.retry_after.clone(),
                        body: match h.framing {
                            Framing::Chunked => None,
                            _ => Some(h.len..end),
                        },
                    });
                }
            }
            self.fill(r, deadline, timeout)?;
        }
    }

    /// One read into the buffer, grown within the limits.
    fn fill<R: Read>(
        &mut self,
        r: &mut R,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), HttpError> {
        const RAW_LIMIT: usize = HEAD_LIMIT + BODY_LIMIT + FRAMING_LIMIT;
        if self.raw.len() - self.filled < READ_CHUNK {
            if self.raw.len() >= RAW_LIMIT {
                return Err(HttpError::TooLarge("response framing over the limits"));
            }
            let grown = (self.raw.len() * 2).min(RAW_LIMIT);
            self.raw.resize(grown, 0);
        }
        let n = loop {
            match r.read(&mut self.raw[self.filled..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(HttpError::Timeout(timeout));
                }
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err(HttpError::Closed { got: self.filled });
                }
                Err(e) => return Err(HttpError::Read(e)),
            }
        };
        if n == 0 {
            return Err(HttpError::Closed { got: self.filled });
        }
        self.filled += n;
        if Instant::now() > deadline {
            return Err(HttpError::Timeout(timeout));
        }
        Ok(())
    }

    /// Decodes the complete chunks from `*pos` on into `body`; the end of the response once
    /// the last chunk and the trailers are in.
    fn decode_chunks(&mut self, pos: &mut usize) -> Result<Option<usize>, HttpError> {
        loop {
            let buf = &self.raw[*pos..self.filled];
            let (line, size) = match httparse::parse_chunk_size(buf) {
                Ok(httparse::Status::Complete(x)) => x,
                Ok(httparse::Status::Partial) if buf.len() > CHUNK_LINE_LIMIT => {
                    return Err(HttpError::Malformed("chunk-size line too long"));
                }
                Ok(httparse::Status::Partial) => return Ok(None),
                Err(_) => return Err(HttpError::Malformed("bad chunk size")),
            };
            if line > CHUNK_LINE_LIMIT {
                return Err(HttpError::Malformed("chunk-size line too long"));
            }
            if size == 0 {
                let mut trailers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                return match httparse::parse_headers(&buf[line..], &mut trailers) {
                    Ok(httparse::Status::Complete((t, _))) => Ok(Some(*pos + line + t)),
                    Ok(httparse::Status::Partial) => Ok(None),
                    Err(_) => Err(HttpError::Malformed("bad trailer")),
                };
            }
            let size = usize::try_from(size)
                .ok()
                .filter(|&s| s <= BODY_LIMIT - self.body.len())
                .ok_or(HttpError::TooLarge("body over 1 MiB"))?;
            let Some(crlf) = buf.get(line + size..line + size + 2) else {
                return Ok(None);
            };
            if crlf != b"\r\n" {
                return Err(HttpError::Malformed("chunk not followed by CRLF"));
            }
            self.body.extend_from_slice(&buf[line..line + size]);
            *pos += line + size + 2;
        }
    }

    /// The body of `reply`, the latest response read.
    pub fn body(&self, reply: &Reply) -> &[u8] {
        match &reply.body {
            Some(r) => &self.raw[r.clone()],
            None => &self.body,
        }
    }

    /// `reply`'s `Retry-After` value, when it had one in ASCII.
    pub fn retry_after(&self, reply: &Reply) -> Option<&str> {
        let r = reply.retry_after.clone()?;
        std::str::from_utf8(&self.raw[r]).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out `data` at most `step` bytes per read, then EOF.
    struct Drip<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Drip<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn read_steps(data: &[u8], step: usize) -> Result<(Reply, Vec<u8>), HttpError> {
        let mut rd = ResponseReader::default();
        let t = Duration::from_secs(5);
        let reply = rd.read_from(&mut Drip { data, step }, Instant::now() + t, t)?;
        let body = rd.body(&reply).to_vec();
        Ok((reply, body))
    }

    fn read(data: &[u8]) -> Result<(Reply, Vec<u8>), HttpError> {
        read_steps(data, usize::MAX)
    }

    const CL: &[u8] = b"HTTP/1.1 201 Created\r\ncontent-TYPE: application/json\r\nCONTENT-length: 11\r\n\r\n{\"id\":1234}";
    const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n4;ext=1;x=\"y\"\r\n{\"id\r\n7\r\n\":1234}\r\n0\r\nX-Trailer: a\r\nOther: b\r\n\r\n";

    #[test]
    fn reads_a_content_length_body() {
        let (r, body) = read(CL).unwrap();
        assert_eq!((r.status, r.close), (201, false));
        assert_eq!(body, b"{\"id\":1234}");
    }

    #[test]
    fn decodes_chunks_with_extensions_and_trailers() {
        let (r, body) = read(CHUNKED).unwrap();
        assert_eq!((r.status, r.close), (200, false));
        assert_eq!(body, b"{\"id\":1234}");
        let (r, body) =
            read(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n").unwrap();
        assert_eq!((r.status, body.len()), (200, 0));
    }

    #[test]
    fn the_same_answers_arrive_one_byte_per_read() {
        for data in [CL, CHUNKED] {
            let (whole, body) = read(data).unwrap();
            let (dripped, dbody) = read_steps(data, 1).unwrap();
            assert_eq!((whole.status, whole.close), (dripped.status, dripped.close));
            assert_eq!(body, dbody);
        }
    }

    #[test]
    fn a_short_answer_is_a_closed_connection() {
        for cut in [0, 5, 30, CL.len() - 1] {
            assert!(
                matches!(read(&CL[..cut]), Err(HttpError::Closed { got }) if got == cut),
                "cut at {cut}"
            );
        }
        for cut in [60, CHUNKED.len() - 2] {
            assert!(matches!(
                read(&CHUNKED[..cut]),
                Err(HttpError::Closed { .. })
            ));
        }
    }

    #[test]
    fn oversize_heads_and_bodies_are_refused() {
        let mut big = b"HTTP/1.1 200 OK\r\n".to_vec();
        while big.len() <= HEAD_LIMIT {
            big.extend_from_slice(b"X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        big.extend_from_slice(b"Content-Length: 0\r\n\r\n");
        // Many short fields hit the field count first; one long field hits the size.
        assert!(matches!(
            read(&big),
            Err(HttpError::Malformed(_) | HttpError::TooLarge(_))
        ));
        let mut long = b"HTTP/1.1 200 OK\r\nX-Long: ".to_vec();
        long.resize(HEAD_LIMIT + 10, b'a');
        long.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
        assert!(matches!(read(&long), Err(HttpError::TooLarge(_))));
        let cl = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            BODY_LIMIT + 1
        );
        assert!(matches!(read(cl.as_bytes()), Err(HttpError::TooLarge(_))));
        let mut chunks = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..=BODY_LIMIT / 65536 {
            chunks.extend_from_slice(b"10000\r\n");
            chunks.resize(chunks.len() + 65536, b'x');
            chunks.extend_from_slice(b"\r\n");
        }
        chunks.extend_from_slice(b"0\r\n\r\n");
        assert!(matches!(read(&chunks), Err(HttpError::TooLarge(_))));
        let huge = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n";
        assert!(matches!(read(huge), Err(HttpError::TooLarge(_))));
    }

    #[test]
    fn malformed_answers_are_refused() {
        for bad in [
            &b"HTTX/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"[..],
            b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
            b"garbage\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nab",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX0\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\n",
        ] {
            let r = read(bad);
            assert!(
                matches!(r, Err(HttpError::Malformed(_))),
                "{:?}: {r:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn connection_close_and_extra_bytes_end_the_connection() {
        let (r, body) = read(
            b"HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 2\r\n\r\n{}",
        )
        .unwrap();
        assert!(r.close);
        assert_eq!(body, b"{}");
        let (r, _) = read(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}").unwrap();
        assert!(r.close, "HTTP/1.0 closes");
        let (r, _) = read(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}junk").unwrap();
        assert!(r.close, "bytes past the response");
        let (r, body) = read(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
        assert_eq!((r.status, r.close, body.len()), (204, false, 0));
    }

    #[test]
    fn a_429_carries_its_retry_after() {
        let data =
            b"HTTP/1.1 429 Too Many Requests\r\nretry-after:  120 \r\nContent-Length: 2\r\n\r\n{}";
        let mut rd = ResponseReader::default();
        let t = Duration::from_secs(1);
        let r = rd
            .read_from(&mut Drip { data, step: 3 }, Instant::now() + t, t)
            .unwrap();
        assert_eq!(r.status, 429);
        assert_eq!(rd.retry_after(&r), Some("120"));
        assert_eq!(rd.body(&r), b"{}");
    }

    #[test]
    fn the_buffers_are_reused_once_warm() {
        let mut rd = ResponseReader::default();
        let t = Duration::from_secs(1);
        for data in [CL, CHUNKED, CL, CHUNKED] {
            rd.read_from(&mut Drip { data, step: 7 }, Instant::now() + t, t)
                .unwrap();
        }
        let caps = (rd.raw.len(), rd.body.capacity());
        for data in [CHUNKED, CL] {
            rd.read_from(&mut Drip { data, step: 1 }, Instant::now() + t, t)
                .unwrap();
        }
        assert_eq!(caps, (rd.raw.len(), rd.body.capacity()));
    }
}
