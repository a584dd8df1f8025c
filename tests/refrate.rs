//! The USD/TWD reference rate sources on their recorded formats, and the day cache.

use arbline::model::Fixed;
use arbline::venue::refrate::bot_csv::{self, BotCsvError};
use arbline::venue::refrate::cache::RateCache;
use arbline::venue::refrate::taifex;

#[path = "support/fixtures.rs"]
mod fixtures;

fn fixture(name: &str) -> Vec<u8> {
    fixtures::bytes(&format!("usdtwd/{name}"))
}

fn f(s: &str) -> Fixed {
    Fixed::parse(s).unwrap()
}

#[test]
fn the_day_board_gives_the_spot_mid_not_the_cash_rate() {
    let q = bot_csv::parse(&fixture("bot_flcsv_0_day_sample.csv"), None).unwrap();
    assert_eq!(
        (q.buy, q.sell, q.mid),
        (f("31.545"), f("31.695"), f("31.62"))
    );
}

#[test]
fn the_history_file_gives_the_latest_day() {
    let q = bot_csv::parse(&fixture("bot_flcsv_0_L6M_USD_sample.csv"), None).unwrap();
    assert_eq!(
        (q.date, q.buy, q.sell, q.mid),
        (20260612, f("31.58"), f("31.68"), f("31.63"))
    );
}

#[test]
fn the_board_time_comes_from_content_disposition() {
    // 2026-10-01 14:19 Taipei = 06:19 UTC.
    let ms =
        bot_csv::board_time_ms("attachment; filename=\"ExchangeRate@202610011419.csv\"").unwrap();
    assert_eq!(ms, 1_790_835_540_000);
    assert_eq!(
        bot_csv::board_time_ms("attachment; filename=\"rates.csv\""),
        None
    );
    assert_eq!(
        bot_csv::board_time_ms("filename=\"ExchangeRate@202613011419.csv\""),
        None
    );
    // Before 1970 there is no Unix ms to give.
    assert_eq!(
        bot_csv::board_time_ms("filename=\"ExchangeRate@196912312359.csv\""),
        None
    );
    // A day the month does not have is refused, not rolled into the next month.
    assert_eq!(
        bot_csv::board_time_ms("filename=\"ExchangeRate@202402311419.csv\""),
        None
    );
    assert_eq!(
        bot_csv::board_time_ms("filename=\"ExchangeRate@202402291419.csv\""),
        Some(1_709_187_540_000)
    );
}

#[test]
fn the_taipei_day_turns_at_utc_16() {
    // 2024-03-01 00:00 Taipei is 2024-02-29 16:00 UTC.
    assert_eq!(bot_csv::taipei_day(1_709_222_400_000 - 1), 20240229);
    assert_eq!(bot_csv::taipei_day(1_709_222_400_000), 20240301);
    assert_eq!(bot_csv::taipei_day(0), 19700101);
    assert_eq!(bot_csv::taipei_day(253_402_271_999_000), 99991231);
    // Past the last day the calendar knows: that day, not a wrapped number.
    assert_eq!(bot_csv::taipei_day(u64::MAX), 99991231);
}

#[test]
fn broken_boards_are_refused_with_the_reason() {
    let day = String::from_utf8(fixture("bot_flcsv_0_day_sample.csv")).unwrap();
    let cases: Vec<(&str, Vec<u8>, BotCsvError)> = vec![
        (
            "big5 or binary",
            vec![0xA5, 0xBB, 0xA6, 0xE6, b',', b'U'],
            BotCsvError::NotUtf8BotCsv,
        ),
        (
            "another file",
            b"currency,rate\nUSD,31.6\n".to_vec(),
            BotCsvError::NotUtf8BotCsv,
        ),
        (
            "no USD",
            day.lines()
                .filter(|l| !l.starts_with("USD"))
                .collect::<Vec<_>>()
                .join("\n")
                .into_bytes(),
            BotCsvError::NoUsdRow,
        ),
        (
            "columns moved",
            day.replacen("USD,本行買入,", "USD,31.2,本行買入,", 1)
                .into_bytes(),
            BotCsvError::Layout { column: 1 },
        ),
        (
            "no spot quote",
            day.replacen("31.54500", "-", 1).into_bytes(),
            BotCsvError::NoQuote { column: 3 },
        ),
        (
            "zero quote",
            day.replacen("31.69500", "0", 1).into_bytes(),
            BotCsvError::NoQuote { column: 13 },
        ),
    ];
    for (name, body, want) in cases {
        assert_eq!(bot_csv::parse(&body, None), Err(want), "{name}");
    }
}

#[test]
fn taifex_fallback_takes_the_latest_usd_ntd() {
    let d: serde_json::Value =
        serde_json::from_slice(&fixture("taifex_openapi_daily_fx_sample.json")).unwrap();
    let body = serde_json::to_vec(&d["parsed"]).unwrap();
    let q = taifex::parse(&body).unwrap();
    assert_eq!((q.date, q.mid), (20240202, f("31.243")));
    let e = taifex::parse(b"[]").unwrap_err().to_string();
    assert!(e.contains("no row with a USD/NTD rate"), "{e}");
    let e = taifex::parse(b"<html>").unwrap_err().to_string();
    assert!(e.contains("TAIFEX JSON"), "{e}");
}

#[test]
fn the_simulator_board_reads_back_exactly() {
    let mut buf = Vec::new();
    bot_csv::write_day_board(&mut buf, f("31.925"), f("32.075"));
    let q = bot_csv::parse(&buf, None).unwrap();
    assert_eq!((q.buy, q.sell, q.mid), (f("31.925"), f("32.075"), f("32")));
}

#[test]
fn the_day_cache_round_trips_and_ignores_damage() {
    let dir = std::env::temp_dir().join(format!("arbline-rate-cache-{}", std::process::id()));
    let c = RateCache::new(&dir);
    let q = bot_csv::parse(
        &fixture("bot_flcsv_0_day_sample.csv"),
        Some(1_790_835_540_000),
    )
    .unwrap();
    assert!(c.load(20261001).is_none());
    c.store(&q, 20261001, "bank of taiwan").unwrap();
    assert_eq!(c.load(20261001), Some((q, "bank of taiwan".to_string())));
    std::fs::write(dir.join("usdtwd-20261002.json"), b"{not json").unwrap();
    assert!(c.load(20261002).is_none());
    let _ = std::fs::remove_dir_all(&dir);
}
