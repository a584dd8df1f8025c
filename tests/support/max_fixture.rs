//! The recorded MAX messages in `tests/fixtures/max/`.

#[path = "fixtures.rs"]
mod fixtures;

/// The bytes of MAX fixture `name`; panics naming the file.
pub fn fixture(name: &str) -> Vec<u8> {
    fixtures::bytes(&format!("max/{name}"))
}

/// The folder of the MAX fixtures.
#[allow(dead_code)]
pub fn dir() -> std::path::PathBuf {
    fixtures::path("max")
}
