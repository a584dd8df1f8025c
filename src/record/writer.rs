//! Writes one batch of messages to PostgreSQL in one transaction.
//!
//! 1. Rows are grouped by table; each table gets one `INSERT … SELECT … FROM unnest($1, $2, …)
//!    ON CONFLICT (instance, run, seq) DO NOTHING` whose parameters are one array per column,
//!    so the statement is prepared once and a batch of any size is one round trip per table.
//! 2. Messages that are not valid events go to `bad_messages` in the same transaction.
//! 3. Commit. Only then does the caller acknowledge the messages.
//!
//! If the database refuses the data anyway (an SQL data or constraint error the parser did not
//! foresee), the batch is rolled back and written again one row per savepoint; the rows it
//! refuses join `bad_messages` with its reason, so a message can never block the stream.

use super::config::PgTarget;
use super::event::{Cell, Malformed, Row};
use super::schema::{self, ColType, TABLES, Table};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, GenericClient, NoTls, Statement};

/// One fetched message, parsed.
#[derive(Debug)]
pub struct Entry<'a> {
    /// The JetStream stream sequence (`bad_messages` is keyed by it).
    pub stream_seq: u64,
    pub subject: &'a str,
    pub payload: &'a [u8],
    pub received_ms: u64,
    pub parsed: Result<Row, Malformed>,
}

/// What a committed batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    pub duplicates: u64,
    /// Messages kept in `bad_messages` (malformed, or refused by the database).
    pub bad: u64,
    /// The messages that parsed but that the database refused: (stream sequence, reason).
    pub refused: Vec<(u64, String)>,
}

/// Why a write failed, by what the caller must do. The text is the server's (`code: message`)
/// or the driver's with its cause.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The connection is gone or the server is unavailable: reconnect (which re-creates
    /// missing tables) and write the same batch again.
    #[error("{0}")]
    Reconnect(String),
    /// The database refused a value: write the batch row by row to find it.
    #[error("{0}")]
    Data(String),
    /// The schema does not fit (a table of another layout is in the way): stop.
    #[error("{0}")]
    Terminal(String),
}

impl WriteError {
    fn classify(e: tokio_postgres::Error) -> WriteError {
        let msg = match e.as_db_error() {
            Some(db) => format!("{}: {}", db.code().code(), db.message()),
            // "error connecting to server" says more with its cause ("Connection refused").
            None => match std::error::Error::source(&e) {
                Some(cause) => format!("{e}: {cause}"),
                None => e.to_string(),
            },
        };
        let Some(code) = e.code() else {
            return WriteError::Reconnect(msg);
        };
        match &code.code()[..2] {
            "22" | "23" => WriteError::Data(msg),
            // 42P01: a table was dropped under us; reconnecting creates it again.
            "42" if code.code() != "42P01" => WriteError::Terminal(msg),
            _ => WriteError::Reconnect(msg),
        }
    }

    pub fn message(&self) -> &str {
        match self {
            WriteError::Reconnect(m) | WriteError::Data(m) | WriteError::Terminal(m) => m,
        }
    }
}

/// A connection with the schema in place and the inserts prepared.
pub struct Writer {
    client: Client,
    inserts: Vec<Statement>,
    insert_bad: Statement,
    stream: String,
}

impl Writer {
    /// Connects, creates the tables that are missing and prepares the inserts. `stream` names
    /// the JetStream stream in `bad_messages`.
    pub async fn connect(target: &PgTarget, stream: &str) -> Result<Writer, WriteError> {
        let (client, connection) = target
            .config()
            .connect(NoTls)
            .await
            .map_err(WriteError::classify)?;
        tokio::spawn(async move {
            // Ends when the client is dropped or the server goes away; the next query says so.
            let _ = connection.await;
        });
        for stmt in schema::ddl() {
            client
                .batch_execute(&stmt)
                .await
                .map_err(WriteError::classify)?;
        }
        let mut inserts = Vec::with_capacity(TABLES.len());
        for t in &TABLES {
            inserts.push(
                client
                    .prepare(&insert_sql(t))
                    .await
                    .map_err(WriteError::classify)?,
            );
        }
        let insert_bad = client
            .prepare(
                "INSERT INTO bad_messages (stream, stream_seq, subject, received_at, error, payload) \
                 VALUES ($1, $2, $3, timestamptz 'epoch' + $4::bigint * interval '1 millisecond', \
                 $5, $6) ON CONFLICT (stream, stream_seq) DO NOTHING",
            )
            .await
            .map_err(WriteError::classify)?;
        Ok(Writer {
            client,
            inserts,
            insert_bad,
            stream: stream.to_string(),
        })
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Writes `entries` in one transaction and commits (see the module's steps).
    pub async fn write(&mut self, entries: &[Entry<'_>]) -> Result<Written, WriteError> {
        match self.write_batch(entries).await {
            Err(WriteError::Data(_)) => self.write_each(entries).await,
            other => other,
        }
    }

    async fn write_batch(&mut self, entries: &[Entry<'_>]) -> Result<Written, WriteError> {
        let tx = self
            .client
            .transaction()
            .await
            .map_err(WriteError::classify)?;
        let mut w = Written::default();
        for (i, t) in TABLES.iter().enumerate() {
            let rows: Vec<&Row> = entries
                .iter()
                .filter_map(|e| e.parsed.as_ref().ok())
                .filter(|r| r.table == i)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let n = insert_rows(&tx, &self.inserts[i], t, &rows).await?;
            w.rows += n;
            w.duplicates += rows.len() as u64 - n;
        }
        for e in entries {
            if let Err(why) = &e.parsed {
                insert_bad(&tx, &self.insert_bad, &self.stream, e, &why.0).await?;
                w.bad += 1;
            }
        }
        tx.commit().await.map_err(WriteError::classify)?;
        Ok(w)
    }

    /// The slow path: one savepoint per message; what the database refuses becomes a bad
    /// message with the database's reason.
    async fn write_each(&mut self, entries: &[Entry<'_>]) -> Result<Written, WriteError> {
        let mut tx = self
            .client
            .transaction()
            .await
            .map_err(WriteError::classify)?;
        let mut w = Written::default();
        for e in entries {
            let refused = match &e.parsed {
                Err(why) => Some(why.0.clone()),
                Ok(row) => {
                    let sp = tx.savepoint("row").await.map_err(WriteError::classify)?;
                    let t = &TABLES[row.table];
                    match insert_rows(&sp, &self.inserts[row.table], t, &[row]).await {
                        Ok(n) => {
                            sp.commit().await.map_err(WriteError::classify)?;
                            w.rows += n;
                            w.duplicates += 1 - n;
                            None
                        }
                        Err(WriteError::Data(m)) => {
                            sp.rollback().await.map_err(WriteError::classify)?;
                            let why = format!("refused by the database ({m})");
                            w.refused.push((e.stream_seq, why.clone()));
                            Some(why)
                        }
                        Err(other) => return Err(other),
                    }
                }
            };
            if let Some(why) = refused {
                insert_bad(&tx, &self.insert_bad, &self.stream, e, &why).await?;
                w.bad += 1;
            }
        }
        tx.commit().await.map_err(WriteError::classify)?;
        Ok(w)
    }
}

async fn insert_rows(
    c: &impl GenericClient,
    stmt: &Statement,
    t: &Table,
    rows: &[&Row],
) -> Result<u64, WriteError> {
    let arrays = column_arrays(t, rows);
    let params: Vec<&(dyn ToSql + Sync)> = arrays.iter().map(ColumnArray::as_param).collect();
    c.execute(stmt, &params).await.map_err(WriteError::classify)
}

async fn insert_bad(
    c: &impl GenericClient,
    stmt: &Statement,
    stream: &str,
    e: &Entry<'_>,
    why: &str,
) -> Result<(), WriteError> {
    // Past i64::MAX a stream sequence cannot occur; clamp rather than fail the batch.
    let seq = i64::try_from(e.stream_seq).unwrap_or(i64::MAX);
    let received = i64::try_from(e.received_ms).unwrap_or(0);
    c.execute(
        stmt,
        &[&stream, &seq, &e.subject, &received, &why, &e.payload],
    )
    .await
    .map_err(WriteError::classify)?;
    Ok(())
}

/// `INSERT INTO t (cols) SELECT exprs FROM unnest($1::text[], …) AS u(cols) ON CONFLICT …`.
pub fn insert_sql(t: &Table) -> String {
    let names: Vec<&str> = t.all_columns().map(|c| c.name).collect();
    let exprs: Vec<String> = t
        .all_columns()
        .map(|c| match c.ty {
            ColType::Text | ColType::BigInt | ColType::Float => format!("u.{}", c.name),
            ColType::Numeric => format!("u.{}::numeric", c.name),
            ColType::Object => format!("u.{}::jsonb", c.name),
            ColType::Millis => {
                format!(
                    "timestamptz 'epoch' + u.{} * interval '1 millisecond'",
                    c.name
                )
            }
        })
        .collect();
    let arrays: Vec<String> = t
        .all_columns()
        .enumerate()
        .map(|(i, c)| format!("${}::{}", i + 1, array_type(c.ty)))
        .collect();
    format!(
        "INSERT INTO {} ({}) SELECT {} FROM unnest({}) AS u({}) \
         ON CONFLICT (instance, run, seq) DO NOTHING",
        t.name,
        names.join(", "),
        exprs.join(", "),
        arrays.join(", "),
        names.join(", ")
    )
}

fn array_type(ty: ColType) -> &'static str {
    match ty {
        ColType::Text | ColType::Numeric | ColType::Object => "text[]",
        ColType::BigInt | ColType::Millis => "bigint[]",
        ColType::Float => "float8[]",
    }
}

/// One column of a batch, as the array bound to its parameter.
enum ColumnArray {
    Text(Vec<String>),
    Int(Vec<i64>),
    Float(Vec<f64>),
}

impl ColumnArray {
    fn as_param(&self) -> &(dyn ToSql + Sync) {
        match self {
            ColumnArray::Text(v) => v,
            ColumnArray::Int(v) => v,
            ColumnArray::Float(v) => v,
        }
    }
}

fn column_arrays(t: &Table, rows: &[&Row]) -> Vec<ColumnArray> {
    t.all_columns()
        .enumerate()
        .map(|(i, c)| {
            let cells = rows.iter().map(|r| &r.cells[i]);
            match array_type(c.ty) {
                "text[]" => ColumnArray::Text(
                    cells
                        .map(|x| match x {
                            Cell::Text(s) => s.clone(),
                            other => unreachable!("{}: {other:?} in a text column", c.name),
                        })
                        .collect(),
                ),
                "bigint[]" => ColumnArray::Int(
                    cells
                        .map(|x| match x {
                            Cell::Int(n) => *n,
                            other => unreachable!("{}: {other:?} in a bigint column", c.name),
                        })
                        .collect(),
                ),
                _ => ColumnArray::Float(
                    cells
                        .map(|x| match x {
                            Cell::Float(f) => *f,
                            other => unreachable!("{}: {other:?} in a float column", c.name),
                        })
                        .collect(),
                ),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_insert_binds_one_array_per_column() {
        let sql = insert_sql(&TABLES[0]);
        assert!(
            sql.starts_with("INSERT INTO md_tops (instance, run, seq, ts, subject"),
            "{sql}"
        );
        assert!(sql.contains("u.bid_px::numeric"), "{sql}");
        assert!(sql.contains("$15::bigint[]"), "{sql}");
        assert!(
            sql.ends_with("ON CONFLICT (instance, run, seq) DO NOTHING"),
            "{sql}"
        );
    }
}
