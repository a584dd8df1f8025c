//! The recorder's tables, as data: one [`Table`] per message kind, each column naming the JSON
//! field it comes from. The DDL, the parser ([`super::event`]) and the inserts
//! ([`super::writer`]) are all generated from [`TABLES`], so they cannot disagree.
//!
//! Every table starts with the envelope columns `instance, run, seq, ts, subject, received_at`
//! and has `UNIQUE (instance, run, seq)`: a table holds one kind and `seq` counts per
//! (instance, run, kind), so that key names one event and a redelivered event is a no-op
//! (`ON CONFLICT DO NOTHING`).

/// How a JSON field becomes a PostgreSQL column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// A JSON string without NUL → `text`.
    Text,
    /// A JSON string holding an exact decimal (`"-95123.45"`) → `numeric`.
    Numeric,
    /// A JSON unsigned integer that fits `bigint` (≤ 2^63 − 1) → `bigint`.
    BigInt,
    /// A JSON number → `double precision`.
    Float,
    /// Unix milliseconds (unsigned, before year 10000) → `timestamptz`.
    Millis,
    /// A JSON object → `jsonb`.
    Object,
}

impl ColType {
    pub fn sql(self) -> &'static str {
        match self {
            ColType::Text => "text",
            ColType::Numeric => "numeric",
            ColType::BigInt => "bigint",
            ColType::Float => "double precision",
            ColType::Millis => "timestamptz",
            ColType::Object => "jsonb",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The column's name.
    pub name: &'static str,
    /// The JSON field it is read from; `None` for the envelope columns the recorder fills
    /// (`subject`, `received_at`).
    pub field: Option<&'static str>,
    pub ty: ColType,
}

const fn col(name: &'static str, ty: ColType) -> Column {
    Column {
        name,
        field: Some(name),
        ty,
    }
}

const fn renamed(name: &'static str, field: &'static str, ty: ColType) -> Column {
    Column {
        name,
        field: Some(field),
        ty,
    }
}

/// The columns every table starts with, in this order.
pub const ENVELOPE: [Column; 6] = [
    col("instance", ColType::Text),
    col("run", ColType::BigInt),
    col("seq", ColType::BigInt),
    renamed("ts", "ts_ms", ColType::Millis),
    Column {
        name: "subject",
        field: None,
        ty: ColType::Text,
    },
    Column {
        name: "received_at",
        field: None,
        ty: ColType::Millis,
    },
];

/// One message kind's table.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    /// The message's `"kind"`.
    pub kind: &'static str,
    /// The columns after [`ENVELOPE`].
    pub columns: &'static [Column],
}

use ColType::{BigInt, Float, Millis, Numeric, Object, Text};

pub const TABLES: [Table; 8] = [
    Table {
        name: "md_tops",
        kind: "md",
        columns: &[
            col("venue", Text),
            col("symbol", Text),
            col("status", Text),
            col("bid_px", Numeric),
            col("bid_qty", Numeric),
            col("ask_px", Numeric),
            col("ask_qty", Numeric),
            col("last_id", BigInt),
            renamed("exch_ts", "exch_ts_ms", Millis),
        ],
    },
    Table {
        name: "signals",
        kind: "signal",
        columns: &[
            col("strategy", Text),
            col("symbol", Text),
            col("wallet", Text),
            col("side", Text),
            col("order_type", Text),
            col("price", Numeric),
            col("qty", Numeric),
            col("fair_value", Float),
            col("edge_bps", Float),
        ],
    },
    Table {
        name: "orders",
        kind: "order",
        columns: &[
            col("event", Text),
            col("client_oid", Text),
            col("exchange_order_id", BigInt),
            col("strategy", Text),
            col("symbol", Text),
            col("wallet", Text),
            col("side", Text),
            col("order_type", Text),
            col("price", Numeric),
            col("qty", Numeric),
        ],
    },
    Table {
        name: "exec_events",
        kind: "exec",
        columns: &[
            col("event", Text),
            col("client_oid", Text),
            col("exchange_order_id", BigInt),
            col("symbol", Text),
            col("side", Text),
            col("state", Text),
            col("reject_code", BigInt),
            renamed("venue_ts", "venue_ts_ms", Millis),
        ],
    },
    Table {
        name: "fills",
        kind: "fill",
        columns: &[
            col("client_oid", Text),
            col("exchange_order_id", BigInt),
            col("trade_id", BigInt),
            col("symbol", Text),
            col("side", Text),
            col("price", Numeric),
            col("qty", Numeric),
            col("fee", Numeric),
            col("source", Text),
            renamed("venue_ts", "venue_ts_ms", Millis),
        ],
    },
    Table {
        name: "positions",
        kind: "position",
        columns: &[
            col("strategy", Text),
            col("wallet", Text),
            col("symbol", Text),
            col("qty", Numeric),
            col("avg_price", Numeric),
            col("fees", Numeric),
            col("realized_pnl", Float),
            col("unrealized_pnl", Float),
            // `limit` is an SQL keyword.
            renamed("qty_limit", "limit", Numeric),
        ],
    },
    Table {
        name: "latency_snapshots",
        kind: "latency",
        columns: &[col("stages", Object)],
    },
    Table {
        name: "system_events",
        kind: "system",
        columns: &[
            col("event", Text),
            col("venue", Text),
            col("symbol", Text),
            col("detail", BigInt),
            col("trading_state", Text),
        ],
    },
];

/// Messages the recorder could not parse, kept with the reason so they can be replayed after a
/// fix. Keyed by the JetStream stream sequence, so a redelivered bad message is stored once.
pub const BAD_MESSAGES_DDL: &str = "CREATE TABLE IF NOT EXISTS bad_messages (\n  \
     stream text NOT NULL,\n  stream_seq bigint NOT NULL,\n  subject text NOT NULL,\n  \
     received_at timestamptz NOT NULL,\n  error text NOT NULL,\n  payload bytea NOT NULL,\n  \
     UNIQUE (stream, stream_seq)\n)";

/// The index of the table for a message `kind`.
pub fn table_for_kind(kind: &str) -> Option<usize> {
    TABLES.iter().position(|t| t.kind == kind)
}

impl Table {
    /// Envelope then kind columns.
    pub fn all_columns(&self) -> impl Iterator<Item = &Column> {
        ENVELOPE.iter().chain(self.columns.iter())
    }

    pub fn width(&self) -> usize {
        ENVELOPE.len() + self.columns.len()
    }

    /// `CREATE TABLE IF NOT EXISTS …` (every column NOT NULL: the contract has no optional
    /// fields).
    pub fn ddl(&self) -> String {
        let cols: Vec<String> = self
            .all_columns()
            .map(|c| format!("  {} {} NOT NULL", c.name, c.ty.sql()))
            .collect();
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n{},\n  UNIQUE (instance, run, seq)\n)",
            self.name,
            cols.join(",\n")
        )
    }
}

/// Every statement that creates the schema, in order; each is idempotent.
pub fn ddl() -> Vec<String> {
    let mut v: Vec<String> = TABLES.iter().map(Table::ddl).collect();
    v.push(BAD_MESSAGES_DDL.to_string());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_table_and_names_are_unique() {
        for kind in [
            "md", "signal", "order", "exec", "fill", "position", "latency", "system",
        ] {
            assert!(table_for_kind(kind).is_some(), "{kind}");
        }
        let mut names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TABLES.len());
        for t in &TABLES {
            let mut cols: Vec<&str> = t.all_columns().map(|c| c.name).collect();
            cols.sort();
            cols.dedup();
            assert_eq!(cols.len(), t.width(), "{}: duplicate column", t.name);
        }
    }

    #[test]
    fn ddl_has_the_idempotency_key() {
        let d = TABLES[0].ddl();
        assert!(d.starts_with("CREATE TABLE IF NOT EXISTS md_tops ("), "{d}");
        assert!(d.contains("bid_px numeric NOT NULL"), "{d}");
        assert!(d.contains("exch_ts timestamptz NOT NULL"), "{d}");
        assert!(d.contains("UNIQUE (instance, run, seq)"), "{d}");
    }
}
