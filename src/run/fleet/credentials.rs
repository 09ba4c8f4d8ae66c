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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// An STS stand-in whose n-th AssumeRole answers keys `ASIA<n>` expiring
    /// `lifetimes[n - 1]` seconds after the answer.
    async fn sts(lifetimes: &'static [i64]) -> crate::testing::http::Server {
        let calls = Arc::new(Mutex::new(0usize));
        crate::testing::http::start(move |_| {
            let n = {
                let mut c = calls.lock().unwrap();
                *c += 1;
                *c
            };
            let expires = (chrono::Utc::now() + chrono::Duration::seconds(lifetimes[n - 1]))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let xml = format!(
                "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials><AccessKeyId>ASIA{n}</AccessKeyId><SecretAccessKey>secret{n}</SecretAccessKey><SessionToken>token{n}</SessionToken><Expiration>{expires}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROA:eksup</AssumedRoleId><Arn>arn:aws:sts::111122223333:assumed-role/member/eksup-run</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r{n}</RequestId></ResponseMetadata></AssumeRoleResponse>"
            );
            (200, "text/xml", xml)
        })
        .await
    }

    fn account() -> Account {
        Account {
            id: "111122223333".into(),
            role_arn: "arn:aws:iam::111122223333:role/member".into(),
            external_id: Some("ext-1".into()),
        }
    }

    async fn key(member: &SdkConfig) -> String {
        member
            .credentials_provider()
            .unwrap()
            .provide_credentials()
            .await
            .unwrap()
            .access_key_id()
            .to_string()
    }

    fn assume_roles(server: &crate::testing::http::Server) -> usize {
        server
            .requests()
            .iter()
            .filter(|r| String::from_utf8_lossy(&r.body).contains("Action=AssumeRole"))
            .count()
    }

    #[tokio::test]
    async fn member_credentials_are_renewed_when_they_near_expiry_and_not_before() {
        // The first session ends 302 s after it is issued: a little over the 300 s renewal
        // margin, so it serves at once and is renewed 2.5 s later. The second lasts an hour.
        let server = sts(&[302, 3600]).await;
        let runner = crate::testing::http::sdk_config(&server.url);
        let member = enter(&runner, &account(), "run1").await.unwrap();
        assert_eq!(assume_roles(&server), 1, "enter assumes the role once");
        let body = String::from_utf8_lossy(&server.requests()[0].body).to_string();
        for field in [
            "RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fmember",
            "RoleSessionName=eksup-run1",
            "SourceIdentity=eksup",
            "ExternalId=ext-1",
        ] {
            assert!(body.contains(field), "{field} in {body}");
        }

        assert_eq!(key(&member).await, "ASIA1");
        assert_eq!(key(&member).await, "ASIA1");
        assert_eq!(
            assume_roles(&server),
            1,
            "not renewed while over 300 s remain"
        );

        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(key(&member).await, "ASIA2");
        assert_eq!(assume_roles(&server), 2, "renewed within 300 s of expiry");
        assert_eq!(key(&member).await, "ASIA2");
        assert_eq!(assume_roles(&server), 2, "the renewed session is cached");
    }

    #[tokio::test]
    async fn credentials_issued_inside_the_margin_are_renewed_on_first_use() {
        let server = sts(&[120, 3600]).await;
        let runner = crate::testing::http::sdk_config(&server.url);
        let member = enter(&runner, &account(), "run2").await.unwrap();
        assert_eq!(assume_roles(&server), 1);
        assert_eq!(key(&member).await, "ASIA2");
        assert_eq!(assume_roles(&server), 2);
    }
}
