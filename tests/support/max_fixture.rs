//! The recorded MAX messages in `../shared/fixtures/max/` (a worktree under `wt/` sits one
//! level deeper, hence the second place).

pub const DIRS: [&str; 2] = [
    concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/max/"),
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/max/"),
];

/// The bytes of fixture `name`; panics naming where it looked.
pub fn fixture(name: &str) -> Vec<u8> {
    DIRS.iter()
        .find_map(|d| std::fs::read(format!("{d}{name}")).ok())
        .unwrap_or_else(|| panic!("fixture {name} not found under {DIRS:?}"))
}
