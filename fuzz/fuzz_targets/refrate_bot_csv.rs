//! `refrate_bot_csv`: see `tests/support/parser_checks.rs` (`Target::BotCsv`) for what must hold.
#![no_main]

#[path = "../../tests/support/parser_checks.rs"]
mod parser_checks;

use libfuzzer_sys::fuzz_target;
use parser_checks::{Target, check};

fuzz_target!(|data: &[u8]| check(Target::BotCsv, data));
