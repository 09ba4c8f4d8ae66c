//! The S3 sink: each object in one PUT (multipart above a threshold, aborted on failure),
//! so a reader sees a whole file or none; optional SSE-KMS and `ExpectedBucketOwner`.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// The `outputs.s3` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct S3Settings {
    /// The bucket's name.
    pub bucket: String,
    /// Key prefix of every object (no leading or trailing slash needed).
    #[serde(default)]
    pub prefix: String,
    /// KMS key (id, alias or ARN) for SSE-KMS; without it the bucket's default encryption applies.
    #[serde(default)]
    pub kms_key_id: Option<String>,
    /// Refuse to write unless the bucket belongs to this account.
    #[serde(default)]
    pub expected_bucket_owner: Option<String>,
    /// Path-style addressing, for S3-compatible endpoints.
    #[serde(default)]
    pub force_path_style: bool,
    /// Objects larger than this are uploaded in parts (default 64 MiB; at least 5 MiB parts).
    #[serde(default = "default_threshold")]
    pub multipart_threshold_bytes: u64,
}

fn default_threshold() -> u64 {
    64 * 1024 * 1024
}

/// S3's smallest part (except the last one).
const MIN_PART: usize = 5 * 1024 * 1024;

impl S3Settings {
    /// Parses `s3://bucket/prefix`.
    pub fn from_url(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("`{url}` is not an s3://bucket/prefix URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("`{url}` names no bucket"));
        }
        Ok(Self {
            bucket: bucket.into(),
            prefix: prefix.trim_matches('/').into(),
            kms_key_id: None,
            expected_bucket_owner: None,
            force_path_style: false,
            multipart_threshold_bytes: default_threshold(),
        })
    }
}

pub struct S3Sink {
    client: Client,
    pub settings: S3Settings,
}

/// An S3 client for the runner's own credentials; path-style addressing for S3-compatible
/// endpoints. One client serves the writer and, for the fleet page, the reader.
pub fn client(sdk: &aws_config::SdkConfig, force_path_style: bool) -> Client {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(force_path_style)
        .build();
    Client::from_conf(config)
}

impl S3Sink {
    pub fn new(client: Client, settings: S3Settings) -> Self {
        Self { client, settings }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn describe<E>(
        &self,
        key: &str,
        e: aws_sdk_s3::error::SdkError<
            E,
            aws_smithy_runtime_api::client::orchestrator::HttpResponse,
        >,
    ) -> String
    where
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        format!(
            "s3://{}/{key}: {}",
            self.settings.bucket,
            crate::error::aws_message("PutObject", "s3:PutObject", &e)
        )
    }

    /// Writes `body` (a cheap, reference-counted handle) to `key`.
    pub async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), String> {
        if body.len() as u64 > self.settings.multipart_threshold_bytes {
            return self.put_multipart(key, body, content_type).await;
        }
        let s = &self.settings;
        let mut req = self
            .client
            .put_object()
            .bucket(&s.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .set_expected_bucket_owner(s.expected_bucket_owner.clone());
        if let Some(kms) = &s.kms_key_id {
            req = req
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(kms);
        }
        req.send()
            .await
            .map(|_| ())
            .map_err(|e| self.describe(key, e))
    }

    async fn put_multipart(
        &self,
        key: &str,
        body: Bytes,
        content_type: &str,
    ) -> Result<(), String> {
        let s = &self.settings;
        let mut create = self
            .client
            .create_multipart_upload()
            .bucket(&s.bucket)
            .key(key)
            .content_type(content_type)
            .set_expected_bucket_owner(s.expected_bucket_owner.clone());
        if let Some(kms) = &s.kms_key_id {
            create = create
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(kms);
        }
        let upload = create.send().await.map_err(|e| self.describe(key, e))?;
        let upload_id = upload.upload_id().unwrap_or_default().to_string();
        let part_size = (s.multipart_threshold_bytes as usize).max(MIN_PART);
        let mut parts = Vec::new();
        let result: Result<(), String> = async {
            for (i, start) in (0..body.len()).step_by(part_size).enumerate() {
                let number = i32::try_from(i + 1).map_err(|_| "too many parts".to_string())?;
                // A slice shares the body's buffer: no part is copied.
                let chunk = body.slice(start..(start + part_size).min(body.len()));
                let out = self
                    .client
                    .upload_part()
                    .bucket(&s.bucket)
                    .key(key)
                    .upload_id(&upload_id)
                    .part_number(number)
                    .body(ByteStream::from(chunk))
                    .set_expected_bucket_owner(s.expected_bucket_owner.clone())
                    .send()
                    .await
                    .map_err(|e| self.describe(key, e))?;
                parts.push(
                    CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(out.e_tag)
                        .build(),
                );
            }
            self.client
                .complete_multipart_upload()
                .bucket(&s.bucket)
                .key(key)
                .upload_id(&upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .set_expected_bucket_owner(s.expected_bucket_owner.clone())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| self.describe(key, e))
        }
        .await;
        if result.is_err() {
            // Leave no half-written upload behind (it would only cost storage).
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(&s.bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_s3_urls() {
        let s = S3Settings::from_url("s3://fleet-reports/eksup/v1/").unwrap();
        assert_eq!(
            (s.bucket.as_str(), s.prefix.as_str()),
            ("fleet-reports", "eksup/v1")
        );
        assert_eq!(S3Settings::from_url("s3://b").unwrap().prefix, "");
        assert!(S3Settings::from_url("https://b/x").is_err());
        assert!(S3Settings::from_url("s3:///x").is_err());
    }
}
