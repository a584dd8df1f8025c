//! Sends each request to its endpoint: the public ones (markets, k-lines, server time) as
//! they are, every other after the request's parameters are gathered (query and JSON body) and
//! it is authenticated.

use super::orders::{OwnedKey, json_list, order_json, order_key, trade_json};
use super::query::url_pairs;
use super::{Reply, SimMarket, State, as_text, error, now_ms, refusal};
use crate::model::{Fixed, WalletType};
use crate::sim::max_frames::write_rest_account;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

impl State {
    pub(super) fn handle(&mut self, req: &tiny_http::Request, body: &[u8]) -> Reply {
        let url = req.url();
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let method = req.method().as_str().to_string();
        if method == "GET" && path == "/api/v3/markets" {
            return markets_reply(&self.markets);
        }
        if method == "GET" && path == "/api/v3/k" {
            return self.klines(query);
        }
        if method == "GET" && path == "/api/v3/timestamp" {
            return (
                200,
                serde_json::json!({"timestamp": now_ms(self.clock_offset_ms) / 1000})
                    .to_string()
                    .into_bytes(),
            );
        }
        let mut params: Map<String, Value> = Map::new();
        for (k, v) in url_pairs(query) {
            params.insert(k.trim_end_matches("[]").to_string(), Value::String(v));
        }
        if !body.is_empty() {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(m)) => params.extend(m),
                _ => return error(400, 1001, "body is not a JSON object"),
            }
        }
        let key = match self.authenticate(req, path, &params) {
            Ok(k) => k,
            Err(e) => return e,
        };
        let wallet_path = |p: &str| -> Option<(WalletType, String)> {
            let rest = p.strip_prefix("/api/v3/wallet/")?;
            let (w, tail) = rest.split_once('/')?;
            let w = match w {
                "spot" => WalletType::Spot,
                "m" => WalletType::Margin,
                _ => return None,
            };
            Some((w, format!("/{tail}")))
        };
        let _ = key;
        match (method.as_str(), path, wallet_path(path)) {
            ("POST", _, Some((w, t))) if t == "/order" => self.create(w, &params),
            ("GET", _, Some((w, t))) if t == "/orders/open" => self.open(w, &params),
            ("DELETE", _, Some((w, t))) if t == "/orders" => self.cancel_all(w, &params),
            ("GET", _, Some((w, t))) if t == "/trades" => self.trades(w, &params),
            ("GET", _, Some((w, t))) if t == "/accounts" => {
                let currency = params.get("currency").map(as_text);
                json_list(
                    self.account
                        .balances(w)
                        .into_iter()
                        .filter(|(c, _, _)| {
                            currency.as_deref().is_none_or(|x| c.eq_lower(x.as_bytes()))
                        })
                        .map(|(c, a, l)| {
                            let mut b = Vec::new();
                            write_rest_account(&mut b, c.as_str(), a, l);
                            b
                        }),
                )
            }
            ("GET", "/api/v3/order/trades", _) => {
                let key = match (params.get("order_id"), params.get("client_oid")) {
                    (Some(id), _) => as_text(id).parse().ok().map(OwnedKey::Id),
                    (None, Some(c)) => Some(OwnedKey::ClientOid(as_text(c))),
                    (None, None) => None,
                };
                match key {
                    Some(k) => {
                        json_list(self.account.order_trades(k.as_key()).iter().map(trade_json))
                    }
                    None => error(400, 1001, "order_id or client_oid is required"),
                }
            }
            ("GET", "/api/v3/order", _) => match order_key(&params) {
                Some(k) => match self.account.get(k.as_key()) {
                    Some(o) => (200, order_json(&o)),
                    None => error(404, 2004, "Order doesn't exist"),
                },
                None => error(400, 1001, "id or client_oid is required"),
            },
            ("DELETE", "/api/v3/order", _) => match order_key(&params) {
                Some(k) => match self.account.cancel(k.as_key()) {
                    Ok(()) => (200, b"{\"success\":true}".to_vec()),
                    Err(r) => refusal(r),
                },
                None => error(400, 1001, "id or client_oid is required"),
            },
            _ => error(404, 4000, "Resource not found"),
        }
    }
}

/// `GET /api/v3/markets`: every market as MAX describes it, names lower case, minimums as exact
/// JSON numbers.
fn markets_reply(markets: &[SimMarket]) -> Reply {
    #[derive(serde::Serialize)]
    struct Market {
        id: String,
        status: &'static str,
        base_unit: String,
        base_unit_precision: i32,
        min_base_amount: Box<RawValue>,
        quote_unit: String,
        quote_unit_precision: i32,
        min_quote_amount: Box<RawValue>,
        m_wallet_supported: bool,
    }
    // A decimal's canonical text is a JSON number; the engine reads it exactly (`raw_value`).
    let number = |v: Fixed| RawValue::from_string(v.to_string());
    let list: Result<Vec<Market>, _> = markets
        .iter()
        .map(|m| {
            Ok::<_, serde_json::Error>(Market {
                id: m.id.to_lowercase(),
                status: "active",
                base_unit: m.base.to_lowercase(),
                base_unit_precision: m.base_precision,
                min_base_amount: number(m.min_volume)?,
                quote_unit: m.quote.to_lowercase(),
                quote_unit_precision: m.quote_precision,
                min_quote_amount: number(m.min_quote)?,
                m_wallet_supported: true,
            })
        })
        .collect();
    match list.and_then(|l| serde_json::to_vec(&l)) {
        Ok(body) => (200, body),
        Err(e) => (500, format!("markets: {e}").into_bytes()),
    }
}
