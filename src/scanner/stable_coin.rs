//! The stable-coin premium (the seed's `StableScanner`): MAX USDT/TWD against the USD/TWD
//! reference rate. The premium of the ask (bid) over the reference, in bps, is compared with
//! bands around a center (zero, or the EWMA of the mid premium): buy USDT at the ask when it is
//! cheap, sell at the bid when it is dear.

use super::arbitrage::Skip;
use super::config::{PremiumCenter, StableCoinConfig};
use super::ewma::Ewma;
use super::gates::{Cooldown, on_tick, room, size};
use crate::model::{
    BookTop, InstrumentId, Instruments, InvalidSetting, OrderType, Qty, Side, Signal, Strategy,
    Venue, WalletType,
};

pub struct StableCoin {
    pub max: InstrumentId,
    pub reference: InstrumentId,
    pub wallet: WalletType,
    pub order_type: OrderType,
    pub order_qty: Qty,
    pub max_position: Qty,
    pub allow_short: bool,
    buy_below_bps: f64,
    sell_above_bps: f64,
    center: PremiumCenter,
    pub max_age_ns: u64,
    pub ref_max_age_ns: u64,
    ewma: Ewma,
    cooldown: Cooldown,
}

impl StableCoin {
    pub fn new(
        cfg: &StableCoinConfig,
        instruments: &Instruments,
    ) -> Result<StableCoin, InvalidSetting> {
        let max = instruments
            .lookup(Venue::Max, cfg.max_symbol.as_bytes())
            .ok_or_else(|| {
                InvalidSetting::new(
                    "scanner.stable_coin.max_symbol",
                    format!("{:?} is not a configured MAX market", cfg.max_symbol),
                )
            })?;
        let reference = instruments
            .lookup(Venue::RefRate, cfg.ref_symbol.as_bytes())
            .ok_or_else(|| {
                InvalidSetting::new(
                    "scanner.stable_coin.ref_symbol",
                    format!("{:?} is not a configured refrate market", cfg.ref_symbol),
                )
            })?;
        Ok(StableCoin {
            max,
            reference,
            wallet: cfg.wallet,
            order_type: cfg.order_type,
            order_qty: super::config::positive("scanner.stable_coin.order_qty", &cfg.order_qty)?,
            max_position: super::config::positive(
                "scanner.stable_coin.max_position",
                &cfg.max_position,
            )?,
            allow_short: cfg.allow_short,
            buy_below_bps: cfg.buy_below_bps,
            sell_above_bps: cfg.sell_above_bps,
            center: cfg.center,
            max_age_ns: cfg.max_age_ms * 1_000_000,
            ref_max_age_ns: cfg.ref_max_age_ms * 1_000_000,
            ewma: Ewma::new(cfg.ewma_halflife_s),
            cooldown: Cooldown::new(cfg.cooldown_ms),
        })
    }

    pub fn uses(&self, i: InstrumentId) -> bool {
        i == self.max || i == self.reference
    }

    pub fn evaluate(
        &mut self,
        max: Option<&BookTop>,
        reference: Option<&BookTop>,
        position: Qty,
        instruments: &Instruments,
        now_ns: u64,
        trigger: &BookTop,
    ) -> Result<Signal, Skip> {
        let (Some(m), Some(r)) = (max, reference) else {
            return Err(Skip::MissingInput);
        };
        let rate = r.bid.price.to_f64();
        let Some(mid) = m.mid_f64() else {
            return Err(Skip::MissingInput);
        };
        if !(rate.is_finite() && rate > 0.0) {
            return Err(Skip::MissingInput);
        }
        let premium = |p: f64| (p / rate - 1.0) * 1e4;
        let center = match self.center {
            PremiumCenter::Zero => 0.0,
            PremiumCenter::Ewma => self.ewma.mean(),
        };
        let ask_p = premium(m.ask.price.to_f64());
        let bid_p = premium(m.bid.price.to_f64());
        self.ewma.update(premium(mid), now_ns);
        let (side, touch, edge, band) =
            if m.ask.price.raw() > 0 && ask_p < center + self.buy_below_bps {
                (
                    Side::Buy,
                    m.ask,
                    center + self.buy_below_bps - ask_p,
                    self.buy_below_bps,
                )
            } else if m.bid.price.raw() > 0 && bid_p > center + self.sell_above_bps {
                (
                    Side::Sell,
                    m.bid,
                    bid_p - center - self.sell_above_bps,
                    self.sell_above_bps,
                )
            } else {
                return Err(Skip::NoEdge);
            };
        if !self.cooldown.ready(now_ns) {
            return Err(Skip::Cooldown);
        }
        let inst = instruments.get(self.max);
        let price = on_tick(side, touch.price, inst.rules.tick);
        let qty = size(
            self.order_qty,
            touch.qty,
            room(side, position, self.max_position, self.allow_short),
            price,
            inst,
        )
        .ok_or(Skip::NoRoom)?;
        self.cooldown.fire(now_ns);
        Ok(Signal {
            seq: 0,
            strategy: Strategy::StableCoin,
            instrument: self.max,
            leader: self.reference,
            wallet: self.wallet,
            side,
            order_type: self.order_type,
            price,
            qty,
            fair_value: rate,
            edge_bps: edge,
            quote_to_usdt: 1.0 / mid,
            threshold_bps: band,
            center,
            ts_frame: trigger.ts_frame,
            ts_signal: 0,
        })
    }
}
