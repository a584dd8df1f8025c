//! The reference-rate sources, served beside MAX: the Bank of Taiwan day board and TAIFEX's
//! daily rates, or both down (503).

use super::{HttpReply, State, now_ms};
use crate::model::Fixed;

impl State {
    /// The reference-rate sources the provider reads: the Bank of Taiwan day board
    /// (`/xrt/flcsv/0/day`, UTF-8 with BOM, board time in `Content-Disposition`) and TAIFEX
    /// (`/v1/DailyForeignExchangeRates`).
    pub(super) fn reference_rate(&self, url: &str) -> Option<HttpReply> {
        let path = url.split('?').next().unwrap_or(url);
        if path != "/xrt/flcsv/0/day" && path != "/v1/DailyForeignExchangeRates" {
            return None;
        }
        if self.ref_down {
            return Some(HttpReply {
                status: 503,
                body: b"<html><body>503 Service Unavailable</body></html>".to_vec(),
                content_type: "text/html",
                disposition: None,
            });
        }
        let half = 7_500_000;
        let now = now_ms(self.clock_offset_ms);
        // The Taipei day the engine asks for, by the engine's own reckoning.
        let day = crate::venue::refrate::bot_csv::taipei_day(now);
        let minute = (now + 8 * 3_600_000) % 86_400_000 / 60_000;
        if path == "/xrt/flcsv/0/day" {
            let mut body = Vec::new();
            crate::venue::refrate::bot_csv::write_day_board(
                &mut body,
                Fixed(self.ref_rate.raw() - half),
                Fixed(self.ref_rate.raw() + half),
            );
            let disposition = format!(
                "attachment; filename=\"ExchangeRate@{day:08}{:02}{:02}.csv\"",
                minute / 60,
                minute % 60
            );
            return Some(HttpReply {
                status: 200,
                body,
                content_type: "text/csv",
                disposition: Some(disposition),
            });
        }
        let body = serde_json::json!([{
            "Date": format!("{day:08}"),
            "USD/NTD": self.ref_rate.to_string(),
        }])
        .to_string();
        Some(HttpReply {
            status: 200,
            body: body.into_bytes(),
            content_type: "application/json",
            disposition: None,
        })
    }
}
