//! Query strings: `a=1&b=x%2Fy` into decoded pairs.

/// `a=1&b=x%2Fy` → pairs, decoded as an HTML form's query is: `+` is a space, `%XX` a byte,
/// a `%` without two hex digits stays as it is, bytes that are not UTF-8 become U+FFFD. The
/// engine's `query_escape` writes `%2B` for a `+`, so a raw `+` only comes from elsewhere.
pub(super) fn url_pairs(q: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::url_pairs;

    fn pairs(q: &str) -> Vec<(String, String)> {
        url_pairs(q)
    }

    fn owned(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn query_pairs_decode_as_forms_do() {
        assert_eq!(pairs("a=1&b=x%2Fy"), owned(&[("a", "1"), ("b", "x/y")]));
        // What the engine's `query_escape` writes: `%2B` for a `+`, `%20` for a space.
        assert_eq!(
            pairs("client_oid=a%2Bb%20c&market=btcusdt"),
            owned(&[("client_oid", "a+b c"), ("market", "btcusdt")])
        );
        assert_eq!(pairs("s=a+b"), owned(&[("s", "a b")]));
        assert_eq!(pairs(""), owned(&[]));
        assert_eq!(pairs("&&a=1&"), owned(&[("a", "1")]));
        assert_eq!(
            pairs("k&=v&x=1=2"),
            owned(&[("k", ""), ("", "v"), ("x", "1=2")])
        );
        assert_eq!(
            pairs("states%5B%5D=wait&states[]=done"),
            owned(&[("states[]", "wait"), ("states[]", "done")])
        );
    }

    /// Malformed escapes from outside: kept as text or replaced, never a panic.
    #[test]
    fn bad_escapes_stay_text() {
        assert_eq!(
            pairs("a=%&b=%2&c=%zz&d=%%41"),
            owned(&[("a", "%"), ("b", "%2"), ("c", "%zz"), ("d", "%A")])
        );
        assert_eq!(pairs("a=%FF%C3"), owned(&[("a", "\u{FFFD}\u{FFFD}")]));
        assert_eq!(pairs("a=%C3%A9"), owned(&[("a", "é")]));
        // The hand-written decoder read `%+5` as byte 5 (`from_str_radix` takes a sign);
        // forms read the `+` as a space and leave the `%`.
        assert_eq!(pairs("a=%+5"), owned(&[("a", "% 5")]));
    }
}
