//! What keeps one WebSocket connection within the venue's rules and tells when it is dead: its
//! [`MessageBudget`] (every control message we send asks it first; the server's pings, which
//! tungstenite answers by itself, are recorded in it) and its [`Liveness`] (probe and keep-alive
//! pings, and the deadline after which a silent connection is dead). A feed holds one per
//! connection and calls [`ConnUpkeep::after_read`] after each drain and [`ConnUpkeep::tick`] on
//! each poll.

use crate::feed::liveness::{Liveness, LivenessAction};
use crate::feed::message_budget::{Limit, MessageBudget};
use crate::feed::ws_conn::{Drained, Ws, send};
use std::time::{Duration, Instant};
use tungstenite::Message;

/// What [`ConnUpkeep::tick`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upkeep {
    Alive,
    /// Nothing arrived within the deadline: close and reconnect.
    Dead,
    /// Writing to the socket failed.
    Failed,
}

pub struct ConnUpkeep {
    pub budget: MessageBudget,
    pub liveness: Liveness,
    /// Connections declared dead by the deadline.
    pub dead: u64,
}

impl ConnUpkeep {
    /// `timeout`: a connection silent this long (no frame, no pong) is dead; `ping_every`: the
    /// longest time between two of our pings.
    pub fn new(limits: &[Limit], timeout: Duration, ping_every: Duration) -> ConnUpkeep {
        ConnUpkeep {
            budget: MessageBudget::new(limits),
            liveness: Liveness::new(timeout, ping_every, Instant::now()),
            dead: 0,
        }
    }

    /// A new connection: a full budget, and its handshake counts as a frame and a ping.
    pub fn opened(&mut self, now: Instant) {
        self.budget.reset();
        self.liveness.restart(now);
    }

    pub fn after_read(&mut self, d: &Drained, now: Instant) {
        if d.frames > 0 {
            self.liveness.on_frame(now);
        }
        for _ in 0..d.pings {
            self.budget.record(now);
        }
    }

    /// Sends a control message if the budget allows it now: `Ok(true)` sent, `Ok(false)`
    /// deferred (ask again later), `Err` the connection failed.
    pub fn send_control(
        &mut self,
        ws: &mut Ws,
        msg: Message,
        now: Instant,
    ) -> Result<bool, tungstenite::Error> {
        if !self.budget.try_take(now) {
            return Ok(false);
        }
        send(ws, msg).map(|_| true)
    }

    /// Pings when a probe or the keep-alive is due (and the budget allows), and tells whether
    /// the connection is still alive.
    pub fn tick(&mut self, ws: &mut Ws, now: Instant) -> Upkeep {
        match self.liveness.check(now) {
            LivenessAction::Nothing => Upkeep::Alive,
            LivenessAction::Dead => {
                self.dead += 1;
                Upkeep::Dead
            }
            LivenessAction::Ping => {
                match self.send_control(ws, Message::Ping(Vec::new().into()), now) {
                    Ok(true) => {
                        self.liveness.pinged(now);
                        Upkeep::Alive
                    }
                    Ok(false) => Upkeep::Alive,
                    Err(_) => Upkeep::Failed,
                }
            }
        }
    }
}
