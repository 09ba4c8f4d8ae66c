//! A quiet API client: paginated cluster-wide LISTs, metadata-only lists, bounded
//! concurrency, retries that honour `Retry-After`, and request/byte counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use kube::client::Body;
use kube::core::Request;
use kube::core::params::{GetParams, ListParams};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokio::sync::Semaphore;

use crate::collect::Deadline;

/// Objects per LIST page: large enough to keep request counts low, small enough that the
/// API server never builds a huge response.
pub const PAGE_SIZE: u32 = 500;
/// At most this many requests are in flight against the API server at once.
pub const MAX_CONCURRENT_REQUESTS: usize = 4;
const MAX_ATTEMPTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// The most time spent retrying one request, waits included: an API server that sheds
/// load with 429 for longer than this is reported, not waited out.
pub const RETRY_BUDGET: Duration = Duration::from_secs(30);
/// A list restarted this often after `410 Expired` is given up.
const MAX_LIST_RESTARTS: u32 = 3;

/// Why a request or a list failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("HTTP {code}{}{}", if reason.is_empty() { String::new() } else { format!(" {reason}") }, hint(*code, path))]
    Status {
        code: u16,
        reason: String,
        path: String,
    },
    #[error("cannot reach the API server: {0}")]
    Transport(String),
    #[error("cannot decode the answer of {path}: {message}")]
    Decode { path: String, message: String },
    #[error(
        "the list of {path} expired {MAX_LIST_RESTARTS} times in a row (410 Gone); the cluster changes faster than it can be read"
    )]
    Expired { path: String },
    #[error("{0}")]
    Request(String),
    /// The cluster's deadline passed before the request could be answered.
    #[error("{0}")]
    Deadline(String),
}

/// What an operator should do about a status, where that is clear.
fn hint(code: u16, path: &str) -> String {
    match code {
        401 => ": the credentials were rejected; check the role's access entry or aws-auth mapping"
            .into(),
        403 => format!(
            ": forbidden; grant get/list on {path} to eksup's identity (`eksup rbac` prints the RBAC; docs/deploying.md, \"Kubernetes permissions\")"
        ),
        _ => String::new(),
    }
}

/// Counters of the load a run put on the API server.
#[derive(Debug, Default)]
pub struct Load {
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
    pub retries: AtomicU64,
}

/// One LIST, projected: the kept items and the objects that could not be decoded.
#[derive(Debug)]
pub struct Listed<P> {
    pub items: Vec<P>,
    pub invalid: Vec<String>,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    metadata: PageMeta,
    #[serde(default)]
    items: Vec<Box<RawValue>>,
}

#[derive(Deserialize, Default)]
struct PageMeta {
    #[serde(rename = "continue", default)]
    continue_token: Option<String>,
}

#[derive(Clone)]
pub struct ApiClient {
    client: kube::Client,
    /// The API server's URL, for messages.
    pub endpoint: String,
    permits: Arc<Semaphore>,
    pub load: Arc<Load>,
    deadline: Deadline,
}

/// How a list asks for its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Whole objects.
    Full,
    /// `PartialObjectMetadataList`: names, labels and owner references only.
    Metadata,
}

impl ApiClient {
    /// A client whose requests all end by `deadline`. kube's own retry layer must be off
    /// (`Config::default_retry`): this client's loop is the only retry layer.
    pub fn new(client: kube::Client, endpoint: String, deadline: Deadline) -> Self {
        Self {
            client,
            endpoint,
            permits: Arc::new(Semaphore::new(MAX_CONCURRENT_REQUESTS)),
            load: Arc::new(Load::default()),
            deadline,
        }
    }

    /// GET `path` with retries; returns the status and body. Connection errors, 429 and
    /// 5xx are retried with exponential backoff, or after `Retry-After` when the server
    /// says so — within [`RETRY_BUDGET`] per request and never past the cluster's deadline;
    /// then the last answer stands.
    async fn send(
        &self,
        build: impl Fn() -> Result<http::Request<Vec<u8>>, ApiError>,
    ) -> Result<(u16, Bytes), ApiError> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        let budget_ends = tokio::time::Instant::now() + RETRY_BUDGET;
        loop {
            if self.deadline.passed() {
                return Err(ApiError::Deadline(self.deadline.message()));
            }
            let request = build()?;
            let path = request.uri().path().to_string();
            let outcome = self
                .deadline
                .within(async { Ok(self.attempt(request).await) })
                .await
                .unwrap_or_else(|late| Err(ApiError::Deadline(late)));
            if let Err(e @ ApiError::Deadline(_)) = outcome {
                return Err(e);
            }
            let retryable = match &outcome {
                Ok((status, _, _)) => *status == 429 || (500..600).contains(status),
                Err(_) => true,
            };
            let wait = match &outcome {
                Ok((_, _, Some(after))) => (*after).min(MAX_BACKOFF * 3),
                _ => backoff,
            };
            let resume = tokio::time::Instant::now() + wait;
            let out_of_time =
                resume > budget_ends || self.deadline.at.is_some_and(|at| resume >= at);
            if !retryable || attempt >= MAX_ATTEMPTS || out_of_time {
                return match outcome {
                    Ok((status, body, _)) => Ok((status, body)),
                    Err(e) => Err(e),
                };
            }
            tracing::debug!(%path, attempt, ?wait, "retrying");
            self.load.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            attempt += 1;
        }
    }

    /// One attempt: status, body and `Retry-After`, counted in [`Load`].
    async fn attempt(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<(u16, Bytes, Option<Duration>), ApiError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("semaphore is never closed");
        self.load.requests.fetch_add(1, Ordering::Relaxed);
        crate::collect::REQUESTS
            .kubernetes
            .fetch_add(1, Ordering::Relaxed);
        match self.client.send(request.map(Body::from)).await {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(http::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                match response.into_body().collect_bytes().await {
                    Ok(body) => {
                        self.load
                            .bytes
                            .fetch_add(body.len() as u64, Ordering::Relaxed);
                        crate::collect::REQUESTS
                            .kubernetes_bytes
                            .fetch_add(body.len() as u64, Ordering::Relaxed);
                        Ok((status, body, retry_after))
                    }
                    Err(e) => Err(ApiError::Transport(crate::error::chain(&e))),
                }
            }
            Err(e) => Err(ApiError::Transport(crate::error::chain(&e))),
        }
    }

    /// GET one object; `Ok(None)` when it (or its API group) does not exist.
    pub async fn get<T: DeserializeOwned>(
        &self,
        collection: &str,
        name: &str,
    ) -> Result<Option<T>, ApiError> {
        let request = Request::new(collection);
        let (status, body) = self
            .send(|| {
                request
                    .get(name, &GetParams::default())
                    .map_err(|e| ApiError::Request(e.to_string()))
            })
            .await?;
        match status {
            200 => serde_json::from_slice(&body)
                .map(Some)
                .map_err(|e| ApiError::Decode {
                    path: format!("{collection}/{name}"),
                    message: e.to_string(),
                }),
            404 => Ok(None),
            code => Err(status_error(code, &body, collection)),
        }
    }

    /// GET a non-resource URL such as `/metrics` as text; `Ok(None)` when it does not exist.
    pub async fn get_text(&self, path: &str) -> Result<Option<String>, ApiError> {
        let (status, body) = self
            .send(|| {
                http::Request::get(path)
                    .header(http::header::ACCEPT, "text/plain;version=0.0.4")
                    .body(Vec::new())
                    .map_err(|e| ApiError::Request(e.to_string()))
            })
            .await?;
        match status {
            200 => String::from_utf8(body.to_vec())
                .map(Some)
                .map_err(|e| ApiError::Decode {
                    path: path.to_string(),
                    message: e.to_string(),
                }),
            404 => Ok(None),
            code => Err(status_error(code, &body, path)),
        }
    }

    /// GET `/version`.
    pub async fn version(&self) -> Result<String, ApiError> {
        #[derive(Deserialize)]
        struct Info {
            #[serde(rename = "gitVersion")]
            git_version: String,
        }
        let (status, body) = self
            .send(|| {
                http::Request::get("/version")
                    .body(Vec::new())
                    .map_err(|e| ApiError::Request(e.to_string()))
            })
            .await?;
        if status != 200 {
            return Err(status_error(status, &body, "/version"));
        }
        serde_json::from_slice::<Info>(&body)
            .map(|i| i.git_version)
            .map_err(|e| ApiError::Decode {
                path: "/version".into(),
                message: e.to_string(),
            })
    }

    /// Lists every object at `collection` (cluster-wide) page by page, keeping only what
    /// `project` returns for each. A page that cannot be decoded fails the list; a single
    /// object that cannot be decoded is reported in [`Listed::invalid`] and skipped. A
    /// `410 Gone` for an expired continue token restarts the list from the beginning.
    /// `Ok(None)` when the resource type does not exist (an absent CRD).
    pub async fn list<T, P>(
        &self,
        collection: &str,
        shape: Shape,
        project: impl FnMut(T) -> Option<P>,
    ) -> Result<Option<Listed<P>>, ApiError>
    where
        T: DeserializeOwned,
    {
        self.list_selected(collection, shape, None, project).await
    }

    /// Lists the objects at `collection` that carry the labels of `selector`, page by page
    /// as [`ApiClient::list`] does; the API server filters before it serializes.
    pub async fn list_labelled<T, P>(
        &self,
        collection: &str,
        selector: &str,
        project: impl FnMut(T) -> Option<P>,
    ) -> Result<Option<Listed<P>>, ApiError>
    where
        T: DeserializeOwned,
    {
        self.list_selected(collection, Shape::Full, Some(selector), project)
            .await
    }

    async fn list_selected<T, P>(
        &self,
        collection: &str,
        shape: Shape,
        selector: Option<&str>,
        mut project: impl FnMut(T) -> Option<P>,
    ) -> Result<Option<Listed<P>>, ApiError>
    where
        T: DeserializeOwned,
    {
        let request = Request::new(collection);
        let mut restarts = 0;
        'restart: loop {
            let mut listed = Listed {
                items: Vec::new(),
                invalid: Vec::new(),
            };
            let mut continue_token: Option<String> = None;
            loop {
                let mut params = ListParams::default().limit(PAGE_SIZE);
                if let Some(selector) = selector {
                    params = params.labels(selector);
                }
                if let Some(token) = &continue_token {
                    params = params.continue_token(token);
                }
                let (status, body) = self
                    .send(|| {
                        match shape {
                            Shape::Full => request.list(&params),
                            Shape::Metadata => request.list_metadata(&params),
                        }
                        .map_err(|e| ApiError::Request(e.to_string()))
                    })
                    .await?;
                match status {
                    200 => {}
                    404 if continue_token.is_none() => return Ok(None),
                    410 if continue_token.is_some() => {
                        restarts += 1;
                        if restarts > MAX_LIST_RESTARTS {
                            return Err(ApiError::Expired {
                                path: collection.to_string(),
                            });
                        }
                        tracing::info!(
                            collection,
                            restarts,
                            "continue token expired; restarting the list"
                        );
                        continue 'restart;
                    }
                    code => return Err(status_error(code, &body, collection)),
                }
                let page: Page = serde_json::from_slice(&body).map_err(|e| ApiError::Decode {
                    path: collection.to_string(),
                    message: e.to_string(),
                })?;
                drop(body);
                for raw in page.items {
                    match serde_json::from_str::<T>(raw.get()) {
                        Ok(object) => listed.items.extend(project(object)),
                        Err(e) => listed
                            .invalid
                            .push(format!("{}: {e}", object_name(raw.get()))),
                    }
                }
                match page.metadata.continue_token {
                    Some(token) if !token.is_empty() => continue_token = Some(token),
                    _ => return Ok(Some(listed)),
                }
            }
        }
    }
}

/// `namespace/name` of a raw object, for error messages about objects that do not decode.
fn object_name(raw: &str) -> String {
    #[derive(Deserialize)]
    struct Meta {
        #[serde(default)]
        name: String,
        #[serde(default)]
        namespace: String,
    }
    #[derive(Deserialize)]
    struct Obj {
        metadata: Meta,
    }
    match serde_json::from_str::<Obj>(raw) {
        Ok(o) if o.metadata.namespace.is_empty() => o.metadata.name,
        Ok(o) => format!("{}/{}", o.metadata.namespace, o.metadata.name),
        Err(_) => "<unnamed object>".into(),
    }
}

fn status_error(code: u16, body: &[u8], path: &str) -> ApiError {
    #[derive(Deserialize)]
    struct Status {
        #[serde(default)]
        reason: String,
        #[serde(default)]
        message: String,
    }
    let reason = serde_json::from_slice::<Status>(body)
        .map(|s| {
            if s.message.is_empty() {
                s.reason
            } else {
                s.message
            }
        })
        .unwrap_or_default();
    ApiError::Status {
        code,
        reason,
        path: path.to_string(),
    }
}
