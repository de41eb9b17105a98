//! Brings a SQLite database to the newest schema ([`crate::store::migrations`]) in one
//! `BEGIN IMMEDIATE` transaction, so that two proxies opening one file migrate it once.

use rusqlite::{params, Connection, TransactionBehavior};

use crate::store::migrations::{self, Conversion, LEDGER};
use crate::store::StoreResult;

/// Applies the migrations the database lacks.
pub(super) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(LEDGER)?;
    let applied = {
        let mut statement = tx.prepare("SELECT version FROM schema_migrations")?;
        let versions = statement.query_map([], |row| row.get::<_, i64>(0))?;
        versions.collect::<rusqlite::Result<Vec<_>>>()?
    };
    for migration in migrations::pending(&applied)? {
        tx.execute_batch(migration.sql)?;
        if let Some(conversion) = migration.conversion {
            convert(&tx, conversion)?;
        }
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
            params![migration.version, migration.name],
        )?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "SQLite schema migrated"
        );
    }
    tx.commit()?;
    Ok(())
}

fn convert(conn: &Connection, conversion: Conversion) -> StoreResult<()> {
    match conversion {
        Conversion::HeldCallbacksToUpdates => {
            let held = {
                let mut statement = conn.prepare(
                    "SELECT token_hash, held_update FROM hook_tokens WHERE held_update IS NOT NULL",
                )?;
                let rows = statement.query_map([], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            for (token_hash, json) in held {
                if let Some(update) = migrations::held_as_update(&json)? {
                    conn.execute(
                        "UPDATE hook_tokens SET held_update = ?2 WHERE token_hash = ?1",
                        params![token_hash, update],
                    )?;
                }
            }
            Ok(())
        }
    }
}
