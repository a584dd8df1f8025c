//! The MAX feed's subscription messages (spec max.md §3.2): `sub` / `unsub` with a market's
//! `book` (depth 50) and `trade` channels, split into as many messages as
//! `[venues.max] subscriptions_per_message` requires.

/// `{"action":…,"subscriptions":[…],"id":"arbline"}`: every market's `book` (depth 50)
/// and, with `trades`, its `trade` channel.
pub(crate) fn sub_message(action: &str, markets: &[&str], trades: bool) -> String {
    /// One subscription, fields in the order MAX documents them.
    #[derive(serde::Serialize)]
    struct Sub<'a> {
        channel: &'static str,
        market: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        depth: Option<u32>,
    }
    #[derive(serde::Serialize)]
    struct SubMessage<'a> {
        action: &'a str,
        subscriptions: Vec<Sub<'a>>,
        id: &'static str,
    }
    let mut subscriptions = Vec::with_capacity(markets.len() * 2);
    for &market in markets {
        subscriptions.push(Sub {
            channel: "book",
            market,
            depth: Some(50),
        });
        if trades {
            subscriptions.push(Sub {
                channel: "trade",
                market,
                depth: None,
            });
        }
    }
    let msg = SubMessage {
        action,
        subscriptions,
        id: "arbline",
    };
    // Serializing strings and integers into a String cannot fail.
    serde_json::to_string(&msg).unwrap_or_default()
}

/// [`sub_message`] for any number of markets: as many messages as it takes to
/// carry at most `cap` subscriptions each (a market's book and trade stay together).
pub(crate) fn sub_messages(
    action: &str,
    markets: &[&str],
    trades: bool,
    cap: usize,
) -> Vec<String> {
    let per_market = if trades { 2 } else { 1 };
    let markets_per_message = (cap / per_market).max(1);
    markets
        .chunks(markets_per_message)
        .map(|c| sub_message(action, c, trades))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sub_carries_book_and_trade_and_a_resubscribe_only_the_book() {
        let sub = sub_message("sub", &["btcusdt", "usdttwd"], true);
        let v: serde_json::Value = serde_json::from_str(&sub).unwrap();
        let subs: Vec<(String, String)> = v["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["channel"].as_str().unwrap().to_string(),
                    s["market"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let want = |c: &str, m: &str| (c.to_string(), m.to_string());
        assert_eq!(
            subs,
            [
                want("book", "btcusdt"),
                want("trade", "btcusdt"),
                want("book", "usdttwd"),
                want("trade", "usdttwd"),
            ]
        );
        assert_eq!(v["action"], "sub");
        let resub = sub_message("unsub", &["btcusdt"], false);
        assert_eq!(
            resub,
            r#"{"action":"unsub","subscriptions":[{"channel":"book","market":"btcusdt","depth":50}],"id":"arbline"}"#
        );
    }

    /// Every `sub` within the cap, a market's book and trade in the same message, every market
    /// once; a resubscription (books only) fills each message up to the cap.
    #[test]
    fn a_large_board_is_split_into_messages_within_the_cap() {
        let names: Vec<String> = (0..67).map(|i| format!("m{i:02}usdt")).collect();
        let markets: Vec<&str> = names.iter().map(String::as_str).collect();
        for cap in [2, 3, 30, 100, 1000] {
            let msgs = sub_messages("sub", &markets, true, cap);
            let mut seen = Vec::new();
            for m in &msgs {
                let v: serde_json::Value = serde_json::from_str(m).unwrap();
                let subs = v["subscriptions"].as_array().unwrap();
                assert!(
                    subs.len() <= cap,
                    "cap {cap}: {} in one message",
                    subs.len()
                );
                for pair in subs.chunks(2) {
                    assert_eq!(pair[0]["channel"], "book");
                    assert_eq!(pair[1]["channel"], "trade");
                    assert_eq!(pair[0]["market"], pair[1]["market"]);
                    seen.push(pair[0]["market"].as_str().unwrap().to_string());
                }
            }
            assert_eq!(seen, names, "cap {cap}: every market once, in order");
            assert_eq!(msgs.len(), 67usize.div_ceil((cap / 2).max(1)), "cap {cap}");
            let books = sub_messages("unsub", &markets, false, cap);
            assert_eq!(books.len(), 67usize.div_ceil(cap), "cap {cap}");
        }
    }
}
