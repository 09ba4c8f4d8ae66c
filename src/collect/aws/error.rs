//! AWS SDK errors as messages an operator can act on: which API failed and which IAM action
//! to add when it was denied.

use aws_sdk_eks::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

/// `operation` is e.g. `ListInsights`, `action` the IAM action (`eks:ListInsights`).
pub fn message<E>(operation: &str, action: &str, err: &SdkError<E, HttpResponse>) -> String
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
    format!("{operation} failed: {}", crate::error::chain(err))
}
