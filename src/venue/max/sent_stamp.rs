//! When a REST request's bytes were written: a ureq transport layer, chained after ureq's own
//! (TCP, TLS), that stamps the engine clock each time it hands output to the socket. The last
//! stamp before a call returns is when the request left — the order side of `wire_to_wire`.
//! (`ureq::unversioned::transport` does not follow semver; this file is all that uses it.)

use crate::pipeline::EngineClock;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

/// The latest stamp, shared by the connector and every transport it made.
#[derive(Clone, Debug, Default)]
pub struct SentStamp(Arc<AtomicU64>);

impl SentStamp {
    /// The engine-clock time the latest output was written (0: none yet).
    pub fn last(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Records that output was written at engine-clock time `t` (the order lane's own
    /// transport, `order_http.rs`).
    pub fn store(&self, t: u64) {
        self.0.store(t, Ordering::Release);
    }
}

/// Wraps each transport the chain before it made.
#[derive(Debug)]
pub struct StampConnector {
    pub stamp: SentStamp,
    pub clock: EngineClock,
}

impl<In: Transport> Connector<In> for StampConnector {
    type Out = StampTransport<In>;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(|inner| StampTransport {
            inner,
            stamp: self.stamp.clone(),
            clock: self.clock.clone(),
        }))
    }
}

#[derive(Debug)]
pub struct StampTransport<T> {
    inner: T,
    stamp: SentStamp,
    clock: EngineClock,
}

impl<T: Transport> Transport for StampTransport<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let r = self.inner.transmit_output(amount, timeout);
        if r.is_ok() && amount > 0 {
            self.stamp.0.store(self.clock.raw(), Ordering::Release);
        }
        r
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }
}
