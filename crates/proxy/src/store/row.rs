//! Stored values read back: a task row into a [`TaskEvent`], a cost into its two columns and
//! back, times as RFC 3339. A value the store does not know is [`StoreError::Corrupt`].

use faceswap_core::provider::{Cost, CostUnit, ResultInfo};
use faceswap_core::{TaskStatus, TaskView};

use super::{StoreError, StoreResult, TaskEvent};

/// The columns of a task row, in the order [`TaskRow`] reads them (both backends select them
/// with this list).
macro_rules! task_columns {
    () => {
        "provider, task_id, status, kind, result_url, points, cost_amount, cost_unit, error, \
         created_ms, updated_ms, version, result_info, provider_result_url"
    };
}
pub(crate) use task_columns;

/// The task columns as a backend read them, before any check.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TaskRow {
    pub provider: String,
    pub task_id: String,
    pub status: String,
    pub kind: Option<i64>,
    pub result_url: Option<String>,
    pub points: Option<i64>,
    pub cost_amount: Option<f64>,
    pub cost_unit: Option<String>,
    pub error: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub version: i64,
    pub result_info: Option<String>,
    pub provider_result_url: Option<String>,
}

impl TaskRow {
    /// The task and its change counter; a column with a value the store never writes is an
    /// error.
    pub(crate) fn into_event(self) -> StoreResult<TaskEvent> {
        let status = TaskStatus::from_word(&self.status)
            .ok_or_else(|| StoreError::corrupt("tasks.status", &self.status))?;
        let points = self
            .points
            .map(|p| u64::try_from(p).map_err(|_| StoreError::corrupt("tasks.points", p)))
            .transpose()?;
        let version = u64::try_from(self.version)
            .map_err(|_| StoreError::corrupt("tasks.version", self.version))?;
        Ok(TaskEvent {
            version,
            view: TaskView {
                cost: cost_from_columns(self.cost_amount, self.cost_unit)?,
                created_at: rfc3339("tasks.created_ms", self.created_ms)?,
                updated_at: rfc3339("tasks.updated_ms", self.updated_ms)?,
                provider: self.provider,
                task_id: self.task_id,
                status,
                kind: self.kind,
                result_url: self.result_url,
                provider_result_url: self.provider_result_url,
                result_info: result_info_from_column(self.result_info.as_deref())?,
                points,
                error: self.error,
            },
        })
    }
}

/// A result's metadata from its `result_info` column (JSON text, NULL for none; written by
/// [`super::rules::transition`]).
fn result_info_from_column(text: Option<&str>) -> StoreResult<Option<ResultInfo>> {
    text.map(|text| {
        serde_json::from_str::<ResultInfo>(text)
            .map_err(|_| StoreError::corrupt("tasks.result_info", text))
    })
    .transpose()
}

/// A count column (`poll_attempts`) as a `u32`.
pub(crate) fn count(column: &'static str, value: i64) -> StoreResult<u32> {
    u32::try_from(value).map_err(|_| StoreError::corrupt(column, value))
}

/// The `points` column of a provider's price.
pub(crate) fn points_column(points: Option<u64>) -> StoreResult<Option<i64>> {
    points
        .map(|p| i64::try_from(p).map_err(|_| StoreError::corrupt("tasks.points", p)))
        .transpose()
}

/// The `cost_amount` and `cost_unit` columns of a cost.
pub(crate) fn cost_columns(cost: Option<&Cost>) -> (Option<f64>, Option<&'static str>) {
    match cost {
        Some(cost) => (Some(cost.amount), Some(cost.unit.as_str())),
        None => (None, None),
    }
}

/// The cost stored in `cost_amount` and `cost_unit`: both or neither.
pub(crate) fn cost_from_columns(
    amount: Option<f64>,
    unit: Option<String>,
) -> StoreResult<Option<Cost>> {
    match (amount, unit) {
        (None, None) => Ok(None),
        (Some(amount), Some(unit)) => {
            let unit = [CostUnit::Credits, CostUnit::Usd, CostUnit::Requests]
                .into_iter()
                .find(|u| u.as_str() == unit)
                .ok_or_else(|| StoreError::corrupt("tasks.cost_unit", &unit))?;
            Ok(Some(Cost::new(amount, unit)))
        }
        (Some(amount), None) => Err(StoreError::corrupt(
            "tasks.cost_unit",
            format!("NULL beside the amount {amount}"),
        )),
        (None, Some(unit)) => Err(StoreError::corrupt(
            "tasks.cost_amount",
            format!("NULL beside the unit {unit:?}"),
        )),
    }
}

/// RFC 3339 text of a Unix time in milliseconds stored in `column`.
pub(crate) fn rfc3339(column: &'static str, ms: i64) -> StoreResult<String> {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .ok_or_else(|| StoreError::corrupt(column, ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> TaskRow {
        TaskRow {
            provider: "aifaceswap".into(),
            task_id: "t".into(),
            status: "succeeded".into(),
            kind: Some(1),
            result_url: Some("https://cdn.example/r.jpg".into()),
            points: Some(2),
            cost_amount: Some(2.0),
            cost_unit: Some("credits".into()),
            error: None,
            created_ms: 0,
            updated_ms: 1_500,
            version: 2,
            result_info: Some(r#"{"width":640,"height":480}"#.into()),
            provider_result_url: None,
        }
    }

    #[test]
    fn result_info_round_trips_and_garbage_is_corrupt() {
        let event = row().into_event().expect("event");
        let info = event.view.result_info.expect("info");
        assert_eq!(
            (info.width, info.height, info.size),
            (Some(640), Some(480), None)
        );
        let corrupt = TaskRow {
            result_info: Some(r#"{"width":"wide"}"#.into()),
            ..row()
        };
        assert!(matches!(
            corrupt.into_event(),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339("c", 0).expect("time"), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339("c", 1_500).expect("time"), "1970-01-01T00:00:01.5Z");
        assert!(matches!(
            rfc3339("tasks.created_ms", i64::MAX),
            Err(StoreError::Corrupt {
                column: "tasks.created_ms",
                ..
            })
        ));
    }

    #[test]
    fn a_row_reads_into_its_event() {
        let event = row().into_event().expect("event");
        assert_eq!(event.version, 2);
        assert_eq!(event.view.status, TaskStatus::Succeeded);
        assert_eq!(event.view.cost, Some(Cost::credits(2)));
        assert_eq!(event.view.updated_at, "1970-01-01T00:00:01.5Z");
        for unit in [CostUnit::Credits, CostUnit::Usd, CostUnit::Requests] {
            let (amount, word) = cost_columns(Some(&Cost::new(0.5, unit)));
            assert_eq!(
                cost_from_columns(amount, word.map(str::to_owned)).expect("cost"),
                Some(Cost::new(0.5, unit))
            );
        }
    }

    #[test]
    fn unknown_words_and_negative_counts_are_corrupt_never_defaults() {
        type Spoil = fn(&mut TaskRow);
        let cases: [(Spoil, &str); 6] = [
            (|r| r.status = "done".into(), "tasks.status"),
            (|r| r.cost_unit = Some("euros".into()), "tasks.cost_unit"),
            (|r| r.cost_unit = None, "tasks.cost_unit"),
            (|r| r.cost_amount = None, "tasks.cost_amount"),
            (|r| r.points = Some(-1), "tasks.points"),
            (|r| r.version = -1, "tasks.version"),
        ];
        for (spoil, expected) in cases {
            let mut row = row();
            spoil(&mut row);
            match row.into_event() {
                Err(StoreError::Corrupt { column, .. }) => assert_eq!(column, expected),
                other => panic!("{expected}: {other:?}"),
            }
        }
        assert!(matches!(
            count("tasks.poll_attempts", -3),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
