//! Non-2xx MAX REST replies classified by what the caller must do (spec §2.3, §7): retry with
//! a new nonce, back off, drop the order or halt; the venue's message made safe for a log.

use serde::Deserialize;
use std::fmt;

/// What the caller must do about a failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorAction {
    /// The nonce was refused before the request reached the engine (2006 used, 2007 off by
    /// >30 s): resending with a fresh nonce is safe (spec §1.3, bbgo's rationale).
    RetryWithNewNonce,
    /// Overload or server fault (5xx, 5999, 429, 2023 cancelled too frequently): wait, then
    /// reconcile by `client_oid` before resending — the request may have been executed.
    BackOff,
    /// This order was refused (parameters, funds, market state, not found): drop it.
    Reject,
    /// Credentials, signature or permissions are wrong (2005, 2008–2011, 2014, 2017, 2060–2066,
    /// 4009, 5004, bare 401/403): no request can succeed; stop trading and page an operator.
    Halt,
}

/// A classified non-2xx reply. `message` comes from the body only, never from the request, and
/// is [`sanitize`]d: no control character or escape sequence of the venue's reaches a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaxApiError {
    pub http_status: u16,
    pub code: Option<u32>,
    pub message: String,
    pub action: ErrorAction,
}

impl fmt::Display for MaxApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MAX HTTP {}", self.http_status)?;
        if let Some(c) = self.code {
            write!(f, " code {c}")?;
        }
        write!(f, ": {} ({:?})", self.message, self.action)
    }
}

impl std::error::Error for MaxApiError {}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<ErrorDetail>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: Option<u32>,
    message: Option<String>,
}

/// Longest message kept from a body.
const MESSAGE_CAP: usize = 200;

fn action_for(http_status: u16, code: Option<u32>) -> ErrorAction {
    match code {
        Some(2006 | 2007) => return ErrorAction::RetryWithNewNonce,
        Some(
            2001
            | 2005
            | 2008
            | 2009
            | 2010
            | 2011
            | 2014
            | 2015
            | 2017
            | 2060..=2066
            | 4009
            | 5004,
        ) => {
            return ErrorAction::Halt;
        }
        Some(5999 | 2023) => return ErrorAction::BackOff,
        _ => {}
    }
    if http_status == 429 || http_status >= 500 {
        return ErrorAction::BackOff;
    }
    if code.is_none() && matches!(http_status, 401 | 403) {
        return ErrorAction::Halt;
    }
    // Order-level refusals: 1001, 2002, 2003, 2004, 2016, 2018, 2019–2022, 2024, 2025, 2034,
    // 2036, 4000–4002, 5011, 404 and any unknown code on a 4xx.
    ErrorAction::Reject
}

/// A printable, bounded excerpt of a non-JSON body: the HTML `<title>` when there is one,
/// else the first characters with control characters replaced.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    let picked = match (lower.find("<title>"), lower.find("</title>")) {
        (Some(a), Some(b)) if b > a + 7 => &text[a + 7..b],
        _ => &text[..],
    };
    sanitize(picked.trim())
}

/// Text from a venue made safe for a log line: ANSI escape sequences (`ESC [ … final`,
/// `ESC ] … BEL|ST`, `ESC x`) removed, every other control character (`\n`, `\r`, `\t`,
/// DEL, C1) and the Unicode bidirectional overrides replaced by a space, and at most
/// [`MESSAGE_CAP`] characters kept.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MESSAGE_CAP));
    let mut chars = text.chars().peekable();
    let mut n = 0;
    while let Some(c) = chars.next() {
        if n == MESSAGE_CAP {
            break;
        }
        if c == '\u{1b}' {
            match chars.next() {
                // CSI: parameters and intermediates up to a final byte in @..~.
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC: up to BEL or ST (ESC \\).
                Some(']') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                // A two-character escape (ESC c, ESC 7, ...), or ESC at the end.
                _ => {}
            }
            continue;
        }
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        out.push(if c.is_control() || bidi { ' ' } else { c });
        n += 1;
    }
    out
}

/// Classifies a non-2xx reply: a JSON `{"success":false,"error":{code,message}}` or an HTML /
/// plain-text body (5xx proxy pages). 2006/2007 → [`ErrorAction::RetryWithNewNonce`];
/// credential and permission codes → [`ErrorAction::Halt`]; 5xx, 5999 and 429 →
/// [`ErrorAction::BackOff`]; order errors → [`ErrorAction::Reject`].
pub fn classify_error(http_status: u16, body: &[u8]) -> MaxApiError {
    let (code, message) = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody {
            error: Some(ErrorDetail { code, message }),
        }) => (code, message.as_deref().map(sanitize).unwrap_or_default()),
        _ => (None, excerpt(body)),
    };
    MaxApiError {
        http_status,
        code,
        message,
        action: action_for(http_status, code),
    }
}
