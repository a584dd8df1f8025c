//! How the side thread's events move the metrics: each telemetry event, the stages' running
//! totals, and what it reads itself (queue depths and drops, the bus's state).

use super::*;

impl Metrics {
    fn market(&self, i: InstrumentId) -> String {
        if i.index() < self.instruments.len() {
            self.instruments.get(i).symbol.to_string()
        } else {
            "unknown".into()
        }
    }

    fn labels(&self, s: Strategy, i: InstrumentId) -> StrategyMarket {
        StrategyMarket {
            strategy: s.id().into(),
            market: self.market(i),
        }
    }

    fn seconds(&self, from: u64, to: u64) -> Option<f64> {
        (from != 0 && to > from).then(|| self.clock.delta_ns(from, to) as f64 / 1e9)
    }

    /// One telemetry event, as the side thread receives it.
    pub fn on_telemetry(&mut self, t: &Telemetry) {
        match t {
            Telemetry::Signal(s) => self.on_signal(s),
            Telemetry::OrderSent(o) => self.on_order(o),
            Telemetry::Exec(e) => self.on_exec(e),
            Telemetry::Position(p) => self.on_position(p),
            Telemetry::System(s) => match s.kind {
                SystemKind::RiskReject(r) => {
                    self.risk_rejects
                        .get_or_create(&ReasonLabel {
                            reason: format!("{r:?}"),
                        })
                        .inc();
                }
                // The book stage's reset after a lost connection is that same loss.
                SystemKind::FeedDown(crate::model::FeedLink::BooksReset) => {}
                SystemKind::FeedUp(link) | SystemKind::FeedDown(link) => {
                    let up = matches!(s.kind, SystemKind::FeedUp(_));
                    let private = matches!(link, crate::model::FeedLink::PrivateStream);
                    let group = match link {
                        crate::model::FeedLink::Connection { group, .. } => group,
                        _ => 0,
                    };
                    let l = FeedLabel {
                        venue: s.venue.to_string(),
                        stream: if private { "private" } else { "market_data" }.into(),
                    };
                    // Up while every connection of the venue's stream is (Binance may have
                    // several).
                    self.feed_links.insert((l.clone(), group), up);
                    let all_up = self
                        .feed_links
                        .iter()
                        .filter(|((k, _), _)| *k == l)
                        .all(|(_, u)| *u);
                    self.feed_up.get_or_create(&l).set(i64::from(all_up));
                    if !up {
                        self.feed_downs.get_or_create(&l).inc();
                    }
                }
                SystemKind::Resync(reason) => {
                    let l = ResyncLabels {
                        venue: s.venue.to_string(),
                        market: self.market(s.instrument),
                        reason: format!("{reason:?}"),
                    };
                    self.resyncs.get_or_create(&l).inc();
                }
                SystemKind::TradingStateChanged => {
                    for st in [
                        TradingState::Active,
                        TradingState::Reducing,
                        TradingState::Halted,
                    ] {
                        self.trading_state
                            .get_or_create(&StateLabel {
                                state: format!("{st:?}").to_lowercase(),
                            })
                            .set(i64::from(st == s.trading_state));
                    }
                }
                _ => {}
            },
            Telemetry::Tally(tally) => self.on_tally(tally),
            Telemetry::Top(top) => {
                if let Some(secs) = self.seconds(top.ts_frame, top.ts_book) {
                    self.frame_to_top.observe(secs);
                }
            }
        }
    }

    fn on_tally(&mut self, t: &Tally) {
        match *t {
            Tally::Feed {
                venue,
                private,
                group,
                frames,
                md_events,
                parse_errors,
            } => {
                let l = FeedLabel {
                    venue: venue.to_string(),
                    stream: if private { "private" } else { "market_data" }.into(),
                };
                let seen = self.feed_seen.entry((l.clone(), group)).or_default();
                self.feed_frames
                    .get_or_create(&l)
                    .inc_by(frames.saturating_sub(seen.0));
                self.feed_md
                    .get_or_create(&l)
                    .inc_by(md_events.saturating_sub(seen.1));
                self.feed_parse_errors
                    .get_or_create(&l)
                    .inc_by(parse_errors.saturating_sub(seen.2));
                *seen = (
                    frames.max(seen.0),
                    md_events.max(seen.1),
                    parse_errors.max(seen.2),
                );
            }
            Tally::Latency {
                segment,
                source,
                group,
                count,
                p50,
                p99,
                p999,
                max,
            } => {
                let Some(stage) = crate::telemetry::Segment::ALL.get(usize::from(segment)) else {
                    return;
                };
                let l = StageLabels {
                    stage: stage.name().into(),
                    source: source.map_or_else(|| "engine".to_string(), |v| v.to_string()),
                };
                let seen = self.stage_seen.entry((l.clone(), group)).or_default();
                self.stage_samples
                    .get_or_create(&l)
                    .inc_by(count.saturating_sub(seen.0));
                seen.0 = count.max(seen.0);
                seen.1 = [p50, p99, p999, max];
                // With several feeds of one source, each gauge shows the largest of theirs.
                let mut shown = [0u64; 4];
                for ((k, _), (_, v)) in &self.stage_seen {
                    if *k == l {
                        for (s, x) in shown.iter_mut().zip(v) {
                            *s = (*s).max(*x);
                        }
                    }
                }
                for (f, ns) in self.stage_latency.iter().zip(shown) {
                    f.get_or_create(&l).set(ns as f64 / 1e9);
                }
            }
            Tally::Book {
                instrument,
                md_events,
            } => {
                let venue = if instrument.index() < self.instruments.len() {
                    self.instruments.get(instrument).venue.to_string()
                } else {
                    "unknown".into()
                };
                let l = VenueMarket {
                    venue,
                    market: self.market(instrument),
                };
                let seen = self.market_seen.entry(instrument).or_default();
                self.market_md
                    .get_or_create(&l)
                    .inc_by(md_events.saturating_sub(*seen));
                *seen = md_events.max(*seen);
            }
        }
    }

    fn on_signal(&mut self, s: &Signal) {
        self.signals
            .get_or_create(&self.labels(s.strategy, s.instrument))
            .inc();
        if let Some(secs) = self.seconds(s.ts_frame, s.ts_signal) {
            self.frame_to_signal.observe(secs);
        }
    }

    fn on_order(&mut self, o: &OrderRequest) {
        let labels = self.labels(o.strategy, o.instrument);
        match o.kind {
            GatewayCmdKind::New => {
                self.orders.get_or_create(&labels).inc();
                if let Some(secs) = self.seconds(o.ts_frame, o.ts_handed) {
                    self.tick_to_trade.observe(secs);
                }
                if self.order_age.len() >= ORDERS_REMEMBERED
                    && let Some(old) = self.order_age.pop_front()
                {
                    self.order_names.remove(&old);
                }
                self.order_age.push_back(o.client_oid);
                self.order_names
                    .insert(o.client_oid, (o.strategy, o.instrument));
            }
            GatewayCmdKind::Cancel => {
                self.cancels_sent.get_or_create(&labels).inc();
            }
            GatewayCmdKind::Query => {}
        }
    }

    fn on_exec(&mut self, e: &ExecEvent) {
        let known = self.order_names.get(&e.client_oid).copied();
        let labels = match known {
            Some((s, i)) => self.labels(s, i),
            None => StrategyMarket {
                strategy: "unknown".into(),
                market: self.market(e.instrument),
            },
        };
        match e.kind {
            ExecKind::Ack => {
                self.acks.get_or_create(&labels).inc();
                if let Some(secs) = self.seconds(e.ts_sent, e.ts_recv) {
                    self.order_ack.observe(secs);
                }
            }
            ExecKind::Reject => {
                self.rejects.get_or_create(&labels).inc();
            }
            ExecKind::Fill => {
                self.fills.get_or_create(&labels).inc();
            }
            ExecKind::Cancelled => {
                self.cancels.get_or_create(&labels).inc();
            }
            _ => {}
        }
    }

    fn on_position(&mut self, p: &PositionSnapshot) {
        let l = PositionLabels {
            strategy: p.strategy.id().into(),
            wallet: p.wallet.wire().into(),
            market: self.market(p.instrument),
        };
        self.position.get_or_create(&l).set(p.qty.to_f64());
        self.realized.get_or_create(&l).set(p.realized_pnl);
        self.unrealized.get_or_create(&l).set(p.unrealized_pnl);
    }

    /// What the side thread reads itself: the telemetry queues' drops and the bus's state.
    pub fn on_tick(
        &mut self,
        telemetry_dropped: u64,
        queued: &[(&'static str, usize)],
        bus: Option<&SinkStatus>,
    ) {
        for (queue, n) in queued {
            self.queued
                .get_or_create(&QueueLabel {
                    queue: (*queue).into(),
                })
                .set(*n as i64);
        }
        let (dropped, delivered, bus_dropped) = self.seen;
        self.telemetry_dropped
            .inc_by(telemetry_dropped.saturating_sub(dropped));
        let mut seen = (telemetry_dropped.max(dropped), delivered, bus_dropped);
        if let Some(s) = bus {
            let all_dropped = s.dropped_md + s.dropped_critical;
            self.bus_delivered
                .inc_by(s.delivered.saturating_sub(delivered));
            self.bus_dropped
                .inc_by(all_dropped.saturating_sub(bus_dropped));
            self.bus_queued.set(s.queued as i64);
            self.bus_connected.set(i64::from(s.connected));
            seen.1 = s.delivered.max(delivered);
            seen.2 = all_dropped.max(bus_dropped);
            self.bus_failures
                .inc_by(s.failures.saturating_sub(self.bus_seen.0));
            self.bus_reconnects
                .inc_by(s.reconnects.saturating_sub(self.bus_seen.1));
            self.bus_seen = (
                s.failures.max(self.bus_seen.0),
                s.reconnects.max(self.bus_seen.1),
            );
        }
        self.seen = seen;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FeedLink, SystemEvent, Venue};

    fn text(m: &Metrics) -> String {
        let mut s = String::new();
        prometheus_client::encoding::text::encode(&mut s, &m.registry()).unwrap();
        s
    }

    /// The value of the sample whose line starts with `series`.
    fn value(m: &Metrics, series: &str) -> f64 {
        let t = text(m);
        t.lines()
            .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("no {series} in\n{t}"))
    }

    /// A venue served by several connections (one feed each): its counters add up each feed's
    /// running totals, and it is up while every connection is.
    #[test]
    fn several_feeds_of_one_venue_add_up_and_are_up_together() {
        let mut m = Metrics::new(
            Arc::new(EngineCounters::default()),
            Instruments::new(),
            "t",
            EngineClock::new(),
        );
        let tally = |group: u16, frames: u64| {
            Telemetry::Tally(Tally::Feed {
                venue: Venue::BinanceFutures,
                private: false,
                group,
                frames,
                md_events: frames,
                parse_errors: 0,
            })
        };
        for t in [tally(0, 100), tally(1, 30), tally(0, 150), tally(1, 40)] {
            m.on_telemetry(&t);
        }
        let frames = r#"arbline_feed_frames_total{venue="binance_futures",stream="market_data"}"#;
        assert_eq!(value(&m, frames), 190.0, "150 + 40");
        let link = |up: bool, group: u16| {
            let l = FeedLink::Connection { connects: 1, group };
            Telemetry::System(SystemEvent {
                kind: if up {
                    SystemKind::FeedUp(l)
                } else {
                    SystemKind::FeedDown(l)
                },
                venue: Venue::BinanceFutures,
                ..Default::default()
            })
        };
        let up = r#"arbline_feed_up{venue="binance_futures",stream="market_data"}"#;
        m.on_telemetry(&link(true, 0));
        m.on_telemetry(&link(true, 1));
        assert_eq!(value(&m, up), 1.0);
        m.on_telemetry(&link(false, 1));
        assert_eq!(value(&m, up), 0.0, "one connection down");
        m.on_telemetry(&link(true, 1));
        assert_eq!(value(&m, up), 1.0);
    }
}
