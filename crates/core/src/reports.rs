//! Reports on the desktop: the summary, the time series and the live figures as the server
//! computes them (the client adds nothing up), the CSV exports as the server writes them, and
//! the last answer of each kind kept in the account's directory (`reports/<kind>.json`) so the
//! screen still shows it, "as of" when it was fetched, while the server can't be reached. Like
//! settings these are asked at once and never queued; the kept copies go with the account's
//! directory when it signs out.

use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use switchboard_proto::{
    reports::{CycleMetric, CycleRow, GroupBy, Interval, LiveFigures, ReportSeries, ReportSummary},
    Millis,
};

use crate::{
    api::ApiClient,
    error::{CoreError, CoreResult},
};

/// What the reports screen asks for: a period (`from`/`to` dates or RFC 3339 instants, `to`
/// exclusive, dates meaning midnight in `time_zone`), the zone, the grouping and the chart's
/// bucket length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportQuery {
    pub from: String,
    pub to: String,
    pub time_zone: String,
    pub group_by: GroupBy,
    pub interval: Interval,
}

impl ReportQuery {
    fn params(&self, with_grouping: bool, with_interval: bool) -> Vec<(&'static str, String)> {
        let mut params =
            vec![("from", self.from.clone()), ("to", self.to.clone()), ("tz", self.time_zone.clone())];
        if with_grouping {
            params.push(("group_by", wire_name(&self.group_by)));
        }
        if with_interval {
            params.push(("interval", wire_name(&self.interval)));
        }
        params
    }
}

/// The snake_case name serde gives a unit variant (`agent`, `week`).
fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// A report and when it was fetched. `offline` is set (with why) when the server could not be
/// reached and this is the copy kept from the last time it could: its own period and grouping,
/// which may differ from what was asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fetched<T> {
    pub value: T,
    pub as_of: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline: Option<String>,
}

/// Which CSV to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CsvExport {
    /// The summary by the chosen grouping, with the previous period.
    Summary,
    /// One row per conversation cycle that started in the period.
    Conversations,
}

impl CsvExport {
    /// A file name to offer in the save dialog: `switchboard-summary-2026-11-01-2026-12-01.csv`.
    pub fn file_name(self, query: &ReportQuery) -> String {
        let kind = match self {
            CsvExport::Summary => "summary",
            CsvExport::Conversations => "conversations",
        };
        let day = |text: &str| {
            text.get(..10).unwrap_or(text).replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "")
        };
        format!("switchboard-{kind}-{}-{}.csv", day(&query.from), day(&query.to))
    }
}

/// Where the last report of each kind is kept: one JSON file per kind.
#[derive(Debug, Clone)]
pub struct ReportCache {
    dir: PathBuf,
}

impl ReportCache {
    /// The cache under an account's directory.
    pub fn in_account(account_dir: &Path) -> Self {
        ReportCache { dir: account_dir.join("reports") }
    }

    fn path(&self, kind: &str) -> PathBuf {
        self.dir.join(format!("{kind}.json"))
    }

    /// The kept copy of a kind, if any (a damaged file counts as none).
    pub fn load<T: DeserializeOwned>(&self, kind: &str) -> Option<Fetched<T>> {
        let text = std::fs::read(self.path(kind)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Keeps a copy, replacing the last one whole (written aside, then renamed).
    pub fn store<T: Serialize>(&self, kind: &str, fetched: &Fetched<T>) -> CoreResult<()> {
        std::fs::create_dir_all(&self.dir)?;
        let aside = self.dir.join(format!("{kind}.json.part"));
        std::fs::write(&aside, serde_json::to_vec(fetched)?)?;
        std::fs::rename(aside, self.path(kind))?;
        Ok(())
    }
}

/// Asks the server; keeps a good answer; when the server can't be reached, answers the kept copy
/// marked offline (or the network error when there is none). A refusal (403, 422) is answered as
/// it is: the kept copy answers a different question.
async fn fetch_or_kept<T, F>(cache: &ReportCache, kind: &str, now: Millis, ask: F) -> CoreResult<Fetched<T>>
where
    T: Serialize + DeserializeOwned,
    F: std::future::Future<Output = CoreResult<T>>,
{
    match ask.await {
        Ok(value) => {
            let fetched = Fetched { value, as_of: now, offline: None };
            if let Err(error) = cache.store(kind, &fetched) {
                tracing::warn!(%error, kind, "keeping the report for offline use failed");
            }
            Ok(fetched)
        }
        Err(CoreError::Network(why)) => match cache.load::<T>(kind) {
            Some(kept) => Ok(Fetched { offline: Some(why), ..kept }),
            None => {
                Err(CoreError::Network(format!("reports show when the server can be reached again ({why})")))
            }
        },
        Err(other) => Err(other),
    }
}

/// The period's figures by the query's grouping, beside the previous period.
pub async fn summary(
    api: &ApiClient,
    cache: &ReportCache,
    now: Millis,
    query: &ReportQuery,
) -> CoreResult<Fetched<ReportSummary>> {
    let params = query.params(true, false);
    let ask = api.report("summary", &params);
    fetch_or_kept(cache, "summary", now, ask).await
}

/// The period's figures per bucket of the query's interval.
pub async fn series(
    api: &ApiClient,
    cache: &ReportCache,
    now: Millis,
    query: &ReportQuery,
) -> CoreResult<Fetched<ReportSeries>> {
    let params = query.params(true, true);
    let ask = api.report("timeseries", &params);
    fetch_or_kept(cache, "series", now, ask).await
}

/// The desk now (the server's default thresholds: waiting over 30 minutes, SLA due within an
/// hour).
pub async fn live(api: &ApiClient, cache: &ReportCache, now: Millis) -> CoreResult<Fetched<LiveFigures>> {
    let ask = api.report("live", &[]);
    fetch_or_kept(cache, "live", now, ask).await
}

/// The cycles behind one of a series' counts over the query's period (a chart's bar drilled into:
/// its bucket's `[start, end)` as instants), as the server lists them; asked at once, never kept.
pub async fn cycles(api: &ApiClient, query: &ReportQuery, metric: CycleMetric) -> CoreResult<Vec<CycleRow>> {
    let mut params = query.params(false, false);
    params.push(("metric", wire_name(&metric)));
    api.report("conversations", &params).await
}

/// A CSV export as the server writes it; never computed here, never kept.
pub async fn csv(api: &ApiClient, export: CsvExport, query: &ReportQuery) -> CoreResult<Vec<u8>> {
    let result = match export {
        CsvExport::Summary => api.report_csv("summary", &query.params(true, false)).await,
        CsvExport::Conversations => api.report_csv("conversations", &query.params(false, false)).await,
    };
    result.map_err(|error| match error {
        CoreError::Network(why) => {
            CoreError::Network(format!("the export needs the server; it can't be reached now ({why})"))
        }
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_file_names_carry_the_period_and_nothing_unsafe() {
        let query = ReportQuery {
            from: "2026-11-01".into(),
            to: "2026-12-01T00:00:00+03:30".into(),
            time_zone: "Asia/Tehran".into(),
            group_by: GroupBy::Agent,
            interval: Interval::Day,
        };
        assert_eq!(CsvExport::Summary.file_name(&query), "switchboard-summary-2026-11-01-2026-12-01.csv");
        let odd = ReportQuery { from: "../../x".into(), ..query };
        assert_eq!(CsvExport::Conversations.file_name(&odd), "switchboard-conversations-x-2026-12-01.csv");
    }

    #[test]
    fn the_cache_keeps_the_last_answer_whole_and_ignores_a_damaged_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = ReportCache::in_account(dir.path());
        assert_eq!(cache.load::<u32>("live"), None, "nothing kept yet");
        cache.store("live", &Fetched { value: 1u32, as_of: 10, offline: None }).expect("stored");
        cache.store("live", &Fetched { value: 2u32, as_of: 20, offline: None }).expect("stored");
        assert_eq!(cache.load::<u32>("live"), Some(Fetched { value: 2, as_of: 20, offline: None }));
        std::fs::write(dir.path().join("reports/live.json"), b"{not json").expect("damaged");
        assert_eq!(cache.load::<u32>("live"), None, "a damaged copy counts as none");
    }

    #[test]
    fn grouping_and_interval_go_by_their_wire_names() {
        let query = ReportQuery {
            from: "2026-11-01".into(),
            to: "2026-11-08".into(),
            time_zone: "Europe/Bucharest".into(),
            group_by: GroupBy::Channel,
            interval: Interval::Week,
        };
        let params = query.params(true, true);
        assert!(params.contains(&("group_by", "channel".into())), "{params:?}");
        assert!(params.contains(&("interval", "week".into())), "{params:?}");
    }
}
