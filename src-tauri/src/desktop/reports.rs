//! The reports screen's calls: the summary, the time series and the live figures through
//! `switchboard_core::reports` (the last of each kept in the account's directory and answered,
//! marked offline, while the server can't be reached), and the CSV exports' bytes as the server
//! writes them. The save dialog is the shell's (`commands::export_report`). The session lock is
//! not held across a request.

use switchboard_core::reports::{self, ReportCache};

use super::*;

impl Desktop {
    async fn report_context(&self) -> UiResult<(switchboard_core::api::ApiClient, ReportCache)> {
        self.with(|s| Ok((s.account.api.clone(), ReportCache::in_account(&s.account.dir)))).await
    }

    /// The period's figures by the chosen grouping, beside the previous period.
    pub async fn report_summary(&self, query: dto::ReportQuery) -> UiResult<dto::SummaryReport> {
        let (api, cache) = self.report_context().await?;
        let fetched = reports::summary(&api, &cache, (self.now)(), &query.into()).await?;
        Ok(dto::SummaryReport { report: fetched.value, as_of: fetched.as_of, offline: fetched.offline })
    }

    /// The period's figures per bucket of the chosen interval.
    pub async fn report_series(&self, query: dto::ReportQuery) -> UiResult<dto::SeriesReport> {
        let (api, cache) = self.report_context().await?;
        let fetched = reports::series(&api, &cache, (self.now)(), &query.into()).await?;
        Ok(dto::SeriesReport { report: fetched.value, as_of: fetched.as_of, offline: fetched.offline })
    }

    /// The desk now.
    pub async fn live_figures(&self) -> UiResult<dto::LiveReport> {
        let (api, cache) = self.report_context().await?;
        let fetched = reports::live(&api, &cache, (self.now)()).await?;
        Ok(dto::LiveReport { figures: fetched.value, as_of: fetched.as_of, offline: fetched.offline })
    }

    /// The conversation cycles behind a chart's bar: its bucket's count of `metric`.
    pub async fn report_cycles(
        &self,
        query: dto::ReportQuery,
        metric: switchboard_proto::reports::CycleMetric,
    ) -> UiResult<Vec<switchboard_proto::reports::CycleRow>> {
        let (api, _) = self.report_context().await?;
        Ok(reports::cycles(&api, &query.into(), metric).await?)
    }

    /// A CSV export as the server wrote it, and the file name to offer.
    pub async fn report_csv(
        &self,
        export: dto::CsvExport,
        query: dto::ReportQuery,
    ) -> UiResult<(String, Vec<u8>)> {
        let (api, _) = self.report_context().await?;
        let query: reports::ReportQuery = query.into();
        let export = export.into();
        let bytes = reports::csv(&api, export, &query).await?;
        Ok((export.file_name(&query), bytes))
    }
}
