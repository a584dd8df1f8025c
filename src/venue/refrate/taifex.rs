//! TAIFEX daily FX reference rates (`openapi.taifex.com.tw/v1/DailyForeignExchangeRates`), the
//! official JSON fallback (spec binance.md §6.2): an array of rows with string values, `Date`
//! YYYYMMDD and `USD/NTD`. The latest date wins.

use super::RefQuote;
use crate::model::Fixed;
use serde::Deserialize;

#[derive(Deserialize)]
struct Row<'a> {
    #[serde(rename = "Date", borrow)]
    date: &'a str,
    #[serde(rename = "USD/NTD", borrow)]
    usd_ntd: Option<&'a str>,
}

pub fn parse(body: &[u8]) -> Result<RefQuote, String> {
    let rows: Vec<Row> = serde_json::from_slice(body).map_err(|e| format!("TAIFEX JSON: {e}"))?;
    let mut best: Option<(u32, Fixed)> = None;
    for r in rows {
        let Ok(date) = r.date.parse::<u32>() else {
            continue;
        };
        let Some(v) = r
            .usd_ntd
            .and_then(|v| Fixed::parse(v.trim()).ok())
            .filter(|v| v.raw() > 0)
        else {
            continue;
        };
        if best.is_none_or(|(d, _)| date > d) {
            best = Some((date, v));
        }
    }
    let (date, mid) = best.ok_or("TAIFEX JSON: no row with a USD/NTD rate")?;
    Ok(RefQuote {
        mid,
        buy: mid,
        sell: mid,
        date,
        board_time_ms: None,
    })
}
