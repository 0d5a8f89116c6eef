//! The distribution client: pull a reference into an OCI image layout, push a layout's image to
//! a reference, check credentials (`docker login`). The wire protocol (token handshakes,
//! chunked uploads, digest checks on every blob) is `oci-client`'s; this module chooses what to
//! move, checks what comes back against its digests, and words failures as Docker does.
//!
//! The engine is synchronous, so each call runs its own current-thread tokio runtime: a pull
//! is one caller's work and needs no shared reactor.

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_spec::image::{Descriptor, Digest, ImageIndex, ImageIndexBuilder, ImageManifest, MediaType};

use crate::endpoint::{Endpoints, Scheme};
use crate::layout::{Layout, sha256_digest};
use crate::{Progress, Reference, RegistryError};

/// How long a registry has to accept a connection (DNS lookup included): a registry that is
/// not there fails a pull in seconds, never hangs `docker run`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a registry may stay silent in the middle of an answer.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// The annotation the OCI layout names an image's tag with, and containerd's for its full name.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";
pub const IMAGE_NAME_ANNOTATION: &str = "io.containerd.image.name";

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const ACCEPTED: &[&str] = &[OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];

/// Who the registry is asked as: nobody, or a user and password (`docker login`'s, sent by the
/// client in `X-Registry-Auth`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Credentials {
    fn auth(&self) -> RegistryAuth {
        if self.username.is_empty() {
            RegistryAuth::Anonymous
        } else {
            RegistryAuth::Basic(self.username.clone(), self.password.clone())
        }
    }
}

/// What a pull fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    /// The digest of the manifest (or index) the reference names: Docker's `Digest:` line.
    pub digest: String,
    /// The layers' blob digests, bottom first.
    pub layers: Vec<String>,
}

/// What a push stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub tag: String,
    pub digest: String,
    pub size: usize,
}

/// A client for every registry, with the operator's insecure-registry list.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    endpoints: Endpoints,
}

impl Registry {
    pub fn new(insecure_registries: &[String]) -> Result<Registry, RegistryError> {
        Ok(Registry { endpoints: Endpoints::new(insecure_registries)? })
    }

    /// Fetches `reference` into the layout directory `layout_dir` (existing, empty): its
    /// manifest (the `wasi/wasm` one of an index), config and layers, each checked against its
    /// digest; `index.json` names it with the reference's tag and full name.
    pub fn pull(
        &self,
        reference: &Reference,
        credentials: &Credentials,
        layout_dir: &Path,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Pulled, RegistryError> {
        block_on(async move {
            let scheme = self.scheme(reference);
            ping(scheme, reference.registry_host(), None).await?;
            let client = self.client(scheme);
            let target = oci_reference(reference);
            let auth = credentials.auth();
            let (body, digest) =
                client.pull_manifest_raw(&target, &auth, ACCEPTED).await.map_err(|e| pull_error(e, reference))?;
            let (manifest_body, manifest_digest, media_type) = match media_type_of(&body)? {
                t if t == OCI_INDEX || t == DOCKER_LIST => {
                    let chosen = wasi_manifest(&body, &digest)?;
                    let by_digest = oci_client::Reference::with_digest(
                        reference.registry_host().to_string(),
                        reference.path().to_string(),
                        chosen.clone(),
                    );
                    let (body, d) = client
                        .pull_manifest_raw(&by_digest, &auth, ACCEPTED)
                        .await
                        .map_err(|e| pull_error(e, reference))?;
                    let t = media_type_of(&body)?;
                    (body, d, t)
                }
                t => (body, digest.clone(), t),
            };
            let manifest: ImageManifest = serde_json::from_slice(&manifest_body).map_err(|e| {
                RegistryError::InvalidManifest { digest: manifest_digest.clone(), reason: e.to_string() }
            })?;
            let tag_or_digest = reference.tag().or(reference.digest()).unwrap_or("latest").to_string();
            progress(Progress::PullingFrom { name: reference.familiar_name(), tag_or_digest });

            let layout = Layout::create(layout_dir)?;
            let layers: Vec<String> = manifest.layers().iter().map(|l| l.digest().to_string()).collect();
            for layer in &layers {
                progress(Progress::PullingFsLayer(layer.clone()));
            }
            fetch_blob(&client, &target, &layout, manifest.config())
                .await
                .map_err(|e| e.into_error(|e| pull_error(e, reference)))?;
            for layer in manifest.layers() {
                fetch_blob(&client, &target, &layout, layer)
                    .await
                    .map_err(|e| e.into_error(|e| pull_error(e, reference)))?;
                progress(Progress::DownloadComplete(layer.digest().to_string()));
            }
            let stored = layout.write_blob(&manifest_body)?;
            debug_assert_eq!(stored, manifest_digest);
            let mut entry = Descriptor::new(
                MediaType::from(media_type.as_str()),
                manifest_body.len() as u64,
                parse_digest(&stored)?,
            );
            entry.set_annotations(Some(name_annotations(reference)));
            layout.write_index(&index_of(vec![entry])?)?;
            Ok(Pulled { digest, layers })
        })
    }

    /// Sends the image of the layout in `layout_dir` to `reference` (a tag): the blobs the
    /// registry lacks, then the manifest.
    pub fn push(
        &self,
        layout_dir: &Path,
        reference: &Reference,
        credentials: &Credentials,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Pushed, RegistryError> {
        block_on(async move {
            let layout = Layout::open(layout_dir)?;
            let tag = reference.tag().unwrap_or("latest").to_string();
            let entry = manifest_entry(&layout.index()?, &tag)?;
            let digest = entry.digest().to_string();
            let body = layout.read_blob(&digest)?;
            let manifest: ImageManifest = serde_json::from_slice(&body)
                .map_err(|e| RegistryError::InvalidManifest { digest: digest.clone(), reason: e.to_string() })?;

            let scheme = self.scheme(reference);
            ping(scheme, reference.registry_host(), None).await?;
            let client = self.client(scheme);
            let target = oci_reference(&reference.with_tag(&tag)?);
            client.auth(&target, &credentials.auth(), oci_client::RegistryOperation::Push).await.map_err(push_error)?;
            progress(Progress::PushRefersTo(reference.name()));
            for layer in manifest.layers() {
                progress(Progress::Preparing(layer.digest().to_string()));
            }
            for layer in manifest.layers() {
                let uploaded =
                    upload_blob(&client, &target, &layout, layer).await.map_err(|e| e.into_error(push_error))?;
                let id = layer.digest().to_string();
                progress(if uploaded { Progress::Pushed(id) } else { Progress::LayerExists(id) });
            }
            upload_blob(&client, &target, &layout, manifest.config()).await.map_err(|e| e.into_error(push_error))?;
            let media_type = media_type_of(&body)?;
            let content_type =
                media_type.parse().map_err(|_| RegistryError::UnsupportedManifest(media_type.clone()))?;
            client.push_manifest_raw(&target, body.clone(), content_type).await.map_err(push_error)?;
            let pushed = Pushed { tag, digest: sha256_digest(&body), size: body.len() };
            progress(Progress::PushDigest {
                tag: pushed.tag.clone(),
                digest: pushed.digest.clone(),
                size: pushed.size,
            });
            Ok(pushed)
        })
    }

    /// `docker login`: asks the registry's `/v2/` with the credentials, as Docker does (basic
    /// auth, or the token service a bearer challenge names).
    pub fn login(&self, server: &str, credentials: &Credentials) -> Result<(), RegistryError> {
        block_on(async move {
            let host = login_host(server);
            let scheme = self.endpoints.scheme(host);
            ping(scheme, host, Some(credentials)).await
        })
    }

    fn scheme(&self, reference: &Reference) -> Scheme {
        self.endpoints.scheme(reference.registry_host())
    }

    fn client(&self, scheme: Scheme) -> oci_client::Client {
        oci_client::Client::new(ClientConfig {
            protocol: match scheme {
                Scheme::Http => ClientProtocol::Http,
                Scheme::Https => ClientProtocol::Https,
            },
            connect_timeout: Some(CONNECT_TIMEOUT),
            read_timeout: Some(READ_TIMEOUT),
            // An index is resolved here, to refuse it naming what it offers.
            platform_resolver: None,
            ..ClientConfig::default()
        })
    }
}

/// The registry Docker logs in to for a `serveraddress` (`https://index.docker.io/v1/` is Hub).
fn login_host(server: &str) -> &str {
    let bare = server.trim_start_matches("https://").trim_start_matches("http://");
    let host = bare.split('/').next().unwrap_or(bare);
    match host {
        "" | "docker.io" | "index.docker.io" => crate::reference::DOCKER_HUB_HOST,
        h => h,
    }
}

fn block_on<T>(f: impl Future<Output = Result<T, RegistryError>>) -> Result<T, RegistryError> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(RegistryError::Runtime)?.block_on(f)
}

fn oci_reference(r: &Reference) -> oci_client::Reference {
    let (host, path) = (r.registry_host().to_string(), r.path().to_string());
    match (r.digest(), r.tag()) {
        (Some(d), _) => oci_client::Reference::with_digest(host, path, d.to_string()),
        (None, t) => oci_client::Reference::with_tag(host, path, t.unwrap_or("latest").to_string()),
    }
}

/// `GET /v2/`: is the registry there, and (for a login) do the credentials open it.
async fn ping(scheme: Scheme, host: &str, login: Option<&Credentials>) -> Result<(), RegistryError> {
    let url = format!("{}://{host}/v2/", scheme.as_str());
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .build()
        .map_err(|e| RegistryError::Unreachable { url: url.clone(), cause: cause_chain(&e) })?;
    let unreachable = |e: reqwest::Error| RegistryError::Unreachable { url: url.clone(), cause: cause_chain(&e) };
    let first = client.get(&url).send().await.map_err(unreachable)?;
    let Some(credentials) = login else { return Ok(()) };
    let failed =
        |status: reqwest::StatusCode| RegistryError::LoginFailed { url: url.clone(), status: status_text(status) };
    if first.status().is_success() {
        return Ok(());
    }
    if first.status() != reqwest::StatusCode::UNAUTHORIZED {
        return Err(failed(first.status()));
    }
    let challenge = first
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let answer = match bearer_realm(&challenge) {
        Some((realm, service)) => {
            let mut query = vec![("account", credentials.username.clone())];
            query.extend(service.map(|s| ("service", s)));
            client.get(&realm).query(&query).basic_auth(&credentials.username, Some(&credentials.password))
        }
        None => client.get(&url).basic_auth(&credentials.username, Some(&credentials.password)),
    }
    .send()
    .await
    .map_err(unreachable)?;
    if answer.status().is_success() { Ok(()) } else { Err(failed(answer.status())) }
}

/// `Bearer realm="…",service="…"` → the realm and service (Docker's token handshake).
fn bearer_realm(challenge: &str) -> Option<(String, Option<String>)> {
    let params = challenge.strip_prefix("Bearer ").or_else(|| challenge.strip_prefix("bearer "))?;
    let value = |key: &str| {
        params
            .split(',')
            .find_map(|p| p.trim().strip_prefix(&format!("{key}=")).map(|v| v.trim_matches('"').to_string()))
    };
    Some((value("realm")?, value("service")))
}

/// `401 Unauthorized`, as Go prints a status.
fn status_text(status: reqwest::StatusCode) -> String {
    format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or_default())
}

/// An error's causes, most specific last (`tcp connect error: Connection refused (os error
/// 111)`, `dns error: …`), less reqwest's restatement of the URL the message already names and
/// hyper's `client error (Connect)` wrapper.
fn cause_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !parts.contains(&text) && !text.starts_with("client error (") {
            parts.push(text);
        }
        next = cause.source();
    }
    if parts.is_empty() { e.to_string() } else { parts.join(": ") }
}

/// The media type a manifest says it has (`mediaType`), or what its fields make it.
fn media_type_of(body: &[u8]) -> Result<String, RegistryError> {
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
    }
    let head: Head = serde_json::from_slice(body)
        .map_err(|e| RegistryError::InvalidManifest { digest: sha256_digest(body), reason: e.to_string() })?;
    let t = match head.media_type {
        Some(t) => t,
        None if head.manifests.is_some() => OCI_INDEX.into(),
        None => OCI_MANIFEST.into(),
    };
    if !ACCEPTED.contains(&t.as_str()) {
        return Err(RegistryError::UnsupportedManifest(t));
    }
    Ok(t)
}

/// The `wasi/wasm` manifest of an index, or a refusal naming the platforms it has.
fn wasi_manifest(body: &[u8], digest: &str) -> Result<String, RegistryError> {
    let index: ImageIndex = serde_json::from_slice(body)
        .map_err(|e| RegistryError::InvalidManifest { digest: digest.to_string(), reason: e.to_string() })?;
    let platform = |d: &Descriptor| {
        d.platform().as_ref().map(|p| {
            let variant = p.variant().as_ref().map(|v| format!("/{v}")).unwrap_or_default();
            format!("{}/{}{variant}", p.os(), p.architecture())
        })
    };
    if let Some(m) = index.manifests().iter().find(|m| platform(m).is_some_and(|p| p == "wasi/wasm")) {
        return Ok(m.digest().to_string());
    }
    let offered: Vec<String> =
        index.manifests().iter().map(|m| platform(m).unwrap_or_else(|| "unknown".into())).collect();
    Err(RegistryError::NoWasiManifest { offered: offered.join(", ") })
}

/// Downloads one blob into the layout: into a `.part` file through the layout's `Dir`,
/// verified by `oci-client` against the descriptor's digest, then put in its place.
async fn fetch_blob(
    client: &oci_client::Client,
    target: &oci_client::Reference,
    layout: &Layout,
    blob: &Descriptor,
) -> Result<(), FetchError> {
    let digest = blob.digest().to_string();
    let (file, part) = layout.part_file(&digest)?;
    let mut out = tokio::fs::File::from_std(file);
    let layer = oci_client::manifest::OciDescriptor {
        media_type: blob.media_type().to_string(),
        digest: digest.clone(),
        size: blob.size() as i64,
        ..Default::default()
    };
    client.pull_blob(target, &layer, &mut out).await?;
    out.sync_all().await.map_err(RegistryError::layout(format!("writing blob {digest}")))?;
    layout.commit_blob(&part, &digest)?;
    Ok(())
}

/// Uploads one blob unless the registry has it (`HEAD`); true when it was sent.
async fn upload_blob(
    client: &oci_client::Client,
    target: &oci_client::Reference,
    layout: &Layout,
    blob: &Descriptor,
) -> Result<bool, FetchError> {
    let digest = blob.digest().to_string();
    if client.blob_exists(target, &digest).await? {
        return Ok(false);
    }
    let bytes = layout.read_blob(&digest)?;
    client.push_blob(target, bytes, &digest).await?;
    Ok(true)
}

/// A blob transfer fails on either side: the registry, or the layout.
enum FetchError {
    Registry(OciDistributionError),
    Layout(RegistryError),
}

impl From<OciDistributionError> for FetchError {
    fn from(e: OciDistributionError) -> Self {
        FetchError::Registry(e)
    }
}

impl From<RegistryError> for FetchError {
    fn from(e: RegistryError) -> Self {
        FetchError::Layout(e)
    }
}

impl FetchError {
    /// The registry's side worded by `translate`; the layout's as it is.
    fn into_error(self, translate: impl FnOnce(OciDistributionError) -> RegistryError) -> RegistryError {
        match self {
            FetchError::Registry(e) => translate(e),
            FetchError::Layout(e) => e,
        }
    }
}

/// moby's `translatePullError`: the first error the registry gave, in Docker's words.
fn pull_error(e: OciDistributionError, reference: &Reference) -> RegistryError {
    match registry_error(e) {
        Ok((code, message)) => match code {
            OciErrorCode::ManifestUnknown => RegistryError::ManifestUnknown {
                reference: reference.familiar_string(),
                code: code_text(&code),
                message,
            },
            OciErrorCode::NameUnknown => {
                RegistryError::NameUnknown { name: reference.familiar_name(), code: code_text(&code), message }
            }
            OciErrorCode::Denied => {
                RegistryError::PullDenied { name: reference.familiar_name(), code: code_text(&code), message }
            }
            code => RegistryError::Registry { code: code_text(&code), message },
        },
        Err(e) => e,
    }
}

fn push_error(e: OciDistributionError) -> RegistryError {
    match registry_error(e) {
        Ok((code, message)) => RegistryError::Registry { code: code_text(&code), message },
        Err(e) => e,
    }
}

/// The registry's own error (code and message) where it sent one; else the client's error.
fn registry_error(e: OciDistributionError) -> Result<(OciErrorCode, String), RegistryError> {
    match e {
        OciDistributionError::RegistryError { mut envelope, .. } if !envelope.errors.is_empty() => {
            let first = envelope.errors.remove(0);
            Ok((first.code, first.message))
        }
        OciDistributionError::UnauthorizedError { .. } => Err(RegistryError::Unauthorized),
        // A `HEAD` (blob_exists) has no body: its 401 comes as a plain HTTP error.
        OciDistributionError::RequestError(e) if e.status() == Some(reqwest::StatusCode::UNAUTHORIZED) => {
            Err(RegistryError::Unauthorized)
        }
        OciDistributionError::ServerError { code: 401, .. } => Err(RegistryError::Unauthorized),
        OciDistributionError::ImageManifestNotFoundError(message) => Ok((OciErrorCode::ManifestUnknown, message)),
        e => Err(RegistryError::Distribution(e)),
    }
}

/// `MANIFEST_UNKNOWN` → `manifest unknown`, as distribution's `ErrorCode.Error()` prints it.
fn code_text(code: &OciErrorCode) -> String {
    let raw = serde_json::to_value(code).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    raw.to_lowercase().replace('_', " ")
}

/// The index entry to push for `tag`: the one its annotation names, or the only one.
fn manifest_entry(index: &ImageIndex, tag: &str) -> Result<Descriptor, RegistryError> {
    let named =
        |d: &&Descriptor| d.annotations().as_ref().and_then(|a| a.get(REF_NAME_ANNOTATION)).is_some_and(|t| t == tag);
    match (index.manifests().iter().find(named), index.manifests().as_slice()) {
        (Some(d), _) | (None, [d]) => Ok(d.clone()),
        _ => Err(RegistryError::InvalidLayout(format!("no manifest in index.json is tagged {tag}"))),
    }
}

/// The names a pulled image is loaded under: its tag and full name; none for a pull by
/// digest, which Docker tags nothing for.
fn name_annotations(reference: &Reference) -> HashMap<String, String> {
    match (reference.tag(), reference.digest()) {
        (Some(tag), None) => HashMap::from([
            (IMAGE_NAME_ANNOTATION.to_string(), reference.to_string()),
            (REF_NAME_ANNOTATION.to_string(), tag.to_string()),
        ]),
        _ => HashMap::new(),
    }
}

fn parse_digest(digest: &str) -> Result<Digest, RegistryError> {
    Digest::from_str(digest).map_err(|e| RegistryError::InvalidLayout(format!("digest {digest}: {e}")))
}

fn index_of(manifests: Vec<Descriptor>) -> Result<ImageIndex, RegistryError> {
    ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(manifests)
        .build()
        .map_err(|e| RegistryError::InvalidLayout(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_codes_read_as_docker_prints_them() {
        assert_eq!(code_text(&OciErrorCode::ManifestUnknown), "manifest unknown");
        assert_eq!(code_text(&OciErrorCode::NameUnknown), "name unknown");
    }

    #[test]
    fn login_servers_name_their_registry() {
        assert_eq!(login_host("https://index.docker.io/v1/"), "registry-1.docker.io");
        assert_eq!(login_host("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(login_host("http://localhost:5000/v2/"), "localhost:5000");
    }

    #[test]
    fn bearer_challenges_name_their_token_service() {
        let c = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#;
        assert_eq!(bearer_realm(c), Some(("https://auth.docker.io/token".into(), Some("registry.docker.io".into()))));
        assert_eq!(bearer_realm(r#"Basic realm="basic-realm""#), None);
    }

    #[test]
    fn an_index_without_wasi_names_its_platforms() {
        let index = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","platform":{"os":"linux","architecture":"amd64"}},
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}"#;
        let err = wasi_manifest(index.as_bytes(), "sha256:x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no matching manifest for wasi/wasm in the manifest list entries (it offers linux/amd64, linux/arm64/v8)"
        );
        let wasi = index
            .replace(r#""os":"linux","architecture":"arm64","variant":"v8""#, r#""os":"wasi","architecture":"wasm""#);
        assert_eq!(wasi_manifest(wasi.as_bytes(), "sha256:x").unwrap(), format!("sha256:{}", "b".repeat(64)));
    }
}
