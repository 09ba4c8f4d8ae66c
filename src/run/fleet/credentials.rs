//! Member-account credentials: STS `AssumeRole` from the runner's own credentials into the
//! member role (session `eksup-<run_id>`, source identity `eksup`, the external ID when set),
//! cached and renewed before they expire, so a run longer than the session keeps working.

use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_sdk_sts::error::ProvideErrorMetadata;
use tokio::sync::Mutex;

/// Renew this long before the credentials expire.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// A member account to enter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Account {
    pub id: String,
    pub role_arn: String,
    pub external_id: Option<String>,
}

#[derive(Debug)]
pub struct AssumedRole {
    sts: aws_sdk_sts::Client,
    account: Account,
    session_name: String,
    cached: Mutex<Option<Credentials>>,
}

impl AssumedRole {
    async fn credentials(&self) -> Result<Credentials, CredentialsError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && c.expiry()
                .is_none_or(|e| e > SystemTime::now() + RENEW_BEFORE)
        {
            return Ok(c.clone());
        }
        let fresh = self
            .assume()
            .await
            .map_err(CredentialsError::provider_error)?;
        *cached = Some(fresh.clone());
        Ok(fresh)
    }

    async fn assume(&self) -> Result<Credentials, String> {
        let mut request = self
            .sts
            .assume_role()
            .role_arn(&self.account.role_arn)
            .role_session_name(&self.session_name)
            .source_identity("eksup");
        if let Some(id) = &self.account.external_id {
            request = request.external_id(id);
        }
        let out = request.send().await.map_err(|e| {
            let code = e.code().unwrap_or_default().to_string();
            if code.contains("AccessDenied") {
                format!(
                    "sts:AssumeRole into {} denied: the member role must trust the runner role{} ({})",
                    self.account.role_arn,
                    if self.account.external_id.is_some() { " with this external ID" } else { "" },
                    e.message().unwrap_or_default()
                )
            } else {
                format!(
                    "sts:AssumeRole into {} failed: {}",
                    self.account.role_arn,
                    crate::error::chain(&e)
                )
            }
        })?;
        let c = out
            .credentials()
            .ok_or_else(|| "sts:AssumeRole answered without credentials".to_string())?;
        Ok(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            SystemTime::try_from(*c.expiration()).ok(),
            "eksup-assume-role",
        ))
    }
}

impl ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.credentials())
    }
}

/// The runner's configuration with the member account's credentials in place of its own.
/// The role is assumed once here, so an account that cannot be entered fails now with the
/// reason, before any of its regions is read.
pub async fn enter(
    runner: &SdkConfig,
    account: &Account,
    run_id: &str,
) -> Result<SdkConfig, String> {
    let role = AssumedRole {
        sts: crate::counted_client!(aws_sdk_sts, runner),
        account: account.clone(),
        // Session names are at most 64 characters.
        session_name: format!("eksup-{run_id}").chars().take(64).collect(),
        cached: Mutex::new(None),
    };
    let first = role.assume().await?;
    *role.cached.lock().await = Some(first);
    Ok(runner
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(role))
        .build())
}
