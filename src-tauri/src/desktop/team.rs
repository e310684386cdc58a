//! Running the team from the settings screen: agents (added with a one-time password, changed,
//! deactivated and reactivated, signed out everywhere), every agent's devices, teams, an inbox's
//! members, labels and team-wide quick replies. Each call goes to the server at once through
//! `switchboard_core::team` (never queued; refused with `offline` when the server can't be
//! reached); the directory shows the change when the feed brings it, on every desktop.

use switchboard_core::team;

use super::*;

impl Desktop {
    async fn api(&self) -> UiResult<switchboard_core::api::ApiClient> {
        self.with(|s| Ok(s.account.api.clone())).await
    }

    /// Adds an agent with a one-time password, answered once and kept nowhere.
    pub async fn create_agent(&self, request: dto::NewAgent) -> UiResult<dto::CreatedAgent> {
        let api = self.api().await?;
        let created = team::create_agent(
            &api,
            &request.name,
            &request.email,
            request.role,
            request.team_ids,
            request.capacity,
        )
        .await?;
        Ok(dto::CreatedAgent { agent: created.agent, password: created.password })
    }

    /// Changes an agent's name, role, teams or whether they are active.
    pub async fn update_agent(&self, agent_id: Uuid, change: dto::AgentChange) -> UiResult<Agent> {
        let api = self.api().await?;
        let update = UpdateAgent {
            name: change.name,
            role: change.role,
            active: change.active,
            team_ids: change.team_ids,
            ..UpdateAgent::default()
        };
        Ok(team::update_agent(&api, agent_id, &update).await?)
    }

    /// Gives an agent a new one-time password, answered once.
    pub async fn reset_password(&self, agent_id: Uuid) -> UiResult<String> {
        Ok(team::reset_password(&self.api().await?, agent_id).await?)
    }

    /// Signs an agent out of every device; answers how many were signed in.
    pub async fn sign_out_agent(&self, agent_id: Uuid) -> UiResult<u32> {
        Ok(team::sign_out_everywhere(&self.api().await?, agent_id).await? as u32)
    }

    /// Every signed-in device the caller may see (an admin: everyone's), most recently seen first.
    pub async fn devices(&self) -> UiResult<Vec<dto::DeviceInfo>> {
        let mut devices = team::devices(&self.api().await?).await?;
        devices.sort_by_key(|device| std::cmp::Reverse(device.last_seen_at));
        Ok(devices.into_iter().map(dto::DeviceInfo::from).collect())
    }

    pub async fn revoke_device(&self, device_id: Uuid) -> UiResult<()> {
        Ok(team::revoke_device(&self.api().await?, device_id).await?)
    }

    pub async fn save_team(
        &self,
        team_id: Option<Uuid>,
        name: String,
        member_ids: Vec<Uuid>,
    ) -> UiResult<Team> {
        Ok(team::save_team(&self.api().await?, team_id, &name, member_ids).await?)
    }

    pub async fn set_inbox_members(
        &self,
        inbox_id: Uuid,
        agent_ids: Vec<Uuid>,
        team_ids: Vec<Uuid>,
    ) -> UiResult<Inbox> {
        Ok(team::set_inbox_members(&self.api().await?, inbox_id, agent_ids, team_ids).await?)
    }

    pub async fn set_inbox_templates(
        &self,
        inbox_id: Uuid,
        templates: Vec<MessageTemplate>,
    ) -> UiResult<Inbox> {
        Ok(team::set_inbox_templates(&self.api().await?, inbox_id, templates).await?)
    }

    pub async fn save_label(&self, label_id: Option<Uuid>, name: String, color: String) -> UiResult<Label> {
        Ok(team::save_label(&self.api().await?, label_id, &name, &color).await?)
    }

    pub async fn delete_label(&self, label_id: Uuid) -> UiResult<()> {
        Ok(team::delete_label(&self.api().await?, label_id).await?)
    }

    pub async fn save_quick_reply(
        &self,
        id: Option<Uuid>,
        reply: dto::QuickReplyInput,
    ) -> UiResult<CannedResponse> {
        Ok(team::save_quick_reply(&self.api().await?, id, &reply.short_code, &reply.title, &reply.body)
            .await?)
    }

    pub async fn delete_quick_reply(&self, id: Uuid) -> UiResult<()> {
        Ok(team::delete_quick_reply(&self.api().await?, id).await?)
    }
}
