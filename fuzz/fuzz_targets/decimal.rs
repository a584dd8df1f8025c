//! `decimal`: `Fixed::read` under every rule and `Fixed::from_json_number` against the
//! independent string-based references in `tests/support/parser_checks.rs`.
#![no_main]

#[path = "../../tests/support/parser_checks.rs"]
mod parser_checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| parser_checks::check_decimal(data));
