//! The execution side of the in-process feed: each answer of the synthetic execution venue goes
//! through [`ExecAnswers`] (written as MAX writes it, parsed back) onto the exec ring.

use super::FeedIo;
use crate::model::Venue;
use crate::sim::exec_venue::ExecOutput;
use disruptor::Producer;

impl FeedIo {
    pub(super) fn on_exec(&mut self, o: ExecOutput) {
        let FeedIo {
            instruments,
            answers,
            exec,
            clock,
            ..
        } = self;
        let Some(exec) = exec.as_mut() else { return };
        let ok = answers.answer(o, instruments, clock, |ev| exec.publish(|slot| *slot = *ev));
        self.frames += 1;
        if !ok {
            self.parse_error(Venue::Max);
        }
    }
}
