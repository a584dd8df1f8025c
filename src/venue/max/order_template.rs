//! A pre-built `POST /api/v3/wallet/{wallet}/order` for one market: the path and every constant
//! byte of the body and the signed payload are written once, so an order writes only its nonce,
//! side, volume, price, type and client id, into buffers that are reused (nothing allocated once
//! they have grown).
//!
//! The bytes are exactly those of the general path (`sign::push_params_json` with the
//! parameters in the order `create_order` always gave them — market, side, volume, price,
//! ord_type, client_oid — then `path`), so the signature is the same (checked against spec
//! max.md §1.4's vector R2 and against the general path below).

use super::sign::{push_json_str, push_u64};
use crate::model::{ClientOid, Fixed, OrderType, Side, WalletType};

/// One market's create-order request, less what changes per order.
#[derive(Clone, Debug)]
pub struct OrderTemplate {
    /// Lower-case MAX market id (`btcusdt`).
    pub market: String,
    pub wallet: WalletType,
    /// `/api/v3/wallet/{wallet}/order` (the order lane's request target).
    pub path: String,
    /// `,"market":"btcusdt","side":"`
    market_side: Vec<u8>,
    /// `,"path":"/api/v3/wallet/spot/order"}`
    path_tail: Vec<u8>,
}

/// The per-order parts.
#[derive(Clone, Copy, Debug)]
pub struct OrderFields<'a> {
    pub side: Side,
    pub volume: Fixed,
    pub price: Fixed,
    pub ord_type: OrderType,
    pub client_oid: &'a ClientOid,
}

impl OrderTemplate {
    /// `market` as MAX writes it.
    pub fn new(wallet: WalletType, market: &str) -> OrderTemplate {
        let path = format!("/api/v3/wallet/{}/order", wallet.wire());
        let mut market_side = b",\"market\":".to_vec();
        push_json_str(&mut market_side, market);
        market_side.extend_from_slice(b",\"side\":\"");
        let mut path_tail = b",\"path\":".to_vec();
        push_json_str(&mut path_tail, &path);
        path_tail.push(b'}');
        OrderTemplate {
            market: market.to_string(),
            wallet,
            path,
            market_side,
            path_tail,
        }
    }

    /// Whether this is the template of `market` (as the order names it) in `wallet`.
    pub fn is_for(&self, wallet: WalletType, market: &str) -> bool {
        self.wallet == wallet && self.market == market
    }

    /// Writes one order's JSON body into `body` and the payload to sign into `payload` (both
    /// cleared first).
    pub fn write(&self, nonce: u64, o: &OrderFields, body: &mut Vec<u8>, payload: &mut Vec<u8>) {
        body.clear();
        body.extend_from_slice(b"{\"nonce\":");
        push_u64(body, nonce);
        body.extend_from_slice(&self.market_side);
        body.extend_from_slice(o.side.rest().as_bytes());
        body.extend_from_slice(b"\",\"volume\":\"");
        let mut d = [0u8; 24];
        body.extend_from_slice(o.volume.write_to(&mut d).as_bytes());
        body.extend_from_slice(b"\",\"price\":\"");
        body.extend_from_slice(o.price.write_to(&mut d).as_bytes());
        body.extend_from_slice(b"\",\"ord_type\":\"");
        body.extend_from_slice(o.ord_type.wire().as_bytes());
        body.push(b'"');
        if !o.client_oid.is_empty() {
            body.extend_from_slice(b",\"client_oid\":");
            push_json_str(body, o.client_oid.as_str());
        }
        payload.clear();
        payload.extend_from_slice(body);
        payload.extend_from_slice(&self.path_tail);
        body.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::venue::max::sign::{MaxSigner, ParamValue, SignedBuffers, push_params_json};

    fn fields(oid: &ClientOid) -> OrderFields<'_> {
        OrderFields {
            side: Side::Buy,
            volume: Fixed::parse("100").unwrap(),
            price: Fixed::parse("31.5").unwrap(),
            ord_type: OrderType::PostOnly,
            client_oid: oid,
        }
    }

    #[test]
    fn writes_spec_vector_r2_byte_for_byte() {
        let t = OrderTemplate::new(WalletType::Spot, "usdttwd");
        assert_eq!(t.path, "/api/v3/wallet/spot/order");
        let oid = ClientOid::from_bytes(b"abc-1").unwrap();
        let (mut body, mut payload) = (Vec::new(), Vec::new());
        t.write(1700000000000, &fields(&oid), &mut body, &mut payload);
        assert_eq!(
            std::str::from_utf8(&payload).unwrap(),
            r#"{"nonce":1700000000000,"market":"usdttwd","side":"buy","volume":"100","price":"31.5","ord_type":"post_only","client_oid":"abc-1","path":"/api/v3/wallet/spot/order"}"#
        );
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"nonce":1700000000000,"market":"usdttwd","side":"buy","volume":"100","price":"31.5","ord_type":"post_only","client_oid":"abc-1"}"#
        );
        let mut signed = SignedBuffers::default();
        MaxSigner::new("key", "secret").sign_into(&payload, &mut signed);
        assert_eq!(
            signed.payload_b64,
            "eyJub25jZSI6MTcwMDAwMDAwMDAwMCwibWFya2V0IjoidXNkdHR3ZCIsInNpZGUiOiJidXkiLCJ2b2x1bWUiOiIxMDAiLCJwcmljZSI6IjMxLjUiLCJvcmRfdHlwZSI6InBvc3Rfb25seSIsImNsaWVudF9vaWQiOiJhYmMtMSIsInBhdGgiOiIvYXBpL3YzL3dhbGxldC9zcG90L29yZGVyIn0="
        );
        assert_eq!(
            signed.signature_hex,
            "ea503c1e696377240ae467b14fb894dd043bea50e365149569f25b79e012be09"
        );
    }

    #[test]
    fn agrees_with_the_general_path_and_reuses_its_buffers() {
        let signer = MaxSigner::new("k", "s3cret");
        let t = OrderTemplate::new(WalletType::Margin, "btctwd");
        let (mut body, mut payload, mut signed) =
            (Vec::new(), Vec::new(), SignedBuffers::default());
        let oids = [
            ClientOid::from_bytes(b"arbitrage_m_1").unwrap(),
            ClientOid::default(),
        ];
        for (i, oid) in oids.into_iter().enumerate() {
            let o = OrderFields {
                side: Side::Sell,
                volume: Fixed::parse("0.00012345").unwrap(),
                price: Fixed::parse("3012345.6").unwrap(),
                ord_type: OrderType::IocLimit,
                client_oid: &oid,
            };
            let nonce = 1_800_000_000_000 + i as u64;
            t.write(nonce, &o, &mut body, &mut payload);
            signer.sign_into(&payload, &mut signed);
            let (mut pb, mut vb) = ([0u8; 24], [0u8; 24]);
            let mut params = vec![
                ("market", ParamValue::Str("btctwd")),
                ("side", ParamValue::Str(o.side.rest())),
                ("volume", ParamValue::Str(o.volume.write_to(&mut vb))),
                ("price", ParamValue::Str(o.price.write_to(&mut pb))),
                ("ord_type", ParamValue::Str(o.ord_type.wire())),
            ];
            if !oid.is_empty() {
                params.push(("client_oid", ParamValue::Str(oid.as_str())));
            }
            let general = signer.sign_rest("/api/v3/wallet/m/order", nonce, &params);
            assert_eq!(std::str::from_utf8(&payload).unwrap(), general.payload_json);
            assert_eq!(signed.payload_b64, general.payload_b64);
            assert_eq!(signed.signature_hex, general.signature_hex);
            let mut general_body = Vec::new();
            push_params_json(&mut general_body, nonce, &params);
            general_body.push(b'}');
            assert_eq!(body, general_body);
        }
        // Warm: another order writes into the same buffers without growing them.
        let caps = (
            body.capacity(),
            payload.capacity(),
            signed.payload_b64.capacity(),
        );
        let oid = ClientOid::from_bytes(b"arbitrage_m_2").unwrap();
        t.write(1_800_000_000_009, &fields(&oid), &mut body, &mut payload);
        signer.sign_into(&payload, &mut signed);
        assert_eq!(
            caps,
            (
                body.capacity(),
                payload.capacity(),
                signed.payload_b64.capacity()
            )
        );
    }
}
