//! `docker build` (the legacy builder's behaviour): parse the Dockerfile, start from the base
//! image or `scratch`, apply each instruction to a build rootfs (RUN runs `/bin/sh -c …` as a
//! guest), commit a content-addressed image and tag it. As in Docker, what a RUN writes under
//! a declared VOLUME is discarded.

use std::path::{Component, Path, PathBuf};

use porthole_core::config::ImageConfig;
use porthole_core::dockerfile::{self, InstructionKind};
use porthole_core::event::EventType;
use porthole_core::guest_path::clean;
use porthole_runtime::{Exit, Limits};
use porthole_store::copy::copy_tree;
use porthole_wasi::cap_std::{ambient_authority, fs::Dir};
use porthole_wasi::{MountSpec, Namespace, Stdio, WasiHost};

use crate::containers::find_image;
use crate::error::IoContext;
use crate::images::Collect;
use crate::{Engine, EngineError, Result};

pub struct BuildOptions {
    /// The unpacked build context.
    pub context: PathBuf,
    /// The Dockerfile's path inside the context (default `Dockerfile`).
    pub dockerfile: Option<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOutput {
    pub image_id: String,
}

/// State of the stage being built.
struct Stage {
    dir: PathBuf,
    config: ImageConfig,
    parent: String,
    history: Vec<String>,
}

impl Stage {
    fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }
}

impl Engine {
    /// Builds an image, reporting progress as the legacy builder prints it.
    pub fn build(&self, opts: BuildOptions, progress: &mut dyn FnMut(&str)) -> Result<BuildOutput> {
        let name = opts.dockerfile.clone().unwrap_or_else(|| "Dockerfile".into());
        let path = context_path(&opts.context, &name)?;
        let text = std::fs::read_to_string(&path)
            .map_err(|_| EngineError::Build(format!("Cannot locate specified Dockerfile: {name}")))?;
        let parsed = dockerfile::parse(&text).map_err(|e| EngineError::Build(e.to_string()))?;
        let total = parsed.instructions.len();
        let mut stage: Option<Stage> = None;
        let result = (|| -> Result<BuildOutput> {
            for (i, ins) in parsed.instructions.iter().enumerate() {
                let source = text.lines().nth(ins.line.saturating_sub(1)).unwrap_or("").trim();
                progress(&format!("Step {}/{total} : {source}\n", i + 1));
                if let InstructionKind::From { image, .. } = &ins.kind {
                    if let Some(old) = stage.take() {
                        let _ = std::fs::remove_dir_all(&old.dir);
                    }
                    let s = self.start_stage(image)?;
                    progress(&format!(
                        " ---> {}\n",
                        if s.parent.is_empty() { "scratch".to_string() } else { s.parent[..12].to_string() }
                    ));
                    stage = Some(s);
                    continue;
                }
                let s = stage.as_mut().expect("the parser requires FROM first");
                self.apply(s, &ins.kind, &opts.context, progress)?;
                s.history.push(source.to_string());
            }
            let s = stage.take().expect("the parser requires FROM");
            let record = self.commit_image(&s.dir, s.config, &s.parent, s.history)?;
            let short = &record.id[..12];
            progress(&format!(" ---> {short}\nSuccessfully built {short}\n"));
            for tag in &opts.tags {
                self.tag(&record.id, tag)?;
                progress(&format!("Successfully tagged {}\n", crate::containers::normalize_tag(tag)));
            }
            self.emit(self.event(EventType::Image, "build", &record.id));
            Ok(BuildOutput { image_id: record.id })
        })();
        if let Some(s) = stage {
            let _ = std::fs::remove_dir_all(&s.dir);
        }
        result
    }

    fn start_stage(&self, image: &str) -> Result<Stage> {
        let dir =
            self.inner.store.root().join("images").join(format!(".build-{}", porthole_store::random_id().short()));
        std::fs::create_dir_all(dir.join("rootfs")).context(|| "creating the build directory".into())?;
        if image == "scratch" {
            return Ok(Stage { dir, config: ImageConfig::default(), parent: String::new(), history: Vec::new() });
        }
        let base = {
            let w = self.world();
            find_image(&w, image).cloned()
        };
        let base = match base {
            Ok(b) => b,
            Err(_) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(EngineError::Build(format!(
                    "pull access denied for {image}: Porthole does not pull; images are built locally (docker build -t {image} DIR)"
                )));
            }
        };
        copy_tree(&self.inner.store.image_dir(&base.id).join("rootfs"), &dir.join("rootfs"))
            .context(|| format!("copying {image}"))?;
        Ok(Stage { dir, config: base.config.clone(), parent: base.id.clone(), history: base.history.clone() })
    }

    fn apply(
        &self,
        s: &mut Stage,
        kind: &InstructionKind,
        context: &Path,
        progress: &mut dyn FnMut(&str),
    ) -> Result<()> {
        match kind {
            InstructionKind::From { .. } => unreachable!("handled by build"),
            InstructionKind::Copy { sources, dest } | InstructionKind::Add { sources, dest } => {
                copy_into(s, context, sources, dest)
            }
            InstructionKind::Run(form) => self.run_step(s, &form.to_argv(), progress),
            InstructionKind::Cmd(form) => {
                s.config.cmd = Some(form.to_argv());
                Ok(())
            }
            InstructionKind::Entrypoint(form) => {
                s.config.entrypoint = Some(form.to_argv());
                // Docker resets an inherited CMD when the entrypoint changes.
                s.config.cmd = None;
                Ok(())
            }
            InstructionKind::Volume(paths) => {
                let volumes = s.config.volumes.get_or_insert_with(Default::default);
                for p in paths {
                    volumes.insert(p.clone(), Default::default());
                }
                Ok(())
            }
            InstructionKind::Env(pairs) => {
                for (k, v) in pairs {
                    s.config.set_env(k, v);
                }
                Ok(())
            }
            InstructionKind::Workdir(dir) => {
                let abs =
                    if dir.starts_with('/') { clean(dir) } else { clean(&format!("{}/{dir}", workdir(&s.config))) };
                std::fs::create_dir_all(s.rootfs().join(abs.trim_start_matches('/')))
                    .context(|| format!("WORKDIR {abs}"))?;
                s.config.working_dir = abs;
                Ok(())
            }
            InstructionKind::Label(pairs) => {
                s.config.labels.get_or_insert_with(Default::default).extend(pairs.iter().cloned());
                Ok(())
            }
            InstructionKind::Expose(ports) => {
                let exposed = s.config.exposed_ports.get_or_insert_with(Default::default);
                for p in ports {
                    let key = if p.contains('/') { p.clone() } else { format!("{p}/tcp") };
                    exposed.insert(key, Default::default());
                }
                Ok(())
            }
            InstructionKind::User(u) => {
                s.config.user = u.clone();
                Ok(())
            }
            InstructionKind::Arg { .. } | InstructionKind::StopSignal(_) | InstructionKind::Maintainer(_) => Ok(()),
        }
    }

    /// RUN: `/bin/sh -c …` (or the exec form) as a guest over the build rootfs. Each declared
    /// VOLUME is mounted as a throwaway copy, so its changes are discarded as in Docker.
    fn run_step(&self, s: &Stage, argv: &[String], progress: &mut dyn FnMut(&str)) -> Result<()> {
        let scratch = s.dir.join("run-volumes");
        let _ = std::fs::remove_dir_all(&scratch);
        let mut specs = Vec::new();
        for (i, v) in s.config.volume_paths().iter().enumerate() {
            let tmp = scratch.join(i.to_string());
            std::fs::create_dir_all(&tmp).context(|| "preparing a VOLUME for RUN".into())?;
            let in_rootfs = crate::run::resolve_in_rootfs(&s.rootfs(), v);
            crate::volumes::copy_up(&in_rootfs, &tmp).context(|| format!("copying {v}"))?;
            specs.push(MountSpec::dir(clean(v), open(&tmp)?, false));
        }
        let ns = Namespace::new(open(&s.rootfs())?, false, specs).map_err(|e| EngineError::Build(e.to_string()))?;
        let mut env = s.config.env.clone();
        if !env.iter().any(|e| e.starts_with("PATH=")) {
            env.push("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
        }
        env.push(format!("PWD={}", workdir(&s.config)));
        let program = self.program_for_build(&ns, &argv[0], &env)?;
        progress(&format!(" ---> Running in {}\n", porthole_store::random_id().short()));
        let out = Collect::default();
        let host = WasiHost::builder(ns).args(argv.iter().cloned()).stdio(Stdio {
            stdout: Box::new(out.clone()),
            stderr: Box::new(out.clone()),
            ..Stdio::default()
        });
        let host = env.iter().fold(host, |b, e| {
            let (k, v) = e.split_once('=').unwrap_or((e, ""));
            b.env(k, v)
        });
        let host = host.build().map_err(|e| EngineError::Runtime(e.to_string()))?;
        let runtime = self.inner.runtime.clone();
        let handle = std::thread::spawn(move || runtime.run(&program, host, &Limits::default()));
        // Stream the step's output while it runs.
        let mut shown = 0;
        let exit = loop {
            std::thread::sleep(std::time::Duration::from_millis(20));
            let text = out.text();
            if text.len() > shown {
                progress(&text[shown..]);
                shown = text.len();
            }
            if handle.is_finished() {
                let text = out.text();
                if text.len() > shown {
                    progress(&text[shown..]);
                }
                break handle.join().map_err(|_| EngineError::Runtime("RUN step panicked".into()))?;
            }
        };
        let _ = std::fs::remove_dir_all(&scratch);
        let code = match exit.map_err(|e| EngineError::Runtime(e.to_string()))? {
            Exit::Code(0) => return Ok(()),
            Exit::Code(c) => c,
            Exit::Stopped | Exit::OutOfMemory => 137,
            Exit::Trap(_) => 134,
        };
        let shown_cmd = if argv.len() == 3 && argv[0] == "/bin/sh" && argv[1] == "-c" {
            format!("/bin/sh -c {}", argv[2])
        } else {
            format!("{argv:?}")
        };
        Err(EngineError::Build(format!("The command '{shown_cmd}' returned a non-zero code: {code}")))
    }

    fn program_for_build(&self, ns: &Namespace, argv0: &str, env: &[String]) -> Result<porthole_runtime::Program> {
        self.program(ns, argv0, env).map_err(|(_, msg)| EngineError::Build(msg))
    }
}

fn open(p: &Path) -> Result<Dir> {
    Dir::open_ambient_dir(p, ambient_authority()).context(|| format!("opening {}", p.display()))
}

fn workdir(config: &ImageConfig) -> String {
    if config.working_dir.is_empty() { "/".into() } else { config.working_dir.clone() }
}

/// A path inside the build context; `..` that would leave it is refused.
fn context_path(context: &Path, rel: &str) -> Result<PathBuf> {
    let cleaned = clean(&format!("/{rel}"));
    let inside = Path::new(&cleaned).components().filter(|c| matches!(c, Component::Normal(_))).collect::<PathBuf>();
    if clean(rel).starts_with("..") {
        return Err(EngineError::Build(format!("forbidden path outside the build context: {rel}")));
    }
    Ok(context.join(inside))
}

/// COPY/ADD: files and directories from the context into the stage's rootfs.
fn copy_into(s: &Stage, context: &Path, sources: &[String], dest: &str) -> Result<()> {
    let dest_abs = if dest.starts_with('/') { dest.to_string() } else { format!("{}/{dest}", workdir(&s.config)) };
    let dest_is_dir = dest.ends_with('/') || sources.len() > 1;
    let target = s.rootfs().join(clean(&dest_abs).trim_start_matches('/'));
    for src in sources {
        let from = context_path(context, src)?;
        let md = std::fs::symlink_metadata(&from).map_err(|_| {
            EngineError::Build(format!("COPY failed: file not found in build context or excluded by .dockerignore: stat {src}: file does not exist"))
        })?;
        if md.is_dir() {
            std::fs::create_dir_all(&target).context(|| format!("creating {dest}"))?;
            copy_tree(&from, &target).context(|| format!("copying {src}"))?;
        } else {
            let file_target =
                if dest_is_dir || target.is_dir() { target.join(from.file_name().unwrap()) } else { target.clone() };
            if let Some(parent) = file_target.parent() {
                std::fs::create_dir_all(parent).context(|| format!("creating {}", parent.display()))?;
            }
            if md.is_symlink() {
                let _ = std::fs::remove_file(&file_target);
                std::os::unix::fs::symlink(std::fs::read_link(&from).context(|| src.clone())?, &file_target)
                    .context(|| src.clone())?;
            } else {
                std::fs::copy(&from, &file_target).context(|| format!("copying {src}"))?;
            }
        }
    }
    Ok(())
}
