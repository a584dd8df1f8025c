//! Building one engine from a [`Config`]: the rings, every stage connected to them (the
//! in-process synthetic venue or the live venues' feeds and gateways), the side thread and its
//! bus.

use super::AnyStage;
use super::error::EngineError;
use crate::book::{BookStage, BookStageParts};
use crate::capture::FrameKind;
use crate::config::Config;
use crate::feed::binance_ws_feed::{BinanceWsFeed, BinanceWsFeedParts};
use crate::feed::max_ws_feed::{MaxWsFeed, MaxWsFeedParts};
use crate::gateway::max_gateway::Gateway;
use crate::gateway::max_user_feed::{MaxUserFeed, MaxUserFeedParts};
use crate::model::{Instruments, Venue};
use crate::order::OrderManager;
use crate::order::stage::{OrderStage, OrderStageParts};
use crate::pipeline::board::MidBoard;
use crate::pipeline::board::PositionBoard;
use crate::pipeline::board::ResyncRequests;
use crate::pipeline::gateway_queue::gateway_queue;
use crate::pipeline::{EngineClock, Rings, Shutdown};
use crate::scanner::Scanners;
use crate::scanner::stage::{ScannerStage, ScannerStageParts};
use crate::sim::exec_venue::ExecVenue;
use crate::sim::in_process_feed::{SimFeed, SimFeedParts};
use crate::sim::market::SyntheticMarket;
use crate::telemetry::{EngineCounters, SideConfig, SideThread, telemetry_queue};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// The side thread's bus: NATS JetStream when `[nats] enabled`, else the events file.
fn bus(
    cfg: &Config,
    instruments: &Instruments,
    clock: &EngineClock,
) -> Result<crate::telemetry::bus::Bus, EngineError> {
    use crate::telemetry::bus_message::Encoder;
    use crate::telemetry::event_sink::EventSink;
    let n = &cfg.nats;
    let encoder = Encoder::new(
        &cfg.engine.instance_id,
        clock.now_unix_ms(),
        &n.subject_prefix,
        instruments.clone(),
    );
    let sink: Box<dyn EventSink> = if n.enabled {
        Box::new(crate::telemetry::nats_forwarder::NatsForwarder::start(
            crate::telemetry::nats_forwarder::NatsForwarderConfig {
                url: n.url.clone(),
                replicas: n.stream_replicas,
                max_age: n.stream_limits().0,
                max_bytes: n.stream_limits().1,
                stream: n.stream.clone(),
                subjects: n.stream_subjects(),
                critical_cap: n.buffer_critical,
                md_cap: n.buffer_md,
            },
        )?)
    } else {
        Box::new(crate::telemetry::jsonl_file::JsonlFileSink::open(
            std::path::Path::new(&n.file_dir),
            n.file_max_mb * 1024 * 1024,
            n.file_keep,
        )?)
    };
    Ok(crate::telemetry::bus::Bus::new(
        encoder,
        sink,
        clock.clone(),
    ))
}

/// Every stage of one engine, built but not yet placed on threads.
pub struct Built {
    /// Every feed; they share the thread that places the `feed` stage.
    pub feeds: Vec<AnyStage>,
    /// Gateway threads to start with the stages (live venues).
    pub gateways: Vec<Gateway>,
    /// The reference-rate fetcher (live venues with a reference-rate instrument).
    pub refrate: Option<crate::feed::refrate_feed::RefRateFeed>,
    pub book: BookStage,
    pub scanner: ScannerStage,
    pub order: OrderStage,
    pub instruments: Instruments,
    /// Which books are live, which ever were (the summary names the markets never live).
    pub books_live: Arc<crate::pipeline::board::LiveBoard>,
    pub counters: Arc<EngineCounters>,
    pub side: SideThread,
    pub side_stop: Arc<AtomicBool>,
    pub shutdown: Shutdown,
    /// With [`Venues::External`]: the ring ends and queue a venue of the caller's connects to.
    pub ends: Option<VenueEnds>,
}

/// What a venue outside the engine (a replay) connects to: market data in, orders out,
/// answers in.
pub struct VenueEnds {
    pub md: crate::pipeline::ring::MdProducer,
    pub exec: crate::pipeline::ring::ExecProducer,
    pub gateway: crate::pipeline::gateway_queue::GatewayQueue,
    pub resync: Arc<ResyncRequests>,
    /// The feeds' telemetry queue (system events, feed counters).
    pub tele: crate::telemetry::TelemetryTx,
}

/// Where the engine's market data and orders go.
pub enum Venues {
    /// The in-process synthetic venue (the demo, tests, benchmarks).
    Synthetic,
    /// The venues named in `[venues]` (real exchanges or `arbline sim`), with these keys.
    Live(crate::secrets::Secrets),
    /// The live venues' public market data only (`arbline capture`): no keys, no gateway,
    /// no private stream; orders have nowhere to go, so the caller mutes the scanners.
    MarketData,
    /// None: the caller connects its own venue to [`Built::ends`] (a replay).
    External,
}

/// Builds rings and stages from `cfg`, all connected, in process with the synthetic venue.
pub fn build(cfg: &Config, live: bool) -> Result<Built, EngineError> {
    build_for(cfg, live, Venues::Synthetic)
}

/// Builds rings and stages from `cfg` for `venues`.
pub fn build_for(cfg: &Config, live: bool, venues: Venues) -> Result<Built, EngineError> {
    build_with_clock(cfg, live, venues, EngineClock::new())
}

/// Builds rings and stages from `cfg` for `venues`, every stage reading `clock` (a mocked one
/// makes a single-threaded run deterministic: `bench/instructions.rs`).
pub fn build_with_clock(
    cfg: &Config,
    live: bool,
    venues: Venues,
    clock: EngineClock,
) -> Result<Built, EngineError> {
    build_capturing(cfg, live, venues, clock, None)
}

/// As [`build_with_clock`], the live feeds also handing every frame they read to `capture`.
pub fn build_capturing(
    cfg: &Config,
    live: bool,
    venues: Venues,
    clock: EngineClock,
    capture: Option<crate::capture::CaptureTx>,
) -> Result<Built, EngineError> {
    let instruments = cfg.instruments()?;
    let shutdown = Shutdown::new();
    let counters = Arc::new(EngineCounters::default());
    let rings = Rings::new(cfg.ring_sizes());
    // Per-instrument tables sized from the configuration.
    let resync = Arc::new(ResyncRequests::new(instruments.len()));
    let mids = Arc::new(MidBoard::new(instruments.len()));
    let board = Arc::new(PositionBoard::new(instruments.len()));
    let books_live = Arc::new(crate::pipeline::board::LiveBoard::new(instruments.len()));
    let gateway = gateway_queue(cfg.pipeline.gateway_queue);
    let halts = Arc::new(crate::pipeline::board::HaltRequests::default());
    let qcap = cfg.pipeline.telemetry_queue;
    let (feed_tx, feed_rx) = telemetry_queue("feed", qcap);
    let (book_tx, book_rx) = telemetry_queue("book", qcap);
    let (scan_tx, scan_rx) = telemetry_queue("scanner", qcap);
    let (order_tx, order_rx) = telemetry_queue("order", qcap);
    let batch = cfg.pipeline.batch;

    let (md_prod, md_poll) = rings.md;
    // Live: each Binance feed (and its snapshot thread) gets an md ring of its own.
    let mut more_md = Vec::new();
    let (book_prod, book_poll) = rings.book;
    let (sig_prod, sig_poll) = rings.signal;
    let (exec_prod, exec_poll) = rings.exec;

    let mut gateways = Vec::new();
    let mut refrate = None;
    let mut ends = None;
    let feeds = match venues {
        Venues::External => {
            ends = Some(VenueEnds {
                md: md_prod,
                exec: exec_prod,
                gateway: gateway.clone(),
                resync: resync.clone(),
                tele: feed_tx,
            });
            Vec::new()
        }
        Venues::Synthetic => vec![AnyStage::Feed(Box::new(SimFeed::new(SimFeedParts {
            market: SyntheticMarket::new(&cfg.sim)?,
            venue: ExecVenue::new(&cfg.sim)?,
            instruments: instruments.clone(),
            md: md_prod,
            exec: exec_prod,
            gateway: gateway.clone(),
            resync: resync.clone(),
            clock: clock.clone(),
            counters: counters.clone(),
            tele: feed_tx,
            shutdown: shutdown.clone(),
            pregenerate_s: cfg.sim.pregenerate_s,
        })))],
        venues @ (Venues::Live(_) | Venues::MarketData) => {
            let v = &cfg.venues;
            let (max_tls, binance_tls) = (v.max_tls()?, v.binance_tls()?);
            // One ban per venue: a 429 on any MAX connection or REST call holds back every
            // other (they share the IP); Binance likewise for its hosts.
            let max_gate = Arc::new(crate::venue::venue_gate::VenueGate::new());
            let binance_gate = Arc::new(crate::venue::venue_gate::VenueGate::new());
            let max_liveness = Duration::from_millis(v.max.liveness_timeout_ms);
            let max_ping = Duration::from_millis(v.max.ping_interval_ms);
            if let Some(inst) = instruments.iter().find(|i| i.venue == Venue::RefRate) {
                refrate = Some(crate::feed::refrate_feed::RefRateFeed {
                    provider: crate::venue::refrate::provider::RefRateProvider::new(&cfg.refrate)?,
                    instrument: inst.id,
                    symbol: inst.symbol.to_string(),
                    capture: capture.clone(),
                    md: md_prod.clone(),
                    clock: clock.clone(),
                    shutdown: shutdown.clone(),
                    tele: feed_tx.clone(),
                    interval: Duration::from_secs(cfg.refrate.poll_interval_s),
                    failures: 0,
                });
            }
            let max = MaxWsFeed::new(MaxWsFeedParts {
                url: v.max.ws_url.clone(),
                tls: max_tls.clone(),
                instruments: instruments.clone(),
                md: md_prod.clone(),
                resync: resync.clone(),
                clock: clock.clone(),
                counters: counters.clone(),
                tele: feed_tx.clone(),
                shutdown: shutdown.clone(),
            })
            .with_gate(max_gate.clone())
            .with_liveness(max_liveness, max_ping)
            .with_subscriptions_per_message(v.max.subscriptions_per_message)
            .with_capture(capture.clone());
            let mut feeds = vec![AnyStage::MaxWs(Box::new(max))];
            // Binance: as many connections as its streams-per-connection limit requires, a
            // feed each (they all run on the thread that hosts the `feed` stage), each book on
            // exactly one of them, and through that feed's md ring only.
            let binance_venue = v.binance.market.venue();
            let binance_books: Vec<crate::model::InstrumentId> = instruments
                .iter()
                .filter(|i| i.venue == binance_venue)
                .map(|i| i.id)
                .collect();
            let groups = crate::feed::binance_ws_feed::connection_groups(
                &binance_books,
                v.binance.streams_per_connection,
            );
            // The venue's REST weight is per IP: one budget for every feed's snapshots.
            let binance_weight = Arc::new(crate::feed::weight_budget::WeightBudget::per_minute(
                v.binance.weight_per_minute(),
            ));
            for (g, books) in groups.iter().enumerate() {
                let binance_md = if cfg.pipeline.md_ring_per_feed {
                    let (binance_md, binance_poll) =
                        crate::pipeline::ring::md_ring(cfg.pipeline.md_ring);
                    more_md.push(binance_poll);
                    binance_md
                } else {
                    md_prod.clone()
                };
                let parts = BinanceWsFeedParts {
                    market: v.binance.market,
                    ws_url: v.binance.ws_url.clone(),
                    tls: binance_tls.clone(),
                    rest_url: v.binance.rest_url.clone(),
                    instruments: instruments.clone(),
                    md: binance_md,
                    resync: resync.clone(),
                    clock: clock.clone(),
                    counters: counters.clone(),
                    tele: feed_tx.clone(),
                    shutdown: shutdown.clone(),
                    rotate_after: Some(std::time::Duration::from_secs(v.binance.rotate_after_s)),
                };
                // At most 1024 / 2 symbols a connection: fewer than 65 536 groups.
                let group = u16::try_from(g).unwrap_or(u16::MAX);
                let binance = BinanceWsFeed::serving(parts, books, group)
                    .with_gate(binance_gate.clone())
                    .with_weight_budget(binance_weight.clone())
                    .with_liveness(Duration::from_millis(v.binance.liveness_timeout_ms))
                    .with_capture(capture.clone());
                feeds.push(AnyStage::BinanceWs(Box::new(binance)));
            }
            // Market data only (`arbline capture`): no key, no gateway, no private stream.
            if let Venues::Live(secrets) = venues {
                let (key, secret) = secrets.max_keys()?;
                // One signer per key: its clones share the key's one nonce sequence. The trading
                // key signs orders and cancels; a read key, if given, signs the reads and the
                // private WebSocket's auth on a thread of their own (`gateway::read_lane`).
                let signer = crate::venue::max::MaxSigner::new(key, secret);
                let read_signer = secrets
                    .max_read_keys()?
                    .map(|(k, s)| crate::venue::max::MaxSigner::new(k, s));
                let rest_client = |signer: &crate::venue::max::MaxSigner| {
                    crate::venue::max::rest_client::MaxRestClient::new(
                        &v.max.rest_url,
                        signer.clone(),
                        std::time::Duration::from_millis(v.max.timeout_ms),
                    )
                    .with_gate(max_gate.clone())
                    .with_clock(clock.clone())
                };
                let answer_tap =
                    capture
                        .clone()
                        .map(|c| -> crate::venue::max::rest_client::AnswerTap {
                            Box::new(move |sent, status, body| {
                                let now = c.clock().raw();
                                let sent_utc = if sent == 0 {
                                    0
                                } else {
                                    c.clock().unix_ns(sent)
                                };
                                c.frame_with(Venue::Max, FrameKind::OrderAnswer, 0, now, |b| {
                                    crate::capture::payload::order_answer_record(
                                        b, sent_utc, status, body,
                                    )
                                });
                            })
                        });
                let client = rest_client(&signer).with_answer_tap(answer_tap);
                let user_exec = exec_prod.clone();
                let user_tx = feed_tx.clone();
                // The first round runs at start; every private (re)authentication asks for another.
                let reconcile_now = Arc::new(std::sync::atomic::AtomicBool::new(false));
                let mut wallets: Vec<crate::model::WalletType> = cfg
                    .scanner
                    .arbitrage
                    .iter()
                    .map(|a| a.wallet)
                    .chain(
                        cfg.scanner
                            .stable_coin
                            .enabled
                            .then_some(cfg.scanner.stable_coin.wallet),
                    )
                    .collect();
                wallets.sort_by_key(|w| *w as u8);
                wallets.dedup();
                let reconciler = crate::gateway::reconciler::Reconciler::new(
                    wallets,
                    std::time::Duration::from_millis(v.max.reconcile_interval_ms),
                    reconcile_now.clone(),
                );
                let reads = |reconciler, other_keys| crate::gateway::venue_reads::VenueReads {
                    reconciler,
                    exec: exec_prod.clone(),
                    instruments: instruments.clone(),
                    clock: clock.clone(),
                    halts: halts.clone(),
                    max_clock_drift_ms: v.max.max_clock_drift_ms,
                    other_keys,
                };
                use crate::gateway::max_gateway::Reads;
                let (client, gateway_reads) = match &read_signer {
                    None => (
                        client,
                        Reads::Inline(Box::new(reads(reconciler, Vec::new()))),
                    ),
                    Some(read) => {
                        // MAX's 1 200 private requests a minute, split between the lanes; the order
                        // lane never waits for a token.
                        let orders = v.max.order_requests_per_minute;
                        let created = Arc::new(crossbeam::queue::ArrayQueue::new(
                            crate::gateway::venue_reads::CREATED_QUEUE,
                        ));
                        let queries = crate::pipeline::gateway_queue::gateway_queue(
                            cfg.pipeline.gateway_queue,
                        );
                        let lane = crate::gateway::read_lane::ReadLane {
                            client: rest_client(read).with_rate_limit(1200 - orders, 5, 2_000),
                            reads: reads(
                                reconciler.with_created_from(created.clone()),
                                vec![signer.clone()],
                            ),
                            queue: queries.clone(),
                            shutdown: shutdown.clone(),
                        };
                        (
                            client.with_rate_limit(orders, 15, 0),
                            Reads::Lane {
                                queries,
                                created,
                                lane: Some(Box::new(lane)),
                            },
                        )
                    }
                };
                gateways.push(Gateway {
                    client,
                    queue: gateway.clone(),
                    exec: exec_prod,
                    instruments: instruments.clone(),
                    clock: clock.clone(),
                    shutdown: shutdown.clone(),
                    halts: halts.clone(),
                    reads: gateway_reads,
                });
                let user = MaxUserFeed::new(MaxUserFeedParts {
                    url: v.max.ws_url.clone(),
                    tls: max_tls,
                    signer: read_signer.unwrap_or(signer),
                    instruments: instruments.clone(),
                    exec: user_exec,
                    clock: clock.clone(),
                    counters: counters.clone(),
                    tele: user_tx,
                    shutdown: shutdown.clone(),
                    halts: halts.clone(),
                    reconcile_now,
                })
                .with_gate(max_gate)
                .with_liveness(max_liveness, max_ping)
                .with_capture(capture.clone());
                feeds.push(AnyStage::MaxUser(Box::new(user)));
            }
            feeds
        }
    };
    let book = BookStage::new(BookStageParts {
        md: md_poll,
        out: book_prod,
        instruments: instruments.clone(),
        binance_ticker_tops: cfg.engine.binance_ticker_tops,
        resync,
        mids: mids.clone(),
        clock: clock.clone(),
        counters: counters.clone(),
        tele: book_tx,
        batch,
        stale_after_ms: cfg.engine.stale_feed_ms,
        live: books_live.clone(),
        live_timeout_ms: cfg.engine.live_timeout_ms,
    })
    .with_top_telemetry(cfg.nats.md_interval_ms);
    let book = more_md.into_iter().fold(book, BookStage::with_md_ring);
    let scanner = ScannerStage::new(ScannerStageParts {
        input: book_poll,
        out: sig_prod,
        scanners: Scanners::new(&cfg.scanner, &instruments)?,
        board: board.clone(),
        clock: clock.clone(),
        counters: counters.clone(),
        tele: scan_tx,
        batch,
    });
    let manager = OrderManager::new(&cfg.order, &cfg.risk, &instruments, board, clock.clone())?;
    let order = OrderStage::new(OrderStageParts {
        signals: sig_poll,
        exec: exec_poll,
        manager,
        gateway,
        instruments: instruments.clone(),
        mids,
        clock: clock.clone(),
        counters: counters.clone(),
        tele: order_tx,
        shutdown: shutdown.clone(),
        cancel_on_shutdown: cfg.engine.cancel_on_shutdown,
        cancel_timeout_ms: cfg.engine.cancel_timeout_ms,
        batch,
        halts,
    });
    let side_stop = Arc::new(AtomicBool::new(false));
    let metrics = (!cfg.metrics.addr.is_empty()).then(|| {
        crate::telemetry::metrics::Metrics::new(
            counters.clone(),
            instruments.clone(),
            &cfg.engine.instance_id,
            clock.clone(),
        )
    });
    let side = SideThread {
        metrics,
        rxs: vec![feed_rx, book_rx, scan_rx, order_rx],
        counters: counters.clone(),
        instruments: instruments.clone(),
        books_live: books_live.clone(),
        cfg: SideConfig {
            live,
            stats_interval: Duration::from_millis(cfg.demo.stats_interval_ms),
        },
        stop: side_stop.clone(),
        bus: Some(bus(cfg, &instruments, &clock)?),
        signal_log: if cfg.log.signal_log {
            Some(crate::logging::SignalLog::open(std::path::Path::new(
                &cfg.log.dir,
            ))?)
        } else {
            None
        },
        clock,
    };
    Ok(Built {
        feeds,
        gateways,
        refrate,
        book,
        scanner,
        order,
        instruments,
        books_live,
        counters,
        side,
        side_stop,
        shutdown,
        ends,
    })
}
