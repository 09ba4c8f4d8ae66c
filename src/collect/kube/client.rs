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

/// A LIST page whose items are left undecoded (borrowed from the body): read when the
/// one-pass decode fails, to name the objects that do not decode and keep the others.
#[derive(Deserialize)]
struct RawPage<'a> {
    #[serde(default)]
    metadata: PageMeta,
    #[serde(borrow, default)]
    items: Vec<&'a RawValue>,
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

    /// Lists the objects at `collection` in `shape` that match the label `selector` (all
    /// of them without one), page by page as [`ApiClient::list`] does.
    pub async fn list_selected<T, P>(
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
                let next = decode_page(&body, collection, &mut listed, &mut project)?;
                drop(body);
                match next {
                    Some(token) if !token.is_empty() => continue_token = Some(token),
                    _ => return Ok(Some(listed)),
                }
            }
        }
    }
}

/// Decodes one LIST page into `listed` through `project` and returns its continue token.
/// The page is decoded in one pass, each object projected as soon as it is parsed, so no
/// page of decoded objects is ever held. Only when that fails is the page read again object
/// by object, so that one object that does not decode is reported by name and the others
/// are kept.
pub fn decode_page<T: DeserializeOwned, P>(
    body: &[u8],
    collection: &str,
    listed: &mut Listed<P>,
    project: &mut impl FnMut(T) -> Option<P>,
) -> Result<Option<String>, ApiError> {
    let before = listed.items.len();
    let one_pass = ProjectedPage(ProjectedItems {
        project: &mut *project,
        kept: &mut listed.items,
        _object: std::marker::PhantomData,
    });
    let mut de = serde_json::Deserializer::from_slice(body);
    if let Ok(token) = serde::de::DeserializeSeed::deserialize(one_pass, &mut de)
        && de.end().is_ok()
    {
        return Ok(token);
    }
    // What the failed pass kept is read again below.
    listed.items.truncate(before);
    let page: RawPage = serde_json::from_slice(body).map_err(|e| ApiError::Decode {
        path: collection.to_string(),
        message: e.to_string(),
    })?;
    for raw in page.items {
        match serde_json::from_str::<T>(raw.get()) {
            Ok(object) => listed.items.extend(project(object)),
            Err(e) => listed
                .invalid
                .push(format!("{}: {e}", object_name(raw.get()))),
        }
    }
    Ok(page.metadata.continue_token)
}

/// A LIST page read as a map: `items` projected one object at a time (through the
/// [`ProjectedItems`] it holds), `metadata` for the continue token, everything else skipped.
struct ProjectedPage<'a, T, P, F>(ProjectedItems<'a, T, P, F>);

impl<'de, T, P, F> serde::de::DeserializeSeed<'de> for ProjectedPage<'_, T, P, F>
where
    T: DeserializeOwned,
    F: FnMut(T) -> Option<P>,
{
    type Value = Option<String>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T, P, F> serde::de::Visitor<'de> for ProjectedPage<'_, T, P, F>
where
    T: DeserializeOwned,
    F: FnMut(T) -> Option<P>,
{
    type Value = Option<String>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        mut self,
        mut map: A,
    ) -> Result<Self::Value, A::Error> {
        let mut token = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "metadata" => token = map.next_value::<PageMeta>()?.continue_token,
                "items" => map.next_value_seed(&mut self.0)?,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(token)
    }
}

/// The `items` of a page: each object decoded, projected and dropped before the next.
struct ProjectedItems<'a, T, P, F> {
    project: &'a mut F,
    kept: &'a mut Vec<P>,
    _object: std::marker::PhantomData<fn() -> T>,
}

impl<'de, T, P, F> serde::de::DeserializeSeed<'de> for &mut ProjectedItems<'_, T, P, F>
where
    T: DeserializeOwned,
    F: FnMut(T) -> Option<P>,
{
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T, P, F> serde::de::Visitor<'de> for &mut ProjectedItems<'_, T, P, F>
where
    T: DeserializeOwned,
    F: FnMut(T) -> Option<P>,
{
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of objects")
    }

    // Go writes an empty list as `null`.
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(object) = seq.next_element::<T>()? {
            self.kept.extend((self.project)(object));
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::kube::{project, wire};

    fn listed() -> Listed<crate::snapshot::Workload> {
        Listed {
            items: Vec::new(),
            invalid: Vec::new(),
        }
    }

    #[test]
    fn a_page_decodes_in_one_pass_and_keeps_its_continue_token() {
        let body = br#"{"kind":"DeploymentList","metadata":{"continue":"t1","resourceVersion":"9"},
            "items":[{"metadata":{"name":"a","namespace":"n","managedFields":[{"fieldsV1":{"f:spec":{}}}]},
                      "spec":{"replicas":2,"template":{"spec":{"containers":[{"name":"c","image":"i"}]}}},
                      "status":{"replicas":2}},
                     {"metadata":{"name":"b","namespace":"n"}}]}"#;
        let mut out = listed();
        let next = decode_page::<wire::Workload, _>(
            body,
            "deployments",
            &mut out,
            &mut project::deployment,
        )
        .unwrap();
        assert_eq!(next.as_deref(), Some("t1"));
        assert!(out.invalid.is_empty());
        let got: Vec<_> = out
            .items
            .iter()
            .map(|w| (w.name.as_str(), w.replicas))
            .collect();
        assert_eq!(got, [("a", Some(2)), ("b", Some(1))]);
        assert_eq!(out.items[0].pod.containers[0].image, "i");
    }

    #[test]
    fn an_object_that_does_not_decode_is_named_and_the_others_are_kept() {
        let body = br#"{"metadata":{},"items":[
            {"metadata":{"name":"good","namespace":"n"},"spec":{"replicas":3}},
            {"metadata":{"name":"bad","namespace":"n"},"spec":{"replicas":"three"}},
            {"metadata":{"name":"also-good","namespace":"n"}}]}"#;
        let mut out = listed();
        let next = decode_page::<wire::Workload, _>(
            body,
            "deployments",
            &mut out,
            &mut project::deployment,
        )
        .unwrap();
        assert_eq!(next, None);
        let names: Vec<_> = out.items.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(names, ["good", "also-good"]);
        assert_eq!(out.invalid.len(), 1);
        assert!(out.invalid[0].starts_with("n/bad: "), "{}", out.invalid[0]);
    }

    #[test]
    fn a_page_that_is_not_a_list_fails_with_its_path() {
        let mut out = listed();
        let err = decode_page::<wire::Workload, _>(
            b"<html>",
            "deployments",
            &mut out,
            &mut project::deployment,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot decode the answer of deployments"),
            "{err}"
        );
    }
}
