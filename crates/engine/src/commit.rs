//! `docker commit`: a container's writable layer becomes a new layer over its image's, and
//! the container's config (with `--change` instructions applied, as moby's
//! `BuildFromConfig` applies them) the new image's config. The files written at create
//! (`/etc/hostname`, `/etc/hosts`) are left out, as Docker's init layer keeps them out. A
//! running container is paused while its layer is copied, unless asked not to be.

use std::path::Path;

use cap_fs_ext::DirExt;
use cap_std::{ambient_authority, fs::Dir};
use porthole_core::config::ImageConfig;
use porthole_core::dockerfile;
use porthole_core::event::EventType;
use porthole_store::HistoryEntry;
use porthole_store::copy::{copy_tree, is_empty_dir};

use crate::changes::INIT_FILES;
use crate::error::IoContext;
use crate::images::Base;
use crate::{Engine, EngineError, Result};

/// `docker commit` options.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// `REPO[:TAG]` to tag the new image with.
    pub reference: Option<String>,
    /// `-m`
    pub comment: String,
    /// `-a`
    pub author: String,
    /// `-c`: Dockerfile instructions applied to the config.
    pub changes: Vec<String>,
    /// `--pause` (the default): pause a running container while its layer is copied.
    pub pause: bool,
    /// The API's body: a config to start from instead of the container's.
    pub config: Option<ImageConfig>,
}

/// The instructions moby's `validCommitCommands` allows in `--change`.
const CHANGE_COMMANDS: &[&str] = &[
    "cmd",
    "entrypoint",
    "healthcheck",
    "env",
    "expose",
    "label",
    "onbuild",
    "stopsignal",
    "user",
    "volume",
    "workdir",
];

/// The `--change` lines as instructions, each checked against moby's list first (`run is not
/// a valid change command`).
fn parse_changes(changes: &[String]) -> Result<Vec<dockerfile::Instruction>> {
    let text = changes.join("\n");
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let word = line.split_whitespace().next().unwrap_or_default().to_lowercase();
        if !CHANGE_COMMANDS.contains(&word.as_str()) {
            return Err(EngineError::Invalid(format!("{word} is not a valid change command")));
        }
    }
    let parsed = dockerfile::parse_with_args(&format!("FROM scratch\n{text}"), &Default::default())
        .map_err(|e| EngineError::Invalid(e.to_string()))?;
    Ok(parsed.instructions.into_iter().skip(1).collect())
}

impl Engine {
    /// `docker commit CONTAINER [REPO[:TAG]]`: gives the new image's id.
    pub fn commit(&self, container: &str, opts: CommitOptions) -> Result<String> {
        let (record, base, pause) = {
            let w = self.world();
            let c = w.container(container)?;
            let paused = c.running.as_ref().is_some_and(|r| r.paused);
            let base = w.images.get(&c.record.image_id).map(Base::from);
            (c.record.clone(), base, opts.pause && c.running.is_some() && !paused)
        };
        let Some(mut base) = base.filter(|_| !record.layers.is_empty()) else {
            return Err(EngineError::Invalid(format!(
                "docker commit is not supported by Porthole for container {}: it was created before image layers were kept",
                record.id.short()
            )));
        };
        // The container's layers are what it was created on, whatever the image became.
        base.layers = record.layers.clone();
        let instructions = parse_changes(&opts.changes)?;
        let mut config = opts.config.clone().unwrap_or_else(|| record.config.clone());
        for ins in &instructions {
            self.plan_config(&mut config, ins)?;
        }
        let config = merge(config, &record.config);
        let work = self.inner.store.root().join("images").join(format!(
            "{}commit-{}",
            porthole_store::BUILD_DIR_PREFIX,
            porthole_store::random_id().short()
        ));
        if pause {
            self.pause(record.id.as_str())?;
        }
        let copied = copy_upper(&self.inner.store.rootfs(&record.id), &work.join("layer"));
        if pause {
            let _ = self.unpause(record.id.as_str());
        }
        let result = copied.context(|| format!("copying the files of {}", record.id.short())).and_then(|()| {
            let entry = HistoryEntry {
                created_by: record.config.cmd.clone().unwrap_or_default().join(" "),
                comment: opts.comment.clone(),
                author: opts.author.clone(),
                ..Default::default()
            };
            self.commit_step(&base, config, vec![entry], Some(&work.join("layer")), false)
        });
        let _ = self.inner.store.discard(&work);
        let image = result?;
        if let Some(reference) = &opts.reference {
            self.tag(&image.id, reference)?;
        }
        let event = self
            .event(EventType::Container, "commit", record.id.as_str())
            .with("comment", opts.comment)
            .with("imageID", format!("sha256:{}", image.id))
            .with("imageRef", opts.reference.map(|r| crate::containers::normalize_tag(&r)).unwrap_or_default());
        self.emit(event);
        Ok(image.id)
    }
}

/// Copies the container's writable layer `upper` (whiteouts and all) to the new directory
/// `to`, through `Dir`s without following links, and leaves out the files written at create
/// (and `/etc` itself, when nothing else in it changed).
fn copy_upper(upper: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    let from = Dir::open_ambient_dir(upper, ambient_authority())?;
    let dest = Dir::open_ambient_dir(to, ambient_authority())?;
    copy_tree(&from, &dest)?;
    let Ok(etc) = dest.open_dir_nofollow("etc") else { return Ok(()) };
    for file in INIT_FILES {
        let name = file.trim_start_matches("/etc/");
        match etc.remove_file(name) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    if is_empty_dir(&etc)? {
        dest.remove_dir("etc")?;
    }
    Ok(())
}

/// moby's `merge`: what the committed config leaves unset comes from the container's.
fn merge(mut user: ImageConfig, container: &ImageConfig) -> ImageConfig {
    if user.user.is_empty() {
        user.user = container.user.clone();
    }
    let ports = user.exposed_ports.get_or_insert_with(Default::default);
    for (p, v) in container.exposed_ports.iter().flatten() {
        ports.entry(p.clone()).or_insert_with(|| v.clone());
    }
    if user.exposed_ports.as_ref().is_some_and(|p| p.is_empty()) {
        user.exposed_ports = container.exposed_ports.clone();
    }
    for env in &container.env {
        let key = env.split('=').next().unwrap_or_default();
        if !user.env.iter().any(|e| e.split('=').next() == Some(key)) {
            user.env.push(env.clone());
        }
    }
    if let Some(theirs) = &container.labels {
        let labels = user.labels.get_or_insert_with(Default::default);
        for (k, v) in theirs {
            labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if user.entrypoint.as_ref().is_none_or(Vec::is_empty) {
        if user.cmd.as_ref().is_none_or(Vec::is_empty) {
            user.cmd = container.cmd.clone();
        }
        if user.entrypoint.is_none() {
            user.entrypoint = container.entrypoint.clone();
        }
    }
    if user.healthcheck.is_none() {
        user.healthcheck = container.healthcheck.clone();
    }
    if user.working_dir.is_empty() {
        user.working_dir = container.working_dir.clone();
    }
    let volumes = user.volumes.get_or_insert_with(Default::default);
    for (p, v) in container.volumes.iter().flatten() {
        volumes.entry(p.clone()).or_insert_with(|| v.clone());
    }
    if user.volumes.as_ref().is_some_and(|v| v.is_empty()) {
        user.volumes = container.volumes.clone();
    }
    user
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_moby_s_change_commands_are_accepted() {
        let changes = |lines: &[&str]| parse_changes(&lines.iter().map(|l| l.to_string()).collect::<Vec<_>>());
        assert_eq!(changes(&["CMD [\"sh\"]", "ENV A=1", "EXPOSE 80"]).unwrap().len(), 3);
        assert_eq!(changes(&["RUN echo hi"]).unwrap_err().to_string(), "run is not a valid change command");
        assert_eq!(changes(&["ENV A=1\nCOPY a b"]).unwrap_err().to_string(), "copy is not a valid change command");
    }

    #[test]
    fn the_containers_config_fills_what_the_commit_leaves_unset() {
        let container = ImageConfig {
            env: vec!["PATH=/bin".into(), "A=1".into()],
            cmd: Some(vec!["sh".into()]),
            working_dir: "/srv".into(),
            ..Default::default()
        };
        let user = ImageConfig { env: vec!["A=2".into()], ..Default::default() };
        let merged = merge(user, &container);
        assert_eq!(merged.env, ["A=2", "PATH=/bin"]);
        assert_eq!(merged.cmd, Some(vec!["sh".to_string()]));
        assert_eq!(merged.working_dir, "/srv");
    }
}
