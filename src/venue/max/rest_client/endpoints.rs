//! The REST endpoints the engine calls, each a method of [`MaxRestClient`] over its signed or
//! public request machinery (`mod.rs`): markets, k-lines, orders (create, cancel, query, lists),
//! trades, balances.

use super::*;

impl MaxRestClient {
    /// `GET /api/v3/markets`: loads the rules every later order is checked against.
    pub fn load_markets(&mut self) -> Result<&[MaxMarket], RestError> {
        let body = self.public_get(&format!("{}/api/v3/markets", self.base), 10 << 20)?;
        self.markets = parse_markets(&body).map_err(RestError::Parse)?;
        Ok(&self.markets)
    }

    /// `GET /api/v3/k` (public): up to `limit` (1..=10000) candles of `period_min` minutes
    /// (one of [`super::kline::PERIODS`]) starting at or after `from_s` (Unix seconds; without
    /// it MAX answers the latest). A bad period or limit is [`RestError::Invalid`], unsent.
    pub fn klines(
        &self,
        market: &str,
        period_min: u32,
        from_s: Option<u64>,
        limit: u32,
    ) -> Result<Vec<Kline>, RestError> {
        check_period(period_min).map_err(|e| RestError::Invalid(e.to_string()))?;
        if !(1..=MAX_KLINE_LIMIT).contains(&limit) {
            return Err(RestError::Invalid(format!(
                "limit {limit} outside 1..={MAX_KLINE_LIMIT}"
            )));
        }
        let mut url = format!("{}/api/v3/k?market=", self.base);
        query_escape(&mut url, market);
        url.push_str(&format!("&period={period_min}&limit={limit}"));
        if let Some(ts) = from_s {
            url.push_str(&format!("&timestamp={ts}"));
        }
        let body = self.public_get(&url, 64 << 20)?;
        parse_klines(&body).map_err(RestError::Parse)
    }

    /// `POST /api/v3/wallet/{wallet}/order` (HTTP 201 with the order). With markets loaded, an
    /// order off the tick or step, below the minimums or on a market that is not active is
    /// refused here, without a request.
    pub fn create_order(&mut self, o: &NewOrder) -> Result<MaxOrder, RestError> {
        if !self.markets.is_empty() {
            let m = self
                .markets
                .iter()
                .find(|m| m.id.eq_wire(o.market.as_bytes()))
                .ok_or_else(|| RestError::Invalid(format!("{}: not a MAX market", o.market)))?;
            check_order(m, o.price, o.volume).map_err(|e| RestError::Invalid(e.to_string()))?;
        }
        let template = self.template(o.wallet, o.market);
        let fields = OrderFields {
            side: o.side,
            volume: o.volume,
            price: o.price,
            ord_type: o.ord_type,
            client_oid: o.client_oid,
        };
        self.signed_call(Signed::Order { template, fields }, &|b| {
            parse_order(b).map_err(RestError::Parse)
        })
    }

    fn order_ref_params<'a>(r: &OrderRef<'a>) -> Vec<(&'static str, ParamValue<'a>)> {
        match r {
            OrderRef::Id(id) => vec![("id", ParamValue::Int(*id as i64))],
            OrderRef::ClientOid(c) => vec![("client_oid", ParamValue::Str(c.as_str()))],
        }
    }

    /// `DELETE /api/v3/order`: the cancel is queued at the venue; confirm through the order's
    /// state.
    pub fn cancel_order(&mut self, r: OrderRef) -> Result<(), RestError> {
        let param = match r {
            OrderRef::Id(id) => ("id", ParamValue::Int(id as i64)),
            OrderRef::ClientOid(c) => ("client_oid", ParamValue::Str(c.as_str())),
        };
        self.signed_call(Signed::Cancel { param }, &|_| Ok(()))
    }

    /// `GET /api/v3/order`.
    pub fn get_order(&mut self, r: OrderRef) -> Result<MaxOrder, RestError> {
        let body = self.private(Method::Get, "/api/v3/order", &Self::order_ref_params(&r))?;
        parse_order(&body).map_err(RestError::Parse)
    }

    /// `GET /api/v3/wallet/{wallet}/orders/open`.
    pub fn open_orders(
        &mut self,
        wallet: WalletType,
        market: &str,
    ) -> Result<Vec<MaxOrder>, RestError> {
        let path = format!("/api/v3/wallet/{}/orders/open", wallet.wire());
        let body = self.private(Method::Get, &path, &[("market", ParamValue::Str(market))])?;
        parse_orders(&body).map_err(RestError::Parse)
    }

    /// `GET /api/v3/wallet/{wallet}/orders/open` of every market (no `market` parameter), up to
    /// [`MAX_LIST_LIMIT`] orders, newest first: what a restart or cancel-all must account for.
    pub fn open_orders_all(&mut self, wallet: WalletType) -> Result<Vec<MaxOrder>, RestError> {
        let path = format!("/api/v3/wallet/{}/orders/open", wallet.wire());
        let limit = ParamValue::Int(i64::from(MAX_LIST_LIMIT));
        let body = self.private(Method::Get, &path, &[("limit", limit)])?;
        parse_orders(&body).map_err(RestError::Parse)
    }

    /// `GET /api/v3/wallet/{wallet}/trades`: our fills, of one market or all. Without
    /// `from_id` MAX returns the newest `limit` trades, newest first; with it, the trades from
    /// that id on in ascending order (`order=asc`), so a caller pages forward from the last id
    /// it booked. `limit` must be 1..=1000 ([`RestError::Invalid`] otherwise, nothing sent).
    pub fn trades(
        &mut self,
        wallet: WalletType,
        market: Option<&str>,
        from_id: Option<u64>,
        limit: u32,
    ) -> Result<Vec<MaxTrade>, RestError> {
        let limit = list_limit(limit)?;
        let mut params = Vec::with_capacity(4);
        if let Some(m) = market {
            params.push(("market", ParamValue::Str(m)));
        }
        if let Some(id) = from_id {
            let id = i64::try_from(id)
                .map_err(|_| RestError::Invalid(format!("from_id {id} out of range")))?;
            params.push(("from_id", ParamValue::Int(id)));
            params.push(("order", ParamValue::Str("asc")));
        }
        params.push(("limit", ParamValue::Int(limit)));
        let path = format!("/api/v3/wallet/{}/trades", wallet.wire());
        let body = self.private(Method::Get, &path, &params)?;
        parse_trades(&body).map_err(RestError::Parse)
    }

    /// `GET /api/v3/order/trades` (by `order_id` or `client_oid`): the fills of one order,
    /// e.g. to book an order the WebSocket reported `done` while its trades were missed.
    pub fn order_trades(&mut self, r: OrderRef) -> Result<Vec<MaxTrade>, RestError> {
        let params = match r {
            OrderRef::Id(id) => vec![("order_id", ParamValue::Int(id as i64))],
            OrderRef::ClientOid(c) => vec![("client_oid", ParamValue::Str(c.as_str()))],
        };
        let body = self.private(Method::Get, "/api/v3/order/trades", &params)?;
        parse_trades(&body).map_err(RestError::Parse)
    }

    /// `GET /api/v3/wallet/{wallet}/accounts`: every currency's available, locked and staked
    /// amounts.
    pub fn accounts(&mut self, wallet: WalletType) -> Result<Vec<MaxAccountBalance>, RestError> {
        let path = format!("/api/v3/wallet/{}/accounts", wallet.wire());
        let body = self.private(Method::Get, &path, &[])?;
        parse_accounts(&body).map_err(RestError::Parse)
    }

    /// `DELETE /api/v3/wallet/{wallet}/orders`: cancels every open order of the wallet, or of
    /// one market. Each entry is `(error, order)`; the cancels are only *queued* (the orders
    /// usually come back in state `wait`), so confirm through the WebSocket or
    /// [`MaxRestClient::open_orders_all`].
    pub fn cancel_all(
        &mut self,
        wallet: WalletType,
        market: Option<&str>,
    ) -> Result<Vec<(Option<String>, MaxOrder)>, RestError> {
        let path = format!("/api/v3/wallet/{}/orders", wallet.wire());
        let params: Vec<_> = market
            .map(|m| ("market", ParamValue::Str(m)))
            .into_iter()
            .collect();
        let body = self.private(Method::Delete, &path, &params)?;
        parse_cancel_all(&body).map_err(RestError::Parse)
    }
}
