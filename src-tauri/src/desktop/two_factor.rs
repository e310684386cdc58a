//! Two-factor sign-in from the app: its state, enrolment (a QR code of the `otpauth://` URI and
//! the secret as text), confirming with a code (the recovery codes answered once), turning it
//! off. An account that signed in only to enrol (an admin requires it) has no session yet: these
//! calls then use its token straight from the keychain, and a confirmed enrolment opens it.

use base64::Engine as _;
use qrcode::{render::svg, QrCode};
use switchboard_core::api::ApiClient;

use super::*;

/// The URI as an SVG QR code in a `data:` URL (the CSP allows `data:` images; no markup from
/// here reaches the DOM as HTML).
fn qr_code(uri: &str) -> UiResult<String> {
    let code = QrCode::new(uri.as_bytes())
        .map_err(|e| UiError::new(UiErrorCode::Internal, format!("QR code: {e}")))?;
    let image = code.render::<svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    Ok(format!("data:image/svg+xml;base64,{}", base64::engine::general_purpose::STANDARD.encode(image)))
}

impl Desktop {
    /// The open session's client, or the active account's when it may only enrol.
    async fn enrolling_api(&self) -> UiResult<(ApiClient, Option<AccountInfo>)> {
        if let Some(session) = self.session.lock().await.as_ref() {
            return Ok((session.account.api.clone(), None));
        }
        let active = self.accounts.active()?.filter(|a| a.must_enrol_two_factor).ok_or_else(not_signed_in)?;
        let account = self.accounts.open(&active.key()).await?;
        Ok((account.api, Some(active)))
    }

    pub async fn two_factor_status(&self) -> UiResult<dto::TwoFactorState> {
        let (api, _) = self.enrolling_api().await?;
        let status = api.two_factor_status().await?;
        Ok(dto::TwoFactorState {
            enabled: status.enabled,
            recovery_codes_left: status.recovery_codes_left,
            required: status.required,
        })
    }

    pub async fn begin_two_factor(&self) -> UiResult<dto::TwoFactorSetup> {
        let (api, _) = self.enrolling_api().await?;
        let enrolment = api.begin_two_factor().await?;
        let qr_code = qr_code(&enrolment.otpauth_uri)?;
        Ok(dto::TwoFactorSetup { secret: enrolment.secret, otpauth_uri: enrolment.otpauth_uri, qr_code })
    }

    /// Confirms the enrolment; answers the recovery codes (shown once). An account waiting to
    /// enrol opens now.
    pub async fn confirm_two_factor(&self, code: &str) -> UiResult<Vec<String>> {
        let (api, waiting) = self.enrolling_api().await?;
        let confirmed = api.confirm_two_factor(code).await?;
        if let Some(info) = waiting {
            self.accounts.enrolled(&info.key())?;
            let info = AccountInfo { must_enrol_two_factor: false, ..info };
            self.open(&info).await?;
        }
        Ok(confirmed.recovery_codes)
    }

    pub async fn disable_two_factor(&self, code: &str) -> UiResult<()> {
        let (api, _) = self.enrolling_api().await?;
        Ok(api.disable_two_factor(code).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_an_svg_data_url() {
        let url = qr_code(
            "otpauth://totp/Switchboard:sara%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Switchboard",
        )
        .expect("qr");
        let svg = url.strip_prefix("data:image/svg+xml;base64,").expect("a data URL");
        let svg = base64::engine::general_purpose::STANDARD.decode(svg).expect("base64");
        let svg = String::from_utf8(svg).expect("utf-8");
        assert!(svg.contains("<svg") && svg.contains("<path"), "{svg}");
    }
}
