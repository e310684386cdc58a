//! The agent's notification settings on this computer: which kinds may pop up (new unassigned
//! conversations, new messages on their own, mentions, SLA warnings), quiet hours in their time
//! zone (nothing pops up then; the unread badge still counts, since it is read from the cache), and
//! a sound. Kept as JSON beside the accounts (`notification-settings.json`), so they survive a
//! restart and a sign-out. `allows` is the one rule, with the clock passed in.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use switchboard_core::notify::NotifyReason;
use switchboard_proto::Millis;
use ts_rs::TS;

use crate::dto::{UiError, UiErrorCode};

const FILE: &str = "notification-settings.json";

/// From–to, `HH:MM` each, in an IANA zone; `to` before `from` runs over midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct QuietHours {
    pub from: String,
    pub to: String,
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct NotificationSettings {
    pub new_unassigned: bool,
    /// New messages on the agent's conversations, and the server's notices about them (a snooze
    /// that ended, a conversation routed to them).
    pub assigned_message: bool,
    pub mentions: bool,
    /// SLA warnings and escalations.
    pub sla: bool,
    pub sound: bool,
    pub quiet_hours: Option<QuietHours>,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            new_unassigned: true,
            assigned_message: true,
            mentions: true,
            sla: true,
            sound: true,
            quiet_hours: None,
        }
    }
}

fn minutes(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && h * 60 + m < 24 * 60).then_some(h * 60 + m)
}

impl QuietHours {
    /// Whether `now` falls inside, in the hours' zone. Equal ends mean no quiet time.
    pub fn contains(&self, now: Millis) -> bool {
        let (Some(from), Some(to)) = (minutes(&self.from), minutes(&self.to)) else { return false };
        let Ok(zone) = jiff::tz::TimeZone::get(&self.time_zone) else { return false };
        let Ok(at) = jiff::Timestamp::from_millisecond(now) else { return false };
        let local = at.to_zoned(zone);
        let minute = local.hour() as u32 * 60 + local.minute() as u32;
        if from <= to {
            from <= minute && minute < to
        } else {
            minute >= from || minute < to
        }
    }
}

impl NotificationSettings {
    /// Whether a notification of this kind may pop up at `now`.
    pub fn allows(&self, reason: NotifyReason, now: Millis) -> bool {
        let kind = match reason {
            NotifyReason::NewConversation => self.new_unassigned,
            NotifyReason::AssignedMessage | NotifyReason::ServerNotice => self.assigned_message,
            NotifyReason::Mention => self.mentions,
            NotifyReason::SlaEscalation => self.sla,
        };
        kind && !self.quiet_hours.as_ref().is_some_and(|q| q.contains(now))
    }

    /// Refuses quiet hours that aren't `HH:MM` or whose zone is unknown.
    pub fn check(&self) -> Result<(), UiError> {
        if let Some(quiet) = &self.quiet_hours {
            if minutes(&quiet.from).is_none() || minutes(&quiet.to).is_none() {
                return Err(UiError::new(UiErrorCode::Invalid, "quiet hours are HH:MM to HH:MM"));
            }
            if jiff::tz::TimeZone::get(&quiet.time_zone).is_err() {
                return Err(UiError::new(UiErrorCode::Invalid, "unknown time zone"));
            }
        }
        Ok(())
    }

    pub fn path_in(dir: &Path) -> PathBuf {
        dir.join(FILE)
    }

    /// The saved settings, or the defaults when there are none (or they can't be read).
    pub fn load(path: &Path) -> Self {
        std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
    }

    pub fn save(&self, path: &Path) -> Result<(), UiError> {
        let io = |e: std::io::Error| UiError::new(UiErrorCode::Other, e.to_string());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let json =
            serde_json::to_vec_pretty(self).map_err(|e| UiError::new(UiErrorCode::Other, e.to_string()))?;
        let temporary = path.with_extension("json.tmp");
        std::fs::write(&temporary, json).map_err(io)?;
        std::fs::rename(&temporary, path).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-30 at `hh:mm` UTC, in epoch milliseconds.
    fn utc(hh: i64, mm: i64) -> Millis {
        1_796_000_400_000 - 1_796_000_400_000 % 86_400_000 + (hh * 60 + mm) * 60_000
    }

    fn quiet(from: &str, to: &str, zone: &str) -> NotificationSettings {
        NotificationSettings {
            quiet_hours: Some(QuietHours { from: from.into(), to: to.into(), time_zone: zone.into() }),
            ..Default::default()
        }
    }

    #[test]
    fn quiet_hours_over_midnight_in_the_agents_zone_silence_everything() {
        // 22:00–07:00 in Tehran (UTC+3:30).
        let settings = quiet("22:00", "07:00", "Asia/Tehran");
        for (hh, mm, silent) in
            [(18, 29, false), (18, 30, true), (23, 0, true), (3, 29, true), (3, 30, false), (12, 0, false)]
        {
            for reason in [NotifyReason::NewConversation, NotifyReason::Mention, NotifyReason::SlaEscalation]
            {
                assert_eq!(
                    !settings.allows(reason, utc(hh, mm)),
                    silent,
                    "{hh:02}:{mm:02} UTC is {} in Tehran's quiet hours",
                    if silent { "inside" } else { "outside" }
                );
            }
        }
    }

    #[test]
    fn quiet_hours_within_a_day_and_equal_ends() {
        let lunch = quiet("12:00", "13:00", "UTC");
        assert!(!lunch.allows(NotifyReason::Mention, utc(12, 30)));
        assert!(lunch.allows(NotifyReason::Mention, utc(13, 0)), "the end is not quiet");
        assert!(
            quiet("09:00", "09:00", "UTC").allows(NotifyReason::Mention, utc(9, 0)),
            "equal ends: never quiet"
        );
    }

    #[test]
    fn each_kind_is_switched_on_its_own() {
        let now = utc(12, 0);
        let off = |change: fn(&mut NotificationSettings)| {
            let mut settings = NotificationSettings::default();
            change(&mut settings);
            settings
        };
        let no_unassigned = off(|s| s.new_unassigned = false);
        assert!(!no_unassigned.allows(NotifyReason::NewConversation, now));
        assert!(no_unassigned.allows(NotifyReason::AssignedMessage, now));
        let no_mine = off(|s| s.assigned_message = false);
        assert!(!no_mine.allows(NotifyReason::AssignedMessage, now));
        assert!(!no_mine.allows(NotifyReason::ServerNotice, now));
        assert!(no_mine.allows(NotifyReason::Mention, now));
        assert!(!off(|s| s.mentions = false).allows(NotifyReason::Mention, now));
        assert!(!off(|s| s.sla = false).allows(NotifyReason::SlaEscalation, now));
        assert!(
            NotificationSettings::default().allows(NotifyReason::NewConversation, now),
            "all on by default"
        );
    }

    #[test]
    fn bad_quiet_hours_are_refused_and_settings_survive_a_restart() {
        assert!(quiet("25:00", "07:00", "UTC").check().is_err());
        assert!(quiet("22:00", "07:00", "Mars/Olympus").check().is_err());
        let dir = tempfile::tempdir().expect("dir");
        let path = NotificationSettings::path_in(dir.path());
        assert_eq!(NotificationSettings::load(&path), NotificationSettings::default(), "nothing saved yet");
        let mut settings = quiet("22:00", "07:00", "Europe/Warsaw");
        settings.sound = false;
        settings.save(&path).expect("saved");
        assert_eq!(NotificationSettings::load(&path), settings);
    }
}
