//! `max_public`: see `tests/support/parser_checks.rs` (`Target::MaxPublic`) for what must hold.
#![no_main]

#[path = "../../tests/support/parser_checks.rs"]
mod parser_checks;

use libfuzzer_sys::fuzz_target;
use parser_checks::{Target, check};

fuzz_target!(|data: &[u8]| check(Target::MaxPublic, data));
