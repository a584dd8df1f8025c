//! MAX v3 REST client (ureq, keep-alive): the gateway side of order entry. It runs on gateway
//! threads, never on the order thread, so a round trip never blocks the hot path.
//!
//! Every private request is signed (`X-MAX-ACCESSKEY`, `X-MAX-PAYLOAD`, `X-MAX-SIGNATURE`,
//! spec max.md §1) with a nonce that is strictly increasing per key and corrected by the offset
//! to the venue's clock ([`MaxRestClient::sync_time`]). Parameters travel in the query (GET) or
//! the JSON body (POST, DELETE), `nonce` included, as MAX's own examples do. A reply refused
//! for its nonce (2006, 2007) is retried once with a fresh nonce — safe, because MAX rejects
//! those before the matching engine sees them. Errors come back classified by what the caller
//! must do; no error text ever contains the secret or the signed headers.
//!
//! The order lane's two requests — create (`POST /api/v3/wallet/{w}/order`) and cancel
//! (`DELETE /api/v3/order`) — go over [`OrderHttp`] (`order_http.rs`), a strict keep-alive
//! HTTP/1.1 client that allocates nothing per request once warm; everything else uses ureq.
//! A create whose bytes were written but whose answer was lost is a
//! [`RestError::Transport`], never resent (the reconciler finds it by `client_oid`).

mod endpoints;
mod reply;

use super::kline::{Kline, MAX_KLINE_LIMIT, check_period, parse_klines};
use super::markets::{MaxMarket, check_order, parse_markets};
use super::order_http::{OrderHttp, Verb};
use super::order_template::{OrderFields, OrderTemplate};
use super::rate_limit::RateLimiter;
use super::rest::{
    ErrorAction, MaxAccountBalance, MaxApiError, MaxOrder, MaxTrade, classify_error,
    parse_accounts, parse_cancel_all, parse_order, parse_orders, parse_trades,
};
use super::sent_stamp::{SentStamp, StampConnector};
use super::sign::{MaxSigner, ParamValue, SignedBuffers, push_json_str, push_params_json};
use super::wall_clock::local_ms;
use crate::model::{ClientOid, Fixed, OrderType, Side, WalletType};
use crate::pipeline::EngineClock;
use crate::venue::ParseError;
use crate::venue::tls::TlsTrust;
use crate::venue::venue_gate::VenueGate;
use crate::venue::wall_clock::local_ms as unix_ms;
use reply::{Attempt, note_status_code, settle};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{Connector, DefaultConnector};

#[derive(Debug)]
pub enum RestError {
    /// The venue answered with an error.
    Api(MaxApiError),
    /// No answer: connection refused, timeout, TLS.
    Transport(String),
    /// An answer that is not what the endpoint returns.
    Parse(ParseError),
    /// Refused before sending: the order breaks the market's rules (tick, step, minimums,
    /// status), or a parameter is out of the endpoint's range (`limit`).
    Invalid(String),
    /// Not sent: the client-side rate limiter had no token within the wait this client allows
    /// (none on the order lane); the next one comes in `next_token_ms`.
    RateLimited { next_token_ms: u64 },
}

impl fmt::Display for RestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestError::Api(e) => write!(f, "{e}"),
            RestError::Transport(e) => write!(f, "MAX REST transport: {e}"),
            RestError::Parse(e) => write!(f, "MAX REST reply: {e}"),
            RestError::Invalid(e) => write!(f, "request not sent: {e}"),
            RestError::RateLimited { next_token_ms } => write!(
                f,
                "request not sent: client-side rate limit (next token in {next_token_ms} ms)"
            ),
        }
    }
}

impl std::error::Error for RestError {}

impl RestError {
    /// What the caller must do (transport failures: back off and retry).
    pub fn action(&self) -> ErrorAction {
        match self {
            RestError::Api(e) => e.action.clone(),
            RestError::Transport(_) => ErrorAction::BackOff,
            RestError::Parse(_) => ErrorAction::Halt,
            RestError::Invalid(_) => ErrorAction::Reject,
            RestError::RateLimited { .. } => ErrorAction::BackOff,
        }
    }
}

/// How to name an existing order.
#[derive(Clone, Copy, Debug)]
pub enum OrderRef<'a> {
    Id(u64),
    ClientOid(&'a ClientOid),
}

/// A new order, already risk-checked and on the market's grid.
#[derive(Clone, Copy, Debug)]
pub struct NewOrder<'a> {
    pub wallet: WalletType,
    pub market: &'a str,
    pub side: Side,
    pub ord_type: OrderType,
    pub price: Fixed,
    pub volume: Fixed,
    pub client_oid: &'a ClientOid,
}

/// Most rows one MAX list request returns (`limit` 1–1000, spec §2.1).
pub const MAX_LIST_LIMIT: u32 = 1000;

/// `limit` as a signed parameter, or [`RestError::Invalid`] outside 1..=[`MAX_LIST_LIMIT`].
fn list_limit(limit: u32) -> Result<i64, RestError> {
    if (1..=MAX_LIST_LIMIT).contains(&limit) {
        Ok(i64::from(limit))
    } else {
        Err(RestError::Invalid(format!(
            "limit {limit} outside 1..={MAX_LIST_LIMIT}"
        )))
    }
}

/// 9999-12-31T23:59:59Z: a server time past it is not a clock reading.
const MAX_SERVER_TIME_S: u64 = 253_402_300_799;

#[derive(Clone, Copy)]
enum Method {
    Get,
    Delete,
}

/// What sees each create-order answer: (sent at, engine clock; HTTP status; body).
pub type AnswerTap = Box<dyn FnMut(u64, u16, &[u8]) + Send>;

pub struct MaxRestClient {
    agent: ureq::Agent,
    base: String,
    signer: MaxSigner,
    offset_ms: i64,
    /// The venue's markets, once loaded: orders are checked against their rules before sending.
    markets: Vec<MaxMarket>,
    limiter: RateLimiter,
    /// Longest a request waits for the rate limiter before giving up with `BackOff`.
    max_limit_wait_ms: u64,
    /// MAX's ban, shared with the venue's WebSocket connections: no request before it ends,
    /// and a 429 here holds them back too.
    gate: Arc<VenueGate>,
    timeout: Duration,
    /// When each request's bytes were written, once [`MaxRestClient::with_clock`] gave a clock.
    sent: Option<SentStamp>,
    /// Create-order requests pre-built per market and wallet ([`Self::prepare_orders`]).
    order_templates: Vec<OrderTemplate>,
    /// Each signed request's body, payload and signature headers, rewritten in place.
    body: Vec<u8>,
    payload: Vec<u8>,
    signed: SignedBuffers,
    /// The connection that carries creates and cancels.
    lane: OrderHttp,
    answer_tap: Option<AnswerTap>,
}

/// What a signed request carries besides its nonce.
#[derive(Clone, Copy)]
enum Signed<'a> {
    /// `path` and the parameters in the order they are signed, sent with ureq.
    Params {
        method: Method,
        path: &'a str,
        params: &'a [(&'a str, ParamValue<'a>)],
    },
    /// A new order through the template at this index of `order_templates` (order lane).
    Order {
        template: usize,
        fields: OrderFields<'a>,
    },
    /// `DELETE /api/v3/order` with this one parameter (order lane).
    Cancel { param: (&'a str, ParamValue<'a>) },
}

/// The cancel's path, signed and sent.
const CANCEL_PATH: &str = "/api/v3/order";

/// Writes the payload `{"nonce":N,<params>,"path":P}` to sign and the body (the same object
/// without its `path`) into reused buffers.
fn write_params(
    payload: &mut Vec<u8>,
    body: &mut Vec<u8>,
    nonce: u64,
    path: &str,
    params: &[(&str, ParamValue)],
) {
    payload.clear();
    push_params_json(payload, nonce, params);
    body.clear();
    body.extend_from_slice(payload);
    body.push(b'}');
    payload.extend_from_slice(b",\"path\":");
    push_json_str(payload, path);
    payload.push(b'}');
}

/// The agent: ureq's own transports, with [`StampConnector`] after them when stamping.
fn agent(timeout: Duration, stamp: Option<StampConnector>) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build();
    match stamp {
        None => config.into(),
        Some(stamp) => ureq::Agent::with_parts(
            config,
            DefaultConnector::new().chain(stamp),
            DefaultResolver::default(),
        ),
    }
}

fn query_escape(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

impl MaxRestClient {
    /// `base_url` like `https://max-api.maicoin.com` or the simulator's `http://127.0.0.1:PORT`.
    pub fn new(base_url: &str, signer: MaxSigner, timeout: Duration) -> MaxRestClient {
        MaxRestClient {
            agent: agent(timeout, None),
            base: base_url.trim_end_matches('/').to_string(),
            signer,
            offset_ms: 0,
            markets: Vec::new(),
            limiter: RateLimiter::new(1200, 20),
            max_limit_wait_ms: 2_000,
            gate: Arc::new(VenueGate::new()),
            timeout,
            sent: None,
            order_templates: Vec::new(),
            body: Vec::with_capacity(512),
            payload: Vec::with_capacity(512),
            signed: SignedBuffers::default(),
            lane: OrderHttp::new(base_url.trim_end_matches('/'), timeout),
            answer_tap: None,
        }
    }

    /// Shows `tap` every create-order answer the order lane reads: when the request's bytes
    /// were written (engine clock, as [`Self::last_sent`]), the HTTP status and the body. The
    /// capture (`--capture`) records them as ack-latency samples for replays.
    pub fn with_answer_tap(mut self, tap: Option<AnswerTap>) -> Self {
        self.answer_tap = tap;
        self
    }

    /// Whom the order lane's `https://` trusts (default: Mozilla's roots, as ureq's); ureq's
    /// other requests keep Mozilla's roots.
    pub fn with_tls(mut self, tls: TlsTrust) -> Self {
        self.lane.set_tls(tls);
        self
    }

    /// Opens the order lane's connection ahead of the next order if it is missing or was
    /// closed by the server while idle (see `OrderHttp::keep_warm`); true when it connected.
    pub fn keep_order_lane_warm(&mut self) -> Result<bool, RestError> {
        self.lane
            .keep_warm()
            .map_err(|e| RestError::Transport(e.to_string()))
    }

    /// How many connections the order lane (creates and cancels) has opened.
    pub fn order_lane_connects(&self) -> u64 {
        self.lane.connects()
    }

    /// Pre-builds the create-order request of each `(wallet, market)` (markets as MAX writes
    /// them), so that an order on them writes only its own fields. An order on another market
    /// builds its template on first use.
    pub fn prepare_orders<'m>(&mut self, orders: impl IntoIterator<Item = (WalletType, &'m str)>) {
        for (w, m) in orders {
            self.template(w, m);
        }
    }

    /// The index of `(wallet, market)`'s template, built if new.
    fn template(&mut self, wallet: WalletType, market: &str) -> usize {
        match self
            .order_templates
            .iter()
            .position(|t| t.is_for(wallet, market))
        {
            Some(i) => i,
            None => {
                self.order_templates
                    .push(OrderTemplate::new(wallet, market));
                self.order_templates.len() - 1
            }
        }
    }

    /// Stamps with `clock` when each request's bytes are written ([`Self::last_sent`]).
    pub fn with_clock(mut self, clock: EngineClock) -> Self {
        let stamp = SentStamp::default();
        self.agent = agent(
            self.timeout,
            Some(StampConnector {
                stamp: stamp.clone(),
                clock: clock.clone(),
            }),
        );
        self.lane.set_stamp(stamp.clone(), clock);
        self.sent = Some(stamp);
        self
    }

    /// When the latest request's bytes were written to the socket (engine clock; 0 without
    /// [`Self::with_clock`] or before any request).
    pub fn last_sent(&self) -> u64 {
        self.sent.as_ref().map_or(0, SentStamp::last)
    }

    /// Shares MAX's ban with the venue's WebSocket connections.
    pub fn with_gate(mut self, gate: Arc<VenueGate>) -> Self {
        self.gate = gate;
        self
    }

    /// Refuses to send while the venue's ban lasts (a request sent then would prolong it).
    fn gated(&self) -> Result<(), RestError> {
        match self.gate.wait(unix_ms()) {
            None => Ok(()),
            Some(w) => Err(RestError::Api(MaxApiError {
                http_status: 429,
                code: None,
                message: format!(
                    "venue ban: request not sent ({} ms left of the Retry-After)",
                    w.as_millis()
                ),
                action: ErrorAction::BackOff,
            })),
        }
    }

    /// [`note_status_code`] of a ureq response.
    fn note_status(&self, resp: &ureq::http::Response<ureq::Body>) -> u16 {
        let retry = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok());
        note_status_code(&self.gate, resp.status().as_u16(), retry)
    }

    /// Replaces the default limit (MAX's 1 200 private requests per minute, bursts of 20).
    pub fn with_rate_limit(mut self, per_minute: u32, burst: u32, max_wait_ms: u64) -> Self {
        self.limiter = RateLimiter::new(per_minute, burst);
        self.max_limit_wait_ms = max_wait_ms;
        self
    }

    /// Takes a rate-limiter token, waiting for one at most as long as this client allows
    /// (`with_rate_limit`; the order lane allows none).
    fn pace(&mut self) -> Result<(), RestError> {
        let mut waited = 0;
        loop {
            match self.limiter.try_acquire(local_ms()) {
                Ok(()) => return Ok(()),
                Err(ms) if waited + ms <= self.max_limit_wait_ms => {
                    std::thread::sleep(Duration::from_millis(ms));
                    waited += ms;
                }
                Err(ms) => return Err(RestError::RateLimited { next_token_ms: ms }),
            }
        }
    }

    /// An unsigned GET of `url` (public endpoints): its 2xx body (at most `limit` bytes), or the
    /// venue's error classified. A 429/418 sets the venue's ban.
    fn public_get(&self, url: &str, limit: u64) -> Result<Vec<u8>, RestError> {
        self.gated()?;
        let mut resp = self
            .agent
            .get(url)
            .call()
            .map_err(|e| RestError::Transport(e.to_string()))?;
        let status = self.note_status(&resp);
        let body = resp
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| RestError::Transport(e.to_string()))?;
        if !(200..300).contains(&status) {
            return Err(RestError::Api(classify_error(status, &body)));
        }
        Ok(body)
    }

    /// The offset to the venue's clock last measured, ms (server − local).
    pub fn clock_offset_ms(&self) -> i64 {
        self.offset_ms
    }

    /// `GET /api/v3/timestamp` (seconds).
    pub fn server_time_s(&self) -> Result<u64, RestError> {
        let body = self.public_get(&format!("{}/api/v3/timestamp", self.base), 1 << 20)?;
        #[derive(serde::Deserialize)]
        struct Ts {
            timestamp: u64,
        }
        let s = serde_json::from_slice::<Ts>(&body)
            .map(|t| t.timestamp)
            .map_err(|_| RestError::Parse(ParseError::Json))?;
        // Seconds since the epoch, up to the year 9999: anything later is not a clock.
        if s > MAX_SERVER_TIME_S {
            return Err(RestError::Parse(ParseError::BadValue("timestamp")));
        }
        Ok(s)
    }

    /// Measures the offset to the venue's clock (the server answers in whole seconds, so the
    /// estimate is the middle of that second against the middle of the round trip) and moves
    /// the nonces onto the venue's clock. Returns the offset in ms.
    pub fn sync_time(&mut self) -> Result<i64, RestError> {
        let t0 = local_ms();
        let s = self.server_time_s()?;
        let t1 = local_ms();
        // `s` is at most MAX_SERVER_TIME_S and local time is below it too, so none of this
        // overflows; the checks keep it so if either bound moves.
        let server_ms = s
            .checked_mul(1000)
            .and_then(|v| v.checked_add(500))
            .and_then(|v| i64::try_from(v).ok());
        let local_mid = i64::try_from(t0 / 2 + t1 / 2).ok();
        let (Some(server_ms), Some(local_mid)) = (server_ms, local_mid) else {
            return Err(RestError::Parse(ParseError::BadValue("timestamp")));
        };
        let offset = server_ms - local_mid;
        // Within the server's one-second resolution, trust the local clock.
        self.offset_ms = if offset.abs() <= 1000 { 0 } else { offset };
        self.signer.nonces().set_offset_ms(self.offset_ms);
        Ok(offset)
    }

    fn private(
        &mut self,
        method: Method,
        path: &str,
        params: &[(&str, ParamValue)],
    ) -> Result<Vec<u8>, RestError> {
        self.signed_call(
            Signed::Params {
                method,
                path,
                params,
            },
            &|b| Ok(b.to_vec()),
        )
    }

    /// Sends a signed request (a nonce refusal is retried once with a fresh nonce) and returns
    /// its 2xx body through `parse`. Creates and cancels go over the order lane.
    fn signed_call<T>(
        &mut self,
        req: Signed,
        parse: &impl Fn(&[u8]) -> Result<T, RestError>,
    ) -> Result<T, RestError> {
        for attempt in 0..2 {
            self.gated()?;
            self.pace()?;
            // The key's turn, held until the answer is read: no `auth` of the key overtakes
            // this call in flight (and this call waits for an unanswered one).
            let _turn = self.signer.nonces().begin_rest();
            let nonce = self.signer.nonces().next(local_ms());
            let key = self.signer.access_key();
            let (verb, path) = match req {
                Signed::Order { template, fields } => {
                    let t = &self.order_templates[template];
                    t.write(nonce, &fields, &mut self.body, &mut self.payload);
                    (Verb::Post, t.path.as_str())
                }
                Signed::Cancel { param } => {
                    write_params(
                        &mut self.payload,
                        &mut self.body,
                        nonce,
                        CANCEL_PATH,
                        &[param],
                    );
                    (Verb::Delete, CANCEL_PATH)
                }
                Signed::Params {
                    method,
                    path,
                    params,
                } => {
                    write_params(&mut self.payload, &mut self.body, nonce, path, params);
                    self.signer.sign_into(&self.payload, &mut self.signed);
                    let mut resp = self.ureq_call(method, path, nonce, params)?;
                    let status = self.note_status(&resp);
                    let body = resp
                        .body_mut()
                        .read_to_vec()
                        .map_err(|e| RestError::Transport(e.to_string()))?;
                    match settle(status, &body, attempt, parse) {
                        Attempt::Done(r) => return r,
                        Attempt::NewNonce => continue,
                    }
                }
            };
            self.signer.sign_into(&self.payload, &mut self.signed);
            let reply = self
                .lane
                .send(verb, path, key, &self.signed, &self.body)
                .map_err(|e| RestError::Transport(e.to_string()))?;
            let reader = self.lane.reader();
            if let (Some(tap), Verb::Post) = (self.answer_tap.as_mut(), verb) {
                let sent = self.sent.as_ref().map_or(0, SentStamp::last);
                tap(sent, reply.status, reader.body(&reply));
            }
            let status = note_status_code(&self.gate, reply.status, reader.retry_after(&reply));
            match settle(status, reader.body(&reply), attempt, parse) {
                Attempt::Done(r) => return r,
                Attempt::NewNonce => continue,
            }
        }
        unreachable!("the loop returns on its second pass")
    }

    /// Sends the request signed into `self.signed` with ureq: parameters in the query (GET) or
    /// the body (DELETE; creates and cancels go over the order lane instead).
    fn ureq_call(
        &self,
        method: Method,
        path: &str,
        nonce: u64,
        params: &[(&str, ParamValue)],
    ) -> Result<ureq::http::Response<ureq::Body>, RestError> {
        let key = self.signer.access_key();
        let url = format!("{}{}", self.base, path);
        let result = match method {
            Method::Get => {
                let mut q = format!("nonce={nonce}");
                for (k, v) in params {
                    q.push('&');
                    query_escape(&mut q, k);
                    q.push('=');
                    match v {
                        ParamValue::Str(s) => query_escape(&mut q, s),
                        ParamValue::Int(i) => q.push_str(&i.to_string()),
                    }
                }
                self.agent
                    .get(format!("{url}?{q}"))
                    .header("X-MAX-ACCESSKEY", key)
                    .header("X-MAX-PAYLOAD", &self.signed.payload_b64)
                    .header("X-MAX-SIGNATURE", &self.signed.signature_hex)
                    .call()
            }
            Method::Delete => self
                .agent
                .delete(&url)
                .force_send_body()
                .header("X-MAX-ACCESSKEY", key)
                .header("X-MAX-PAYLOAD", &self.signed.payload_b64)
                .header("X-MAX-SIGNATURE", &self.signed.signature_hex)
                .header("Content-Type", "application/json")
                .send(&self.body[..]),
        };
        result.map_err(|e| RestError::Transport(e.to_string()))
    }
}
