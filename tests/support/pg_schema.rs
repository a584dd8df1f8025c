//! A fresh PostgreSQL schema per test, dropped at the end. The server: `ARBLINE_TEST_PG` (a
//! libpq URL or `key=value` string), default `host=127.0.0.1 port=5432 user=root dbname=test`
//! (`scripts/services` starts it).
#![allow(dead_code)]

use arbline::record::PgTarget;
use arbline::record::schema::TABLES;
use std::str::FromStr;
use tokio::runtime::Runtime;

pub fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{tag}_{}_{nanos}", std::process::id())
}

pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub struct PgSchema {
    pub rt: Runtime,
    pub client: tokio_postgres::Client,
    pub name: String,
    base: tokio_postgres::Config,
}

impl PgSchema {
    pub fn create() -> PgSchema {
        let url = std::env::var("ARBLINE_TEST_PG")
            .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=root dbname=test".into());
        let base = tokio_postgres::Config::from_str(&url).expect("ARBLINE_TEST_PG");
        let rt = runtime();
        let name = unique("rec");
        let client = rt.block_on(async {
            let (client, conn) = base
                .connect(tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL not reachable ({e}): scripts/test starts it; \
                     ARBLINE_TEST_PG names another server"
                    )
                });
            tokio::spawn(conn);
            client
                .batch_execute(&format!("CREATE SCHEMA {name}; SET search_path = {name}"))
                .await
                .unwrap();
            client
        });
        PgSchema {
            rt,
            client,
            name,
            base,
        }
    }

    /// The recorder's target: this schema first on `search_path`.
    pub fn target(&self) -> PgTarget {
        let mut c = self.base.clone();
        c.options(format!("-c search_path={}", self.name));
        PgTarget::from_config(c)
    }

    pub fn exec(&self, sql: &str) {
        self.rt.block_on(self.client.batch_execute(sql)).unwrap();
    }

    pub fn count(&self, table: &str) -> i64 {
        self.rt
            .block_on(
                self.client
                    .query_one(&format!("SELECT count(*) FROM {table}"), &[]),
            )
            .map(|r| r.get(0))
            .unwrap_or(0)
    }

    pub fn total(&self) -> i64 {
        TABLES.iter().map(|t| self.count(t.name)).sum()
    }

    pub fn query(&self, sql: &str) -> Vec<tokio_postgres::Row> {
        self.rt.block_on(self.client.query(sql, &[])).unwrap()
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        let _ = self.rt.block_on(self.client.batch_execute(&sql));
    }
}
