//! Just enough HTTP/1.1 to relay requests and answers: heads read line by line, bodies framed by
//! `Content-Length` or chunked transfer encoding and copied as they are (chunk lines included),
//! with an optional cut after a number of body bytes.

use std::fmt::Write as _;
use std::io::{self, BufRead, Write};

/// A request or response head. Public so that other test support reads HTTP/1.1 with this one
/// parser (a recording of what a client sent, for instance).
#[derive(Debug, Clone)]
pub struct Head {
    /// The first line, without its line break.
    pub start: String,
    /// Header lines as `(name, value)`, in order.
    pub headers: Vec<(String, String)>,
}

/// How a body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    None,
    Length(u64),
    Chunked,
    /// Until the connection closes (responses only).
    Close,
}

/// The outcome of copying a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Copied {
    /// The whole body, this many bytes of payload.
    Whole(u64),
    /// Cut after the limit.
    Cut,
}

impl Head {
    /// Reads a head; `None` at a clean end of the stream before any byte of it, an
    /// `UnexpectedEof` error when the stream ends inside it.
    ///
    /// # Errors
    ///
    /// What reading fails with, or `UnexpectedEof`.
    pub fn read(reader: &mut impl BufRead) -> io::Result<Option<Self>> {
        let mut start = String::new();
        if reader.read_line(&mut start)? == 0 {
            return Ok(None);
        }
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the stream ended inside a head",
                ));
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        Ok(Some(Self {
            start: start.trim_end_matches(['\r', '\n']).to_owned(),
            headers,
        }))
    }

    /// The value of the first header named `name`, whatever its case.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The method and target of a request head.
    #[must_use]
    pub fn request_line(&self) -> (&str, &str) {
        let mut words = self.start.split(' ');
        let method = words.next().unwrap_or_default();
        let target = words.next().unwrap_or_default();
        (method, target)
    }

    /// The status of a response head.
    pub(crate) fn status(&self) -> u16 {
        self.start
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0)
    }

    fn chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|value| value.to_ascii_lowercase().contains("chunked"))
    }

    fn length(&self) -> Option<u64> {
        self.header("content-length")
            .and_then(|value| value.parse().ok())
    }

    pub(crate) fn request_framing(&self) -> Framing {
        if self.chunked() {
            Framing::Chunked
        } else {
            self.length().map_or(Framing::None, Framing::Length)
        }
    }

    /// How the body of this response to a `method` request ends.
    pub(crate) fn response_framing(&self, method: &str) -> Framing {
        let status = self.status();
        if method == "HEAD" || status < 200 || status == 204 || status == 304 {
            Framing::None
        } else if self.chunked() {
            Framing::Chunked
        } else {
            self.length().map_or(Framing::Close, Framing::Length)
        }
    }

    /// Writes the head, headers named in `without` left out and `extra` added.
    pub(crate) fn write(
        &self,
        writer: &mut impl Write,
        without: &[&str],
        extra: &[(&str, &str)],
    ) -> io::Result<()> {
        let mut text = format!("{}\r\n", self.start);
        for (name, value) in &self.headers {
            if !without.iter().any(|left| left.eq_ignore_ascii_case(name)) {
                let _infallible = write!(text, "{name}: {value}\r\n");
            }
        }
        for (name, value) in extra {
            let _infallible = write!(text, "{name}: {value}\r\n");
        }
        text.push_str("\r\n");
        writer.write_all(text.as_bytes())
    }
}

/// Copies a body framed as `framing` from `reader` to `writer` (`io::sink()` to drop it),
/// stopping after `limit` payload bytes when one is given.
pub(crate) fn copy_body<W: Write + ?Sized>(
    reader: &mut impl BufRead,
    writer: &mut W,
    framing: Framing,
    limit: Option<u64>,
) -> io::Result<Copied> {
    let mut budget = Budget { limit, copied: 0 };
    match framing {
        Framing::None => Ok(Copied::Whole(0)),
        Framing::Length(length) => {
            if budget.copy_exact(reader, writer, length)? {
                Ok(Copied::Whole(length))
            } else {
                Ok(Copied::Cut)
            }
        }
        Framing::Close => {
            if budget.copy_exact(reader, writer, u64::MAX)? {
                Ok(Copied::Whole(budget.copied))
            } else {
                Ok(Copied::Cut)
            }
        }
        Framing::Chunked => loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            put(writer, line.as_bytes())?;
            let size_text = line.trim().split(';').next().unwrap_or_default();
            let size = u64::from_str_radix(size_text, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    let mut trailer = String::new();
                    if reader.read_line(&mut trailer)? == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                    put(writer, trailer.as_bytes())?;
                    if trailer.trim().is_empty() {
                        return Ok(Copied::Whole(budget.copied));
                    }
                }
            }
            if !budget.copy_exact(reader, writer, size)? {
                return Ok(Copied::Cut);
            }
            let mut line_end = [0_u8; 2];
            reader.read_exact(&mut line_end)?;
            put(writer, &line_end)?;
        },
    }
}

fn put<W: Write + ?Sized>(writer: &mut W, bytes: &[u8]) -> io::Result<()> {
    writer.write_all(bytes)
}

/// Payload bytes copied so far, against the limit.
struct Budget {
    limit: Option<u64>,
    copied: u64,
}

impl Budget {
    /// Copies `length` bytes (or until the end of the stream when `length` is `u64::MAX`);
    /// false when the limit cut the copy short.
    fn copy_exact<W: Write + ?Sized>(
        &mut self,
        reader: &mut impl BufRead,
        writer: &mut W,
        length: u64,
    ) -> io::Result<bool> {
        let mut left = length;
        let mut buffer = [0_u8; 16 * 1024];
        while left > 0 {
            let allowed = self
                .limit
                .map_or(u64::MAX, |limit| limit.saturating_sub(self.copied));
            if allowed == 0 {
                return Ok(false);
            }
            let wanted = left.min(allowed).min(buffer.len() as u64) as usize;
            let read = reader.read(&mut buffer[..wanted])?;
            if read == 0 {
                if length == u64::MAX {
                    return Ok(true);
                }
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            put(writer, &buffer[..read])?;
            writer.flush()?;
            self.copied += read as u64;
            left -= read as u64;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_copied_as_sent_and_cut_at_the_limit() {
        let body = b"4\r\nabcd\r\n3;x=1\r\nefg\r\n0\r\n\r\nNEXT";
        let mut copied = Vec::new();
        let mut reader = &body[..];
        let outcome =
            copy_body(&mut reader, &mut copied, Framing::Chunked, None).expect("a valid body");
        assert_eq!(outcome, Copied::Whole(7));
        assert_eq!(copied, &body[..body.len() - 4]);
        assert_eq!(reader, b"NEXT");

        let mut reader = &body[..];
        let outcome = copy_body(&mut reader, &mut io::sink(), Framing::Chunked, Some(5))
            .expect("a valid body");
        assert_eq!(outcome, Copied::Cut);
    }

    #[test]
    fn heads_are_read_with_their_headers() {
        let mut reader = &b"PUT /v2/a?x=1 HTTP/1.1\r\nContent-Length: 3\r\nHost: h\r\n\r\nabc"[..];
        let head = Head::read(&mut reader).expect("read").expect("a head");
        assert_eq!(head.request_line(), ("PUT", "/v2/a?x=1"));
        assert_eq!(head.request_framing(), Framing::Length(3));
        assert_eq!(head.header("host"), Some("h"));
        assert!(Head::read(&mut &b""[..]).expect("read").is_none());
    }
}
