//! The workspace directory: inboxes, labels, canned responses, and the listings behind `/agents`,
//! `/teams`, `/inboxes`, `/labels`, `/canned-responses`.

use rand::RngCore;
use switchboard_proto::*;

use super::{
    audit::{self, Who},
    deliveries::connector_settings,
    ledger::{self, Cause},
    routing, Viewer, Workspace,
};
use crate::{
    policy,
    refusal::{Outcome, Refusal},
    rules,
    store::{Audience, StoreRead, StoreReadExt, StoreResult, StoreTx, StoreTxExt},
};

/// The label a name means: compared by `labels::label_key`, so any spelling differing only in
/// case, spacing, Unicode normalisation or Arabic letter forms finds it. Labels are a small
/// directory table, read whole.
pub(crate) fn label_named(store: &(impl StoreRead + ?Sized), name: &str) -> StoreResult<Option<Label>> {
    Ok(store.all::<Label>()?.into_iter().find(|label| labels::same_label(&label.name, name)))
}

fn check_members(store: &dyn StoreTx, agent_ids: &[Id], team_ids: &[Id]) -> Outcome<()> {
    for id in agent_ids {
        if store.get::<Agent>(*id)?.is_none() {
            return Err(Refusal::validation(format!("no agent {id}")));
        }
    }
    for id in team_ids {
        if store.get::<Team>(*id)?.is_none() {
            return Err(Refusal::validation(format!("no team {id}")));
        }
    }
    Ok(())
}

/// An inbox's templates: each with a name and a body, and none at all on a channel without
/// templates (Messenger and Instagram: `rules::channel_has_templates`), so the inbox listing never
/// offers what can't be sent there.
fn check_templates(channel: Channel, templates: &[MessageTemplate]) -> Outcome<()> {
    if !templates.is_empty() && !crate::rules::channel_has_templates(channel) {
        return Err(Refusal::validation(format!(
            "{} has no message templates (templates are a WhatsApp concept): an inbox on it keeps none",
            super::conversations::channel_name(channel)
        )));
    }
    policy::check_templates(templates)
}

fn create_inbox(tx: &mut dyn StoreTx, id: Id, request: CreateInbox) -> Outcome<CreatedInbox> {
    let connector = match (request.connector, request.webhook_url) {
        (Some(_), Some(_)) => return Err(Refusal::validation("give webhook_url or connector, not both")),
        (Some(connector), None) => Some(connector),
        (None, Some(webhook_url)) => Some(ConnectorSettings::Api { webhook_url }),
        (None, None) => None,
    };
    if let Some(connector) = &connector {
        super::connectors::check(request.channel, connector)?;
    }
    check_members(tx, &request.member_agent_ids, &request.member_team_ids)?;
    check_templates(request.channel, &request.templates)?;
    let inbox = Inbox {
        id,
        name: policy::valid_name(&request.name, "name")?,
        channel: request.channel,
        member_agent_ids: request.member_agent_ids,
        member_team_ids: request.member_team_ids,
        templates: request.templates,
        attachment_limit: request.channel.attachment_limit(),
        hours: None,
        routing: Routing::default(),
        auto_replies: AutoReplies::default(),
        visibility: InboxVisibility::default(),
        exports_need_approval: false,
        reply_rules: super::connectors::reply_rules(request.channel, connector.as_ref()),
    };
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let signing_secret = hex::encode(secret);
    tx.put(&inbox, Audience::EVERYONE)?;
    tx.set_inbox_secret(inbox.id, &signing_secret)?;
    super::connectors::set(tx, &inbox, connector.as_ref())?;
    Ok(CreatedInbox { inbox, signing_secret })
}

fn update_inbox(tx: &mut dyn StoreTx, admin: Id, inbox_id: Id, update: UpdateInbox) -> Outcome<Inbox> {
    let mut inbox: Inbox = tx.get(inbox_id)?.ok_or_else(|| Refusal::not_found("inbox"))?;
    let before = inbox.clone();
    if let Some(name) = update.name {
        inbox.name = policy::valid_name(&name, "name")?;
    }
    let connector = match (update.connector, update.webhook_url) {
        (Some(_), Some(_)) => return Err(Refusal::validation("give webhook_url or connector, not both")),
        (Some(connector), None) => Some(connector),
        (None, Some(url)) => Some(url.map(|webhook_url| ConnectorSettings::Api { webhook_url })),
        (None, None) => None,
    };
    if let Some(connector) = connector {
        super::connectors::set(tx, &inbox, connector.as_ref())?;
        inbox.reply_rules = super::connectors::reply_rules(inbox.channel, connector.as_ref());
    }
    if let Some(agents) = update.member_agent_ids {
        check_members(tx, &agents, &[])?;
        inbox.member_agent_ids = agents;
    }
    if let Some(teams) = update.member_team_ids {
        check_members(tx, &[], &teams)?;
        inbox.member_team_ids = teams;
    }
    if let Some(templates) = update.templates {
        check_templates(inbox.channel, &templates)?;
        inbox.templates = templates;
    }
    // The hours running SLA clocks were timed by, if they change.
    let hours_before = update.hours.is_some().then(|| inbox.hours.clone());
    if let Some(hours) = update.hours {
        inbox.hours = match hours {
            Some(calendar) => Some(with_new_version(inbox.hours.take(), calendar, tx.now())?),
            None => None,
        };
    }
    if let Some(routing) = update.routing {
        inbox.routing = routing;
    }
    if let Some(auto_replies) = update.auto_replies {
        policy::check_auto_replies(&auto_replies)?;
        inbox.auto_replies = auto_replies;
    }
    if let Some(visibility) = update.visibility {
        inbox.visibility = visibility;
    }
    if let Some(held) = update.exports_need_approval {
        inbox.exports_need_approval = held;
    }
    tx.put(&inbox, Audience::EVERYONE)?;
    // Whoever the change took the inbox from gives up its conversations.
    for agent in tx.all::<Agent>()? {
        if agent.active && rules::can_see_inbox(&agent, &before) && !rules::can_see_inbox(&agent, &inbox) {
            super::agents::release_lost_access(tx, admin, &agent)?;
        }
    }
    if let Some(old) = hours_before {
        let at = tx.now();
        super::sla::retime_inbox(tx, inbox_id, old.as_ref(), at)?;
    }
    // Routing switched on, or new members: the queue may move now.
    routing::route(tx, routing::Released::default())?;
    Ok(inbox)
}

/// The calendar's history with `calendar` added as the version in effect from `now`: figures
/// already measured keep the hours they were measured with.
fn with_new_version(
    history: Option<calendar::CalendarHistory>,
    calendar: calendar::Calendar,
    now: Millis,
) -> Outcome<calendar::CalendarHistory> {
    let mut history = history.unwrap_or(calendar::CalendarHistory { versions: vec![] });
    let version = history.versions.last().map_or(1, |last| last.version + 1);
    // Two edits in the same millisecond: the later one replaces the earlier.
    history.versions.retain(|existing| existing.effective_from < now);
    history.versions.push(calendar::CalendarVersion { version, effective_from: now, calendar });
    history.validate().map_err(|error| Refusal::validation(format!("hours: {error}")))?;
    Ok(history)
}

/// The inbox and its signing secret (for verifying inbound calls and signing webhooks).
pub(super) fn inbox_secret(store: &(impl StoreRead + ?Sized), inbox_id: Id) -> Outcome<(Inbox, String)> {
    let inbox: Inbox = store.get(inbox_id)?.ok_or_else(|| Refusal::not_found("inbox"))?;
    let secret = store.inbox_secret(inbox_id)?.ok_or_else(|| Refusal::not_found("inbox"))?;
    Ok((inbox, secret))
}

/// A canned response the viewer may change: their own personal ones, or team-wide for leads.
fn editable_canned(store: &dyn StoreTx, viewer: &Viewer, canned_id: Id) -> Outcome<CannedResponse> {
    let canned: CannedResponse = match store.get(canned_id)? {
        Some(shared) => shared,
        None => store
            .get_scoped(canned_id, Some(viewer.agent.id))?
            .ok_or_else(|| Refusal::not_found("canned response"))?,
    };
    match canned.owner_id {
        Some(owner) if owner != viewer.agent.id => Err(Refusal::not_found("canned response")),
        Some(_) => Ok(canned),
        None => policy::require_lead(viewer).map(|()| canned),
    }
}

fn canned_audience(canned: &CannedResponse) -> Audience {
    Audience { inbox: None, agent: canned.owner_id }
}

impl Workspace {
    /// A directory listing: what the feed would give this viewer of that kind.
    pub async fn directory(&self, viewer: &Viewer, kind: EntityKind) -> Outcome<Vec<serde_json::Value>> {
        let viewer = viewer.clone();
        self.read(move |store| match kind {
            EntityKind::Agent | EntityKind::Team | EntityKind::Label | EntityKind::Inbox => {
                Ok(store.all_json(kind)?)
            }
            EntityKind::CannedResponse => Ok(store
                .all::<CannedResponse>()?
                .into_iter()
                .filter(|c| c.owner_id.is_none_or(|owner| owner == viewer.agent.id))
                .map(serde_json::to_value)
                .collect::<Result<_, _>>()?),
            _ => Err(Refusal::not_found("listing")),
        })
        .await
    }

    pub async fn create_inbox(&self, viewer: &Viewer, request: CreateInbox) -> Outcome<CreatedInbox> {
        self.create_inbox_calling_back(viewer, request, None).await
    }

    /// [`Self::create_inbox`], with the server's public address `callback_base` (when known) to
    /// register the inbox's callback with its provider first (Telegram's `setWebhook`).
    pub async fn create_inbox_calling_back(
        &self,
        viewer: &Viewer,
        request: CreateInbox,
        callback_base: Option<String>,
    ) -> Outcome<CreatedInbox> {
        policy::require_admin(viewer)?;
        let id = Id::now_v7();
        let registered = match &callback_base {
            Some(base) => {
                self.register_telegram_webhook(id, Some(request.channel), request.connector.as_ref(), base)
                    .await?
            }
            None => None,
        };
        let who = Who::viewer(viewer);
        self.write(move |tx| {
            let created = create_inbox(tx, id, request)?;
            let inbox = &created.inbox;
            let audited = audited_inbox(inbox, connector_settings(&*tx, inbox.id)?.as_ref())?;
            audit::changed(tx, &who, "inbox.create", inbox.id, &inbox.name, None, Some(&audited))?;
            if registered.is_some() {
                super::telegram::remember_webhook(tx, inbox.id, registered.as_deref())?;
            }
            Ok(created)
        })
        .await
    }

    /// Admins change anything; leads run the team's day, so they may change an inbox's hours,
    /// routing and automatic replies, but not its name, webhook, members or templates.
    pub async fn update_inbox(&self, viewer: &Viewer, inbox_id: Id, update: UpdateInbox) -> Outcome<Inbox> {
        self.update_inbox_calling_back(viewer, inbox_id, update, None).await
    }

    /// [`Self::update_inbox`], with the server's public address `callback_base` (when known) to
    /// register a changed connector's callback with its provider first (Telegram's `setWebhook`).
    pub async fn update_inbox_calling_back(
        &self,
        viewer: &Viewer,
        inbox_id: Id,
        update: UpdateInbox,
        callback_base: Option<String>,
    ) -> Outcome<Inbox> {
        policy::require_lead(viewer)?;
        let structural = update.name.is_some()
            || update.webhook_url.is_some()
            || update.connector.is_some()
            || update.member_agent_ids.is_some()
            || update.member_team_ids.is_some()
            || update.templates.is_some()
            // A lead must not lift the control over their own team's exports.
            || update.exports_need_approval.is_some();
        if structural {
            policy::require_admin(viewer)?;
        }
        let registered = match (&callback_base, &update.connector) {
            (Some(base), Some(connector)) => {
                self.register_telegram_webhook(inbox_id, None, connector.as_ref(), base).await?
            }
            _ => None,
        };
        let connector_changes = update.connector.is_some() || update.webhook_url.is_some();
        let who = Who::viewer(viewer);
        let writer = who.clone();
        let admin = viewer.agent.id;
        let (inbox, settings_before, settings_after) = self
            .write(move |tx| {
                let before: Option<Inbox> = tx.get(inbox_id)?;
                let settings_before = connector_settings(&*tx, inbox_id)?;
                let inbox = update_inbox(tx, admin, inbox_id, update)?;
                // The connector is kept apart from the inbox; its fields go in the row as
                // `connector.<field>`, so a connector-only change says what changed (secrets as
                // `[redacted]`, by their names).
                let audited_before = before
                    .as_ref()
                    .map(|before| audited_inbox(before, settings_before.as_ref()))
                    .transpose()?;
                let audited_after = audited_inbox(&inbox, connector_settings(&*tx, inbox_id)?.as_ref())?;
                audit::changed(
                    tx,
                    &writer,
                    "inbox.update",
                    inbox.id,
                    &inbox.name,
                    audited_before.as_ref(),
                    Some(&audited_after),
                )?;
                if connector_changes {
                    super::telegram::remember_webhook(tx, inbox_id, registered.as_deref())?;
                }
                Ok((inbox, settings_before, connector_settings(&*tx, inbox_id)?))
            })
            .await?;
        if connector_changes {
            // After the save, which stands whatever Telegram answers.
            self.leave_telegram_webhook(&who, &inbox, settings_before, settings_after.as_ref()).await;
        }
        Ok(inbox)
    }

    /// The inbox and its signing secret, for the channel endpoints (not for agents).
    pub async fn inbox_secret(&self, inbox_id: Id) -> Outcome<(Inbox, String)> {
        self.read(move |store| inbox_secret(store, inbox_id)).await
    }

    pub async fn create_label(&self, viewer: &Viewer, request: CreateLabel) -> Outcome<Label> {
        policy::require_lead(viewer)?;
        let who = Who::viewer(viewer);
        self.write(move |tx| {
            let name = policy::valid_label_name(&request.name)?;
            if let Some(existing) = label_named(tx, &name)? {
                return Err(Refusal::conflict(
                    ErrorCode::AlreadyExists,
                    format!(
                        "the label “{}” exists (names differing only in case or spacing are one label)",
                        existing.name
                    ),
                ));
            }
            let label = Label { id: Id::now_v7(), name, color: policy::valid_color(request.color)? };
            tx.put(&label, Audience::EVERYONE)?;
            audit::changed(tx, &who, "label.create", label.id, &label.name, None, Some(&label))?;
            Ok(label)
        })
        .await
    }

    /// Renames a label or changes its colour. A new name is kept as written and must not be
    /// another label's (by key; the label's own key may stay, so "new lead" may become "New
    /// Lead"); every conversation carrying the label carries the new name, one ledger event each,
    /// so every client's views and counts follow through the feed.
    pub async fn update_label(&self, viewer: &Viewer, label_id: Id, update: UpdateLabel) -> Outcome<Label> {
        policy::require_lead(viewer)?;
        let viewer = viewer.clone();
        self.write(move |tx| {
            let before: Label = tx.get(label_id)?.ok_or_else(|| Refusal::not_found("label"))?;
            let mut label = before.clone();
            if let Some(color) = update.color {
                label.color = policy::valid_color(Some(color))?;
            }
            if let Some(name) = update.name {
                let name = policy::valid_label_name(&name)?;
                if let Some(existing) = label_named(tx, &name)?.filter(|existing| existing.id != label_id) {
                    return Err(Refusal::conflict(
                        ErrorCode::AlreadyExists,
                        format!(
                            "the label “{}” exists (names differing only in case or spacing are one label)",
                            existing.name
                        ),
                    ));
                }
                label.name = name;
            }
            if label == before {
                return Ok(label);
            }
            if label.name != before.name {
                let cause = Cause::agent(&viewer, "label renamed", tx.now());
                for conversation in tx.conversations_with_label(&before.name)? {
                    let mut renamed = conversation.clone();
                    for carried in &mut renamed.labels {
                        if *carried == before.name {
                            carried.clone_from(&label.name);
                        }
                    }
                    ledger::save(tx, &conversation, &renamed, &cause)?;
                }
            }
            tx.put(&label, Audience::EVERYONE)?;
            if !labels::same_label(&label.name, &before.name) {
                // A rule or policy naming the old name now names nothing.
                super::automation::check_references(tx)?;
            }
            audit::changed(
                tx,
                &Who::viewer(&viewer),
                "label.update",
                label.id,
                &label.name,
                Some(&before),
                Some(&label),
            )?;
            Ok(label)
        })
        .await
    }

    /// Deletes a label and takes it off every conversation that carries it.
    pub async fn delete_label(&self, viewer: &Viewer, label_id: Id) -> Outcome<()> {
        policy::require_lead(viewer)?;
        let viewer = viewer.clone();
        self.write(move |tx| {
            let label: Label = tx.get(label_id)?.ok_or_else(|| Refusal::not_found("label"))?;
            let cause = Cause::agent(&viewer, "label deleted", tx.now());
            for mut conversation in tx.conversations_with_label(&label.name)? {
                let before = conversation.clone();
                rules::edit_labels(&mut conversation.labels, &[], std::slice::from_ref(&label.name));
                ledger::save(tx, &before, &conversation, &cause)?;
            }
            tx.remove(EntityKind::Label, label_id, Audience::EVERYONE)?;
            super::automation::check_references(tx)?;
            audit::changed(
                tx,
                &Who::viewer(&viewer),
                "label.delete",
                label.id,
                &label.name,
                Some(&label),
                None,
            )?;
            Ok(())
        })
        .await
    }

    pub async fn create_canned(
        &self,
        viewer: &Viewer,
        request: CreateCannedResponse,
    ) -> Outcome<CannedResponse> {
        if !request.personal {
            policy::require_lead(viewer)?;
        }
        let owner = viewer.agent.id;
        let who = Who::viewer(viewer);
        self.write(move |tx| {
            policy::check_canned_text(&request.title, &request.body)?;
            let canned = CannedResponse {
                id: Id::now_v7(),
                short_code: policy::valid_short_code(&request.short_code)?,
                title: request.title.trim().to_owned(),
                body: request.body,
                owner_id: request.personal.then_some(owner),
            };
            tx.put(&canned, canned_audience(&canned))?;
            audit_team_canned(tx, &who, "canned_response.create", None, Some(&canned))?;
            Ok(canned)
        })
        .await
    }

    pub async fn update_canned(
        &self,
        viewer: &Viewer,
        canned_id: Id,
        update: UpdateCannedResponse,
    ) -> Outcome<CannedResponse> {
        let viewer = viewer.clone();
        self.write(move |tx| {
            let before = editable_canned(tx, &viewer, canned_id)?;
            let mut canned = before.clone();
            if let Some(code) = update.short_code {
                canned.short_code = policy::valid_short_code(&code)?;
            }
            if let Some(title) = update.title {
                canned.title = title.trim().to_owned();
            }
            if let Some(body) = update.body {
                canned.body = body;
            }
            policy::check_canned_text(&canned.title, &canned.body)?;
            if canned != before {
                tx.put(&canned, canned_audience(&canned))?;
                audit_team_canned(
                    tx,
                    &Who::viewer(&viewer),
                    "canned_response.update",
                    Some(&before),
                    Some(&canned),
                )?;
            }
            Ok(canned)
        })
        .await
    }

    pub async fn delete_canned(&self, viewer: &Viewer, canned_id: Id) -> Outcome<()> {
        let viewer = viewer.clone();
        self.write(move |tx| {
            let canned = editable_canned(tx, &viewer, canned_id)?;
            tx.remove(EntityKind::CannedResponse, canned.id, canned_audience(&canned))?;
            audit_team_canned(tx, &Who::viewer(&viewer), "canned_response.delete", Some(&canned), None)?;
            Ok(())
        })
        .await
    }
}

/// An inbox as its audit row records it: its fields, and its connector's as `connector.<field>`
/// (top-level, so the trail's redaction of fields named for a password, secret or token reaches
/// them).
fn audited_inbox(inbox: &Inbox, connector: Option<&ConnectorSettings>) -> Outcome<serde_json::Value> {
    let mut fields = match serde_json::to_value(inbox)? {
        serde_json::Value::Object(fields) => fields,
        other => return Ok(other),
    };
    if let Some(serde_json::Value::Object(settings)) = connector.map(serde_json::to_value).transpose()? {
        for (field, value) in settings {
            fields.insert(format!("connector.{field}"), value);
        }
    }
    Ok(serde_json::Value::Object(fields))
}

/// The audit row of a change to a team-wide canned response (a personal one is its owner's
/// business, as in `quick_replies.rs`): its short code as the label, before and after.
fn audit_team_canned(
    tx: &mut dyn StoreTx,
    who: &Who,
    action: &str,
    before: Option<&CannedResponse>,
    after: Option<&CannedResponse>,
) -> Outcome<()> {
    let Some(canned) = after.or(before).filter(|canned| canned.owner_id.is_none()) else { return Ok(()) };
    audit::changed(tx, who, action, canned.id, &canned.short_code, before, after)
}
