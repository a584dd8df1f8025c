//! What a MAX REST reply comes to: its status read (a 429/418 sets the venue's ban, a success
//! clears it), and its body taken as the caller must (parsed, an error classified, a nonce
//! refusal retried once).

use super::RestError;
use crate::venue::max::rest::{ErrorAction, classify_error};
use crate::venue::venue_gate::VenueGate;
use crate::venue::wall_clock::local_ms as unix_ms;

/// Reads a response's status: a 429/418 sets the venue's ban from its `Retry-After`, a success
/// clears the run of refusals.
pub(super) fn note_status_code(gate: &VenueGate, status: u16, retry_after: Option<&str>) -> u16 {
    if matches!(status, 429 | 418) {
        let until = gate.refused(retry_after, unix_ms());
        tracing::warn!(
            status,
            until_unix_ms = until,
            "MAX refused a REST call: no request before the time given"
        );
    } else if (200..300).contains(&status) {
        gate.succeeded();
    }
    status
}

/// What one attempt of a signed call came to.
pub(super) enum Attempt<T> {
    Done(Result<T, RestError>),
    /// Refused for its nonce: once more with a fresh one.
    NewNonce,
}

/// A reply's status and body as the caller must take them: the 2xx body parsed, an error
/// classified (a nonce refusal on the first attempt retried).
pub(super) fn settle<T>(
    status: u16,
    body: &[u8],
    attempt: usize,
    parse: &impl Fn(&[u8]) -> Result<T, RestError>,
) -> Attempt<T> {
    if (200..300).contains(&status) {
        return Attempt::Done(parse(body));
    }
    let e = classify_error(status, body);
    if e.action == ErrorAction::RetryWithNewNonce && attempt == 0 {
        return Attempt::NewNonce;
    }
    Attempt::Done(Err(RestError::Api(e)))
}
