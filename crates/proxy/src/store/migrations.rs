//! The schema, once, for both backends: the SQL files under `crates/proxy/migrations/`, applied
//! in order and recorded in `schema_migrations`. A backend runs [`pending`] migrations in one
//! transaction (PostgreSQL under an advisory lock), each followed by its [`Conversion`].

use faceswap_core::provider::TaskUpdate;
use faceswap_core::registry::{self, FIRST_VERSION_PROVIDER};

use super::{StoreError, StoreResult};

/// One step of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Migration {
    /// Its number, from 1, in order.
    pub version: i64,
    /// Its file's name without the number and extension.
    pub name: &'static str,
    /// The SQL, run as one batch.
    pub sql: &'static str,
    /// What the store rewrites in Rust after the SQL, in the same transaction.
    pub conversion: Option<Conversion>,
}

/// A rewrite of stored values that SQL cannot do the same way on both backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conversion {
    /// Every `hook_tokens.held_update` that holds a callback body of the first version's provider
    /// (`{success, type, task_id, result_image}`) becomes the neutral [`TaskUpdate`]
    /// ([`held_as_update`]).
    HeldCallbacksToUpdates,
}

/// Every migration, in order.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../../migrations/0001_initial.sql"),
        conversion: None,
    },
    Migration {
        version: 2,
        name: "provider_keys",
        sql: include_str!("../../migrations/0002_provider_keys.sql"),
        conversion: Some(Conversion::HeldCallbacksToUpdates),
    },
    Migration {
        version: 3,
        name: "limits",
        sql: include_str!("../../migrations/0003_limits.sql"),
        conversion: None,
    },
    Migration {
        version: 4,
        name: "uploads",
        sql: include_str!("../../migrations/0004_uploads.sql"),
        conversion: None,
    },
    Migration {
        version: 5,
        name: "upload_duration",
        sql: include_str!("../../migrations/0005_upload_duration.sql"),
        conversion: None,
    },
    Migration {
        version: 6,
        name: "task_results",
        sql: include_str!("../../migrations/0006_task_results.sql"),
        conversion: None,
    },
    Migration {
        version: 7,
        name: "app_events",
        sql: include_str!("../../migrations/0007_app_events.sql"),
        conversion: None,
    },
    Migration {
        version: 8,
        name: "kept_results",
        sql: include_str!("../../migrations/0008_kept_results.sql"),
        conversion: None,
    },
    Migration {
        version: 9,
        name: "task_owner",
        sql: include_str!("../../migrations/0009_task_owner.sql"),
        conversion: None,
    },
];

/// The table of applied migrations (created first, by both backends).
pub(crate) const LEDGER: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name    TEXT NOT NULL
)";

/// The migrations still to apply to a database that has `applied`, in order; an error when the
/// database knows a migration this proxy does not (a newer proxy migrated it).
pub(crate) fn pending(applied: &[i64]) -> StoreResult<Vec<&'static Migration>> {
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    if let Some(&found) = applied.iter().max().filter(|&&found| found > known) {
        return Err(StoreError::NewerSchema { found, known });
    }
    Ok(MIGRATIONS
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .collect())
}

/// A held value rewritten as a neutral update: `Some(json)` for a callback body held by the
/// first version (whose one provider was [`FIRST_VERSION_PROVIDER`]), `None` when it is one
/// already. Anything else is corrupt.
pub(crate) fn held_as_update(held: &str) -> StoreResult<Option<String>> {
    if serde_json::from_str::<TaskUpdate>(held).is_ok() {
        return Ok(None);
    }
    // Only the body was held; that provider reads no header.
    let corrupt = || StoreError::corrupt("hook_tokens.held_update", held);
    let adapter = registry::adapter(FIRST_VERSION_PROVIDER).ok_or_else(corrupt)?;
    let update = adapter
        .read_callback(held.as_bytes(), &[])
        .map(|update| crate::routes::checked_update(FIRST_VERSION_PROVIDER, update))
        .map_err(|_| corrupt())?;
    Ok(Some(serde_json::to_string(&update)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceswap_core::TaskStatus;

    #[test]
    fn migrations_are_numbered_in_order_and_match_their_files() {
        for (i, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, i64::try_from(i).expect("small") + 1);
            assert!(!migration.sql.trim().is_empty());
        }
        let known = MIGRATIONS.last().map_or(0, |m| m.version);
        let all: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
        assert_eq!(pending(&[]).expect("pending").len(), MIGRATIONS.len());
        assert_eq!(pending(&[1]).expect("pending")[0].version, 2);
        assert_eq!(pending(&[1, 2]).expect("pending")[0].version, 3);
        assert!(pending(&all).expect("pending").is_empty());
        assert!(matches!(
            pending(&[1, 2, 3, 4, 5, 99]),
            Err(StoreError::NewerSchema { found: 99, known: k }) if k == known
        ));
    }

    #[test]
    fn held_aifaceswap_callbacks_become_neutral_updates() {
        let json = held_as_update(
            r#"{"success":1,"type":1,"task_id":"t1","result_image":"https://cdn.example/r.jpg"}"#,
        )
        .expect("converted")
        .expect("rewritten");
        let update: TaskUpdate = serde_json::from_str(&json).expect("an update");
        assert_eq!(update.status, TaskStatus::Succeeded);
        assert_eq!(update.task_id.as_deref(), Some("t1"));
        assert_eq!(update.kind, Some(1));
        assert_eq!(
            update.result_url.as_deref(),
            Some("https://cdn.example/r.jpg")
        );
        assert_eq!(held_as_update(&json).expect("kept"), None);
        let failed = held_as_update(r#"{"success":0,"task_id":"t2"}"#)
            .expect("converted")
            .expect("rewritten");
        assert!(failed.contains("\"failed\""));
        assert!(matches!(
            held_as_update("not json"),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
