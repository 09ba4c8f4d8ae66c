//! The EKS bearer token, generated natively: a presigned STS `GetCallerIdentity` URL that
//! signs the `x-k8s-aws-id: <cluster>` header, base64url-encoded behind `k8s-aws-v1.`.
//! This is what `aws eks get-token` prints; doing it here means no CLI or exec plugin.

use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Header that binds the token to one cluster.
const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// EKS accepts tokens whose presigned URL is valid for 60 seconds.
const PRESIGN_VALIDITY: Duration = Duration::from_secs(60);
const TOKEN_PREFIX: &str = "k8s-aws-v1.";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(
        "no AWS credentials are configured (set AWS_PROFILE, use --profile, or run with a role)"
    )]
    NoCredentials,
    #[error("cannot load AWS credentials: {0}")]
    Credentials(String),
    #[error("cannot sign the EKS token request: {0}")]
    Signing(String),
}

/// A bearer token for `cluster`, signed with the credentials of `sdk`.
pub async fn eks_token(sdk: &SdkConfig, region: &str, cluster: &str) -> Result<String, AuthError> {
    let provider = sdk.credentials_provider().ok_or(AuthError::NoCredentials)?;
    let credentials = provider
        .provide_credentials()
        .await
        .map_err(|e| AuthError::Credentials(crate::error::chain(&e)))?;
    presign_token(&credentials, region, cluster, SystemTime::now())
}

/// The regional STS endpoint (`sts.<region>.amazonaws.com`, `.com.cn` in China).
fn sts_host(region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("sts.{region}.{suffix}")
}

/// Pure part of [`eks_token`], separated so it is testable with a fixed clock.
pub fn presign_token(
    credentials: &Credentials,
    region: &str,
    cluster: &str,
    now: SystemTime,
) -> Result<String, AuthError> {
    let url = format!(
        "https://{}/?Action=GetCallerIdentity&Version=2011-06-15",
        sts_host(region)
    );
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(PRESIGN_VALIDITY);
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| AuthError::Signing(e.to_string()))?
        .into();
    let headers = [(CLUSTER_ID_HEADER, cluster)];
    let signable = SignableRequest::new(
        "GET",
        url.as_str(),
        headers.iter().copied(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| AuthError::Signing(e.to_string()))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| AuthError::Signing(e.to_string()))?
        .into_parts();
    let mut request = http::Request::get(&url)
        .body(())
        .map_err(|e| AuthError::Signing(e.to_string()))?;
    instructions.apply_to_request_http1x(&mut request);
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(request.uri().to_string())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_a_presigned_sts_url_bound_to_the_cluster() {
        let creds = Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            Some("session".into()),
            None,
            "test",
        );
        let token = presign_token(&creds, "eu-west-1", "prod", SystemTime::UNIX_EPOCH).unwrap();
        let b64 = token.strip_prefix("k8s-aws-v1.").expect("prefix");
        assert!(!b64.contains('='), "base64url without padding");
        let url = String::from_utf8(URL_SAFE_NO_PAD.decode(b64).unwrap()).unwrap();
        assert!(
            url.starts_with(
                "https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&"
            ),
            "{url}"
        );
        assert!(url.contains("X-Amz-Expires=60"), "{url}");
        assert!(
            url.contains("X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"),
            "{url}"
        );
        assert!(
            url.contains(
                "X-Amz-Credential=AKIDEXAMPLE%2F19700101%2Feu-west-1%2Fsts%2Faws4_request"
            ),
            "{url}"
        );
        assert!(url.contains("X-Amz-Security-Token=session"), "{url}");
        assert!(url.contains("X-Amz-Signature="), "{url}");
        // A different cluster signs differently.
        let other = presign_token(&creds, "eu-west-1", "dev", SystemTime::UNIX_EPOCH).unwrap();
        assert_ne!(token, other);
    }

    #[test]
    fn china_regions_use_the_cn_endpoint() {
        assert_eq!(sts_host("cn-north-1"), "sts.cn-north-1.amazonaws.com.cn");
    }
}
