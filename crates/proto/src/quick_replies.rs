//! Quick replies as one agent uses them: their own personal canned responses (made, changed and
//! deleted from the app, offline too), the favourites they bind to `Alt+1`…`Alt+9`, and how often
//! and how lately they inserted each one.
//!
//! The binding and the use count are the agent's, not the reply's: a [`QuickReplyUsage`] per
//! agent and canned response, private to that agent in the feed (like a pin), so every device of
//! the agent has the same favourites and the same order.
//!
//! **The ranking rule** (frecency): every insertion adds 1 to a score that halves every
//! [`HALF_LIFE_MS`] (seven days). The score is stored as it stood at the last use
//! (`score`, `last_used_at`); at time `now` a reply ranks by
//! `score × 2^(−(now − last_used_at) / HALF_LIFE_MS)` ([`QuickReplyUsage::rank_at`]), highest
//! first. So five uses last month rank below two uses today (5 × 2^(−30/7) ≈ 0.26 < 2), and a reply
//! used every day stays near the top. Never-used replies rank 0; ties go by short code.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{CannedResponse, Millis};

/// How many favourite slots an agent has (`Alt+1` … `Alt+9`).
pub const SLOTS: u8 = 9;

/// The half-life of a use in the ranking: seven days.
pub const HALF_LIFE_MS: Millis = 7 * 24 * 60 * 60 * 1000;

/// One agent's use of one canned response: the favourite slot they bound it to and how often and
/// how lately they inserted it. Its feed id is the canned response's id; it is private to
/// `agent_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QuickReplyUsage {
    pub canned_response_id: Uuid,
    pub agent_id: Uuid,
    /// 1–9: inserted by `Alt+slot` in the composer. At most one reply per slot and agent.
    pub slot: Option<u8>,
    /// How many times the agent inserted it.
    pub uses: u32,
    /// The decayed use count as it stood at `last_used_at` (see the module's ranking rule).
    pub score: f64,
    pub last_used_at: Option<Millis>,
}

impl QuickReplyUsage {
    pub fn new(canned_response_id: Uuid, agent_id: Uuid) -> Self {
        QuickReplyUsage { canned_response_id, agent_id, slot: None, uses: 0, score: 0.0, last_used_at: None }
    }

    /// The ranking value at `now`: the score decayed since the last use.
    pub fn rank_at(&self, now: Millis) -> f64 {
        match self.last_used_at {
            Some(at) => decayed(self.score, at, now),
            None => 0.0,
        }
    }

    /// Counts one insertion at `now`.
    pub fn record_use(&mut self, now: Millis) {
        let at = self.last_used_at.map_or(now, |last| last.max(now));
        self.score = self.rank_at(at) + 1.0;
        self.uses = self.uses.saturating_add(1);
        self.last_used_at = Some(at);
    }
}

/// `score` as it stood at `since`, decayed to `now` (never grows when `now` is earlier).
pub fn decayed(score: f64, since: Millis, now: Millis) -> f64 {
    let elapsed = (now - since).max(0) as f64;
    score * (-elapsed / HALF_LIFE_MS as f64).exp2()
}

/// A slot as sent: 1–[`SLOTS`].
pub fn valid_slot(slot: u8) -> Result<u8, String> {
    if (1..=SLOTS).contains(&slot) {
        Ok(slot)
    } else {
        Err(format!("slot: 1 to {SLOTS}"))
    }
}

/// A short code as kept: trimmed, lower case, 1–40 letters, digits, `-` or `_`.
pub fn short_code(code: &str) -> Result<String, String> {
    let code = code.trim().to_lowercase();
    let ok = !code.is_empty()
        && code.chars().count() <= 40
        && code.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(code)
    } else {
        Err("short_code is 1 to 40 letters, digits, - or _".into())
    }
}

/// The title (kept trimmed) and body of a canned response, checked.
pub fn check_text(title: &str, body: &str) -> Result<String, String> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err("title must be 1 to 200 characters".into());
    }
    if body.trim().is_empty() || body.len() > 16 * 1024 {
        return Err("body must be 1 byte to 16 KiB".into());
    }
    Ok(title.to_owned())
}

/// `POST /api/v1/quick-replies`: a personal quick reply. `client_id` becomes its id, so one made
/// offline is the same entity once the server has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateQuickReply {
    pub client_id: Uuid,
    pub short_code: String,
    pub title: String,
    pub body: String,
}

/// `PATCH /api/v1/quick-replies/{id}`: the agent's own personal reply, or a team-wide one for
/// leads and admins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateQuickReply {
    pub client_id: Uuid,
    #[serde(default)]
    pub short_code: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
}

/// `PUT /api/v1/quick-replies/{id}/slot`: bind to a slot (taking it from the reply that had it)
/// or unbind (`null`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BindQuickReply {
    pub client_id: Uuid,
    pub slot: Option<u8>,
}

/// The body of `POST …/uses` and `POST …/promote`, and the query of `DELETE …`: only the
/// mutation's `client_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct QuickReplyMutation {
    pub client_id: Uuid,
}

/// The answer of every quick-reply mutation: the reply and the caller's usage as stored (`None`
/// once deleted) and the feed seq the change committed at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuickReplyResult {
    pub reply: Option<CannedResponse>,
    pub usage: Option<QuickReplyUsage>,
    pub seq: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Millis = 24 * 60 * 60 * 1000;

    #[test]
    fn a_use_halves_in_a_week_so_recent_uses_outrank_old_ones() {
        let mut old = QuickReplyUsage::new(Uuid::nil(), Uuid::nil());
        for _ in 0..5 {
            old.record_use(0);
        }
        let mut recent = QuickReplyUsage::new(Uuid::nil(), Uuid::nil());
        recent.record_use(30 * DAY);
        recent.record_use(30 * DAY);
        assert_eq!(old.uses, 5);
        assert!((old.rank_at(7 * DAY) - 2.5).abs() < 1e-9, "five uses are 2.5 a week later");
        assert!(recent.rank_at(30 * DAY) > old.rank_at(30 * DAY), "two uses today beat five a month ago");
        assert_eq!(QuickReplyUsage::new(Uuid::nil(), Uuid::nil()).rank_at(DAY), 0.0);
    }

    #[test]
    fn a_use_stamped_before_the_last_one_still_counts_and_never_moves_time_back() {
        let mut usage = QuickReplyUsage::new(Uuid::nil(), Uuid::nil());
        usage.record_use(10 * DAY);
        usage.record_use(3 * DAY);
        assert_eq!((usage.uses, usage.last_used_at), (2, Some(10 * DAY)));
        assert!((usage.score - 2.0).abs() < 1e-9);
    }

    #[test]
    fn slots_and_texts_are_checked() {
        assert_eq!(valid_slot(1), Ok(1));
        assert_eq!(valid_slot(9), Ok(9));
        assert!(valid_slot(0).is_err() && valid_slot(10).is_err());
        assert_eq!(short_code("  Thanks-2 ").as_deref(), Ok("thanks-2"));
        assert_eq!(short_code("سلام").as_deref(), Ok("سلام"));
        assert!(short_code("two words").is_err() && short_code("").is_err());
        assert_eq!(check_text(" Hi ", "Hello").as_deref(), Ok("Hi"));
        assert!(check_text("", "x").is_err() && check_text("t", "  ").is_err());
    }
}
