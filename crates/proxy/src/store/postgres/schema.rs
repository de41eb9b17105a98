//! Brings a PostgreSQL database to the newest schema ([`crate::store::migrations`]). Several
//! proxies may start at once: the migrations run in one transaction under a transaction-scoped
//! advisory lock, so one proxy applies them and the others find them recorded.

use tokio_postgres::{Client, GenericClient};

use crate::store::migrations::{self, Conversion, LEDGER};
use crate::store::{StoreResult, TaskKey};

/// The advisory lock key of the schema changes ("faceswap" in ASCII).
const SCHEMA_LOCK: i64 = 0x6661_6365_7377_6170;

/// The channel of task changes; the payload is [`payload`].
pub(super) const CHANNEL: &str = "faceswap_tasks";

/// A task's notification payload: `provider/task_id` (provider ids are lowercase ASCII without
/// `/`; a task id may hold one).
pub(super) fn payload(key: &TaskKey) -> String {
    format!("{}/{}", key.provider, key.task_id)
}

/// The task a notification names.
pub(super) fn parse_payload(payload: &str) -> Option<TaskKey> {
    let (provider, task_id) = payload.split_once('/')?;
    (!provider.is_empty() && !task_id.is_empty()).then(|| TaskKey::new(provider, task_id))
}

/// Applies the migrations the database lacks.
pub(super) async fn migrate(client: &mut Client) -> StoreResult<()> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .await?;
    tx.batch_execute(LEDGER).await?;
    let applied: Vec<i64> = tx
        .query("SELECT version FROM schema_migrations", &[])
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    for migration in migrations::pending(&applied)? {
        tx.batch_execute(migration.sql).await?;
        if let Some(conversion) = migration.conversion {
            convert(&tx, conversion).await?;
        }
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&migration.version, &migration.name],
        )
        .await?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "PostgreSQL schema migrated"
        );
    }
    tx.commit().await?;
    Ok(())
}

async fn convert(client: &impl GenericClient, conversion: Conversion) -> StoreResult<()> {
    match conversion {
        Conversion::HeldCallbacksToUpdates => {
            let rows = client
                .query(
                    "SELECT token_hash, held_update FROM hook_tokens WHERE held_update IS NOT NULL",
                    &[],
                )
                .await?;
            for row in rows {
                let token_hash: String = row.try_get(0)?;
                let json: String = row.try_get(1)?;
                if let Some(update) = migrations::held_as_update(&json)? {
                    client
                        .execute(
                            "UPDATE hook_tokens SET held_update = $2 WHERE token_hash = $1",
                            &[&token_hash, &update],
                        )
                        .await?;
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_carry_provider_and_task_id() {
        let key = TaskKey::new("piapi", "a/b");
        assert_eq!(payload(&key), "piapi/a/b");
        assert_eq!(parse_payload(&payload(&key)), Some(key));
        assert_eq!(parse_payload("no-provider"), None);
        assert_eq!(parse_payload("/t"), None);
        assert_eq!(parse_payload("p/"), None);
    }
}
