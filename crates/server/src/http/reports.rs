//! Reports: a period's figures per agent, team, inbox, label or channel, as JSON or CSV (the same
//! numbers: the CSV is written from the JSON's rows), and rebuilding them from the ledger.

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use switchboard_proto::{reports::*, *};
use utoipa::IntoParams;

use super::AppState;
use crate::{
    error::{ApiResult, Json, Query},
    workspace::{cycles_csv, series_csv, summary_csv, ReportQuery, Viewer},
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryParams {
    /// The period's start: an RFC 3339 instant, or a date (`2026-11-01`) meaning its midnight in
    /// `tz`.
    from: String,
    /// The period's end (exclusive), alike.
    to: String,
    /// An IANA time zone (default UTC).
    tz: Option<String>,
    #[serde(default)]
    #[param(inline)]
    group_by: GroupBy,
    /// `csv` for CSV (default JSON).
    format: Option<String>,
    /// With `format=csv`: `1` starts the file with a byte-order mark, for Excel.
    bom: Option<u8>,
}

/// A period's figures per group, beside the same-length period before it. Durations belong to
/// the period holding their end, counts to the one holding their moment. An agent sees the
/// inboxes they work (only their own row when grouped by agent); a lead the inboxes they see;
/// an admin everything.
#[utoipa::path(get, path = "/api/v1/reports/summary", tag = "reports", security(("bearer" = [])),
    params(SummaryParams),
    responses((status = 200, body = ReportSummary), (status = 422, body = ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<SummaryParams>,
) -> ApiResult<Response> {
    let filters = serde_json::json!({"report": "summary", "from": params.from, "to": params.to, "tz": params.tz, "group_by": params.group_by});
    let query =
        ReportQuery { from: params.from, to: params.to, time_zone: params.tz, group_by: params.group_by };
    let summary = state.workspace.report_summary(&viewer, query).await?;
    answer(&state, &viewer, &params.format, params.bom, filters, &summary, summary_csv).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesParams {
    /// As for the summary.
    from: String,
    to: String,
    tz: Option<String>,
    #[serde(default)]
    #[param(inline)]
    group_by: GroupBy,
    /// Bucket length in `tz` (default day).
    #[serde(default)]
    #[param(inline)]
    interval: Interval,
    /// `csv` for CSV: one row per group and bucket, zeros included.
    format: Option<String>,
    bom: Option<u8>,
}

/// The period's figures per bucket (local hours, days, ISO weeks or months in `tz`: a DST day
/// has 23 or 25 hourly buckets) and group, every group in every bucket.
#[utoipa::path(get, path = "/api/v1/reports/timeseries", tag = "reports", security(("bearer" = [])),
    params(SeriesParams),
    responses((status = 200, body = ReportSeries), (status = 422, body = ErrorBody)))]
pub async fn timeseries(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<SeriesParams>,
) -> ApiResult<Response> {
    let filters = serde_json::json!({"report": "timeseries", "from": params.from, "to": params.to, "tz": params.tz, "group_by": params.group_by, "interval": params.interval});
    let query =
        ReportQuery { from: params.from, to: params.to, time_zone: params.tz, group_by: params.group_by };
    let series = state.workspace.report_series(&viewer, query, params.interval).await?;
    answer(&state, &viewer, &params.format, params.bom, filters, &series, series_csv).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CyclesParams {
    /// As for the summary: the cycles that *started* in `[from, to)`.
    from: String,
    to: String,
    tz: Option<String>,
    /// `started` (default): the cycles that started in the period. `messages_in`,
    /// `first_response`, `resolution`: the cycles with such a fact in the period, as a series'
    /// bucket counts it (a chart's bar drilled into).
    #[serde(default)]
    #[param(inline)]
    metric: CycleMetric,
    /// `csv` for CSV (default JSON).
    format: Option<String>,
    bom: Option<u8>,
}

/// One row per conversation cycle that started in the period (a conversation reopened twice is
/// three rows), with its contact, team, labels, assignee, first response and resolution so far;
/// or, with `metric`, one per cycle behind that count in the period.
#[utoipa::path(get, path = "/api/v1/reports/conversations", tag = "reports", security(("bearer" = [])),
    params(CyclesParams),
    responses((status = 200, body = Vec<CycleRow>), (status = 422, body = ErrorBody)))]
pub async fn conversations(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<CyclesParams>,
) -> ApiResult<Response> {
    let filters = serde_json::json!({"report": "conversations", "from": params.from, "to": params.to, "tz": params.tz, "metric": params.metric});
    let query =
        ReportQuery { from: params.from, to: params.to, time_zone: params.tz, group_by: GroupBy::None };
    let rows = state.workspace.report_cycles(&viewer, query, params.metric).await?;
    answer(&state, &viewer, &params.format, params.bom, filters, rows.as_slice(), cycles_csv).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LiveParams {
    /// Count customers waiting longer than this many seconds (default 1800).
    waiting_longer_than_secs: Option<u64>,
    /// Count SLA clocks falling due within this many seconds (default 3600).
    sla_within_secs: Option<u64>,
}

/// The desk now: open, unassigned, unattended, waiting longer than a threshold, parked and SLA
/// at risk, over the conversations the viewer sees.
#[utoipa::path(get, path = "/api/v1/reports/live", tag = "reports", security(("bearer" = [])),
    params(LiveParams),
    responses((status = 200, body = LiveFigures), (status = 401, body = ErrorBody)))]
pub async fn live(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<LiveParams>,
) -> ApiResult<Json<LiveFigures>> {
    let waiting = params.waiting_longer_than_secs.unwrap_or(1800);
    let within = params.sla_within_secs.unwrap_or(3600);
    Ok(Json(state.workspace.live_figures(&viewer, waiting, within).await?))
}

/// Derive every conversation's report facts again from its ledger (admin); the reports answer
/// the same afterwards.
#[utoipa::path(post, path = "/api/v1/reports/rebuild", tag = "reports", security(("bearer" = [])),
    responses((status = 200, body = ReportsRebuilt), (status = 403, body = ErrorBody)))]
pub async fn rebuild(State(state): State<AppState>, viewer: Viewer) -> ApiResult<Json<ReportsRebuilt>> {
    Ok(Json(state.workspace.rebuild_reports(&viewer).await?))
}

/// A report as JSON, or as CSV written from the same value (`format=csv`; recorded in the audit
/// trail with its filters, `bom=1` for Excel).
async fn answer<T: serde::Serialize + ?Sized>(
    state: &AppState,
    viewer: &Viewer,
    format: &Option<String>,
    bom: Option<u8>,
    filters: serde_json::Value,
    report: &T,
    csv: fn(&T, bool) -> crate::refusal::Outcome<Vec<u8>>,
) -> ApiResult<Response> {
    Ok(match format.as_deref() {
        Some("csv") => {
            state.workspace.record_export(viewer, "export.report", filters).await?;
            let body = csv(report, bom == Some(1))?;
            ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response()
        }
        _ => Json(report).into_response(),
    })
}
