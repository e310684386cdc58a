//! The admin's security page: who must sign in with a second factor (the whole workspace, or
//! one agent), and the audit trail, read a page at a time, verified, and exported (the save
//! dialog is the shell's, `commands::export_audit`). Online only: the trail lives on the server,
//! and the server refuses anyone but an admin (and records the refusal).

use switchboard_proto::audit::{AuditEntry, AuditFilter, AuditVerification};

use super::*;

/// Rows per page of the audit screen.
const AUDIT_PAGE: usize = 100;

impl Desktop {
    pub async fn two_factor_overview(&self) -> UiResult<TwoFactorOverview> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(api.two_factor_overview().await?)
    }

    /// Requires a second factor of everyone (`agent_id: None`) or of one agent, or no longer.
    pub async fn require_two_factor(&self, agent_id: Option<Uuid>, required: bool) -> UiResult<()> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        match agent_id {
            Some(agent_id) => api.require_agent_two_factor(agent_id, required).await?,
            None => api.require_two_factor(required).await?,
        }
        Ok(())
    }

    /// The trail newest first, the page below `before` (`None`: from the newest row).
    pub async fn audit_page(&self, filter: AuditFilter, before: Option<i64>) -> UiResult<Vec<AuditEntry>> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(api.audit_log(&filter, before, AUDIT_PAGE).await?)
    }

    pub async fn verify_audit(&self) -> UiResult<AuditVerification> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(api.verify_audit().await?)
    }

    /// The export's file: every matching row, oldest first, as the server gave them (hashes
    /// included, so the file can be checked against the chain elsewhere), and its name.
    pub async fn audit_file(&self, filter: AuditFilter) -> UiResult<(String, Vec<u8>)> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        let rows = api.audit_export(&filter).await?;
        let day = jiff::Timestamp::from_millisecond((self.now)())
            .map(|at| at.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
            .unwrap_or_else(|_| "export".into());
        let bytes =
            serde_json::to_vec_pretty(&rows).map_err(|e| UiError::new(UiErrorCode::Other, e.to_string()))?;
        Ok((format!("audit-{day}.json"), bytes))
    }
}
