//! Small error helpers every layer may use (a leaf: it imports nothing of the crate): an
//! error's causes on one line, AWS SDK errors as messages an operator can act on, and the
//! process exit codes. Each layer has its own error type; the command layer
//! ([`crate::command::Error`]) aggregates them.

use aws_sdk_eks::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

/// `operation` is e.g. `ListInsights`, `action` the IAM action (`eks:ListInsights`).
pub fn aws_message<E>(operation: &str, action: &str, err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = err.code().unwrap_or_default();
    let status = match err {
        SdkError::ServiceError(ctx) => Some(ctx.raw().status().as_u16()),
        _ => None,
    };
    if code.contains("AccessDenied") || code.starts_with("Unauthorized") || status == Some(403) {
        return format!("{operation} denied: add {action} to eksup's IAM policy");
    }
    if code.contains("Throttl")
        || code == "RequestLimitExceeded"
        || code == "TooManyRequestsException"
    {
        return format!("{operation} still throttled after the SDK's retries ({code})");
    }
    if status == Some(404) && code.is_empty()
        || code == "UnknownOperationException"
        || code == "NotImplemented"
    {
        return format!(
            "{operation} is not available from this endpoint (HTTP {})",
            status.unwrap_or(0)
        );
    }
    format!("{operation} failed: {}", chain(err))
}

/// An error with its causes, `outer: inner: root`, skipping causes whose text the message
/// already holds. Unlike the AWS SDK's `DisplayErrorContext` it never appends the `Debug`
/// form, which would put Rust struct dumps into reports and table rows.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

/// Exit codes: 0 success whatever was found · 1 `--fail-on` met · 2 usage or configuration
/// error · 3 a cluster could not be collected or a result could not be written.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const FAILURE: u8 = 3;
}

#[cfg(test)]
mod tests {
    use super::chain;

    #[derive(Debug, thiserror::Error)]
    #[error("dispatch failure")]
    struct Outer(#[source] Middle);
    #[derive(Debug, thiserror::Error)]
    #[error("io error")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn chain_joins_causes_without_debug_dumps() {
        let e = Outer(Middle(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        )));
        let text = chain(&e);
        assert_eq!(
            text,
            "dispatch failure: io error: Connection refused (os error 111)"
        );
        assert!(!text.contains("Outer("), "{text}");
    }
}
