//! `docker build` (the legacy builder's behaviour): parse the Dockerfile, start from the base
//! image or `scratch`, apply each instruction to a build rootfs (RUN runs `/bin/sh -c …` as a
//! guest), commit a content-addressed image and tag it. As in Docker, what a RUN writes under
//! a declared VOLUME is discarded.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cap_std::{ambient_authority, fs::Dir};
use porthole_core::config::ImageConfig;
use porthole_core::dockerfile::{self, Instruction, InstructionKind};
use porthole_core::event::EventType;
use porthole_core::guest_path::clean;
use porthole_runtime::{Exit, Limits};
use porthole_runtime::{GuestSpec, GuestTree, MountDesc, Node, RootDesc, Stdio};
use porthole_store::copy::{copy_file, copy_tree};

use crate::containers::find_image;
use crate::error::IoContext;
use crate::guestfs::GuestFs;
use crate::images::Collect;
use crate::{Engine, EngineError, Result};

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The unpacked build context.
    pub context: PathBuf,
    /// The Dockerfile's path inside the context (default `Dockerfile`).
    pub dockerfile: Option<String>,
    pub tags: Vec<String>,
    /// `--build-arg NAME=value`: replaces the default of the Dockerfile's `ARG NAME`.
    pub build_args: BTreeMap<String, String>,
}

/// Set when whoever asked for a build has gone away: the running `RUN` step is stopped and no
/// other step starts.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOutput {
    pub image_id: String,
}

/// State of a stage being built, or built and kept for `COPY --from` and `FROM <stage>`.
struct Stage {
    /// `FROM … AS name`, lower-cased.
    alias: Option<String>,
    dir: PathBuf,
    config: ImageConfig,
    parent: String,
    history: Vec<String>,
    cancel: CancelToken,
}

impl Stage {
    fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    /// The stage's rootfs for host-side access in its own path space.
    fn tree(&self) -> Result<GuestFs> {
        GuestFs::open(&self.rootfs()).context(|| "opening the build rootfs".into())
    }
}

impl Engine {
    /// Builds an image, reporting progress as the legacy builder prints it.
    pub fn build(&self, opts: BuildOptions, progress: &mut dyn FnMut(&str)) -> Result<BuildOutput> {
        self.build_cancellable(opts, &CancelToken::default(), progress)
    }

    /// [`Engine::build`], stopped (its running step too) when `cancel` is set.
    pub fn build_cancellable(
        &self,
        opts: BuildOptions,
        cancel: &CancelToken,
        progress: &mut dyn FnMut(&str),
    ) -> Result<BuildOutput> {
        let name = opts.dockerfile.clone().unwrap_or_else(|| "Dockerfile".into());
        let context = GuestFs::open(&opts.context).context(|| format!("opening {}", opts.context.display()))?;
        let text = read_dockerfile(&context, &name)
            .ok_or_else(|| EngineError::Build(format!("Cannot locate specified Dockerfile: {name}")))?;
        let parsed =
            dockerfile::parse_with_args(&text, &opts.build_args).map_err(|e| EngineError::Build(e.to_string()))?;
        let total = parsed.instructions.len();
        let mut stage: Option<Stage> = None;
        // Earlier stages of a multi-stage build, by index, until the build ends.
        let mut done: Vec<Stage> = Vec::new();
        let result = (|| -> Result<BuildOutput> {
            for (i, ins) in parsed.instructions.iter().enumerate() {
                if cancel.is_cancelled() {
                    return Err(EngineError::Build("build cancelled: the client went away".into()));
                }
                let source = text.lines().nth(ins.line.saturating_sub(1)).unwrap_or("").trim();
                progress(&format!("Step {}/{total} : {source}\n", i + 1));
                if let InstructionKind::From { image, alias } = &ins.kind {
                    done.extend(stage.take());
                    let mut s = self.start_stage(image, &done, cancel, progress)?;
                    s.alias = alias.clone();
                    progress(&format!(
                        " ---> {}\n",
                        if s.parent.is_empty() { "scratch".to_string() } else { s.parent[..12].to_string() }
                    ));
                    stage = Some(s);
                    continue;
                }
                // Before the first FROM only ARGs can come (the parser sees to it); they
                // matter to FROM lines alone, which the parser has substituted.
                let Some(s) = stage.as_mut() else { continue };
                self.apply(s, ins, &context, &done, progress)?;
                s.history.push(source.to_string());
            }
            let s = stage.take().expect("the parser requires FROM");
            let record = self.commit_image(&s.dir, s.config, &s.parent, s.history)?;
            let short = &record.id[..12];
            progress(&format!(" ---> {short}\n"));
            if !parsed.unused_args.is_empty() {
                progress(&format!(
                    "[Warning] One or more build-args [{}] were not consumed\n",
                    parsed.unused_args.join(" ")
                ));
            }
            progress(&format!("Successfully built {short}\n"));
            for tag in &opts.tags {
                self.tag(&record.id, tag)?;
                progress(&format!("Successfully tagged {}\n", crate::containers::normalize_tag(tag)));
            }
            self.emit(self.event(EventType::Image, "build", &record.id));
            Ok(BuildOutput { image_id: record.id })
        })();
        // Earlier stages (and the last, if the build failed) go to the trash: the client's
        // `docker build` does not wait for their deletion.
        for s in stage.into_iter().chain(done).filter(|s| s.dir.exists()) {
            let _ = self.inner.store.discard(&s.dir);
        }
        result
    }

    /// A stage from `image`: `scratch`, an earlier stage by name, or an image (pulled when it
    /// is not here, as the legacy builder does).
    fn start_stage(
        &self,
        image: &str,
        done: &[Stage],
        cancel: &CancelToken,
        progress: &mut dyn FnMut(&str),
    ) -> Result<Stage> {
        let cancel = cancel.clone();
        let dir =
            self.inner.store.root().join("images").join(format!(".build-{}", porthole_store::random_id().short()));
        std::fs::create_dir_all(dir.join("rootfs")).context(|| "creating the build directory".into())?;
        let empty = |config, parent, history| Stage {
            alias: None,
            dir: dir.clone(),
            config,
            parent,
            history,
            cancel: cancel.clone(),
        };
        if image == "scratch" {
            return Ok(empty(ImageConfig::default(), String::new(), Vec::new()));
        }
        if let Some(earlier) = done.iter().find(|s| s.alias.as_deref() == Some(&image.to_lowercase())) {
            copy_tree(&open(&earlier.rootfs())?, &open(&dir.join("rootfs"))?)
                .context(|| format!("copying stage {image}"))?;
            return Ok(empty(earlier.config.clone(), earlier.parent.clone(), earlier.history.clone()));
        }
        let local = || {
            let w = self.world();
            find_image(&w, image).cloned()
        };
        let base = match local() {
            Ok(b) => b,
            Err(_) => match self.pull_base(image, progress).and_then(|()| local()) {
                Ok(b) => b,
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&dir);
                    return Err(e);
                }
            },
        };
        let from = open(&crate::images::single_layer(&self.inner.store, &base)?)?;
        copy_tree(&from, &open(&dir.join("rootfs"))?).context(|| format!("copying {image}"))?;
        Ok(empty(base.config.clone(), base.id.clone(), base.history.clone()))
    }

    /// `FROM` an image that is not here: pulled anonymously, its progress printed as the
    /// legacy builder prints it (`latest: Pulling from library/busybox`, …).
    fn pull_base(&self, image: &str, progress: &mut dyn FnMut(&str)) -> Result<()> {
        let reference = porthole_registry::Reference::docker(image).map_err(|e| EngineError::Build(e.to_string()))?;
        self.pull(&reference, &porthole_registry::Credentials::default(), &mut |p| {
            let id = p.id().map(|id| format!("{id}: ")).unwrap_or_default();
            progress(&format!("{id}{}\n", p.status()));
        })
    }

    /// What `COPY --from=<from>` reads: an earlier stage (by index or name) or an image.
    fn copy_source(&self, from: &str, done: &[Stage]) -> Result<GuestFs> {
        let rootfs = if let Ok(index) = from.parse::<usize>() {
            let stage = done.get(index).ok_or_else(|| {
                EngineError::Build(format!("invalid from flag value {from}: stage index out of range"))
            })?;
            stage.rootfs()
        } else if let Some(stage) = done.iter().find(|s| s.alias.as_deref() == Some(from)) {
            stage.rootfs()
        } else {
            let image = {
                let w = self.world();
                find_image(&w, from).cloned()
            };
            // Unlike `FROM`, `COPY --from` does not pull (Docker's legacy builder would): the
            // image must be here, and the refusal says so.
            let image = image.map_err(|_| {
                EngineError::Build(format!(
                    "invalid from flag value {from}: no build stage and no local image by that name (COPY --from does not pull in Porthole)"
                ))
            })?;
            crate::images::single_layer(&self.inner.store, &image)?
        };
        GuestFs::open(&rootfs).context(|| format!("opening {from}"))
    }

    fn apply(
        &self,
        s: &mut Stage,
        ins: &Instruction,
        context: &GuestFs,
        done: &[Stage],
        progress: &mut dyn FnMut(&str),
    ) -> Result<()> {
        let shell = s.config.shell.clone();
        match &ins.kind {
            InstructionKind::From { .. } => unreachable!("handled by build"),
            InstructionKind::Copy { sources, dest, from: Some(from) } => {
                copy_into(s, &self.copy_source(from, done)?, sources, dest)
            }
            InstructionKind::Copy { sources, dest, from: None } | InstructionKind::Add { sources, dest } => {
                copy_into(s, context, sources, dest)
            }
            InstructionKind::Run(form) => self.run_step(s, &form.to_argv_with(shell.as_deref()), &ins.args, progress),
            InstructionKind::Cmd(form) => {
                s.config.cmd = Some(form.to_argv_with(shell.as_deref()));
                Ok(())
            }
            InstructionKind::Shell(argv) => {
                s.config.shell = Some(argv.clone());
                Ok(())
            }
            InstructionKind::Healthcheck(check) => {
                if let Some(old) = s.config.healthcheck.as_ref().filter(|h| h.test.first().is_some_and(|t| t != "NONE"))
                {
                    progress(&format!("Note: overriding previous HEALTHCHECK: [{}]\n", old.test.join(" ")));
                }
                s.config.healthcheck = Some(check.clone());
                Ok(())
            }
            InstructionKind::Entrypoint(form) => {
                s.config.entrypoint = Some(form.to_argv_with(shell.as_deref()));
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
                s.tree()?.create_dir_all(&abs).context(|| format!("WORKDIR {abs}"))?;
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
    fn run_step(
        &self,
        s: &Stage,
        argv: &[String],
        args: &[(String, String)],
        progress: &mut dyn FnMut(&str),
    ) -> Result<()> {
        if argv.is_empty() {
            return Err(EngineError::Build("RUN requires at least one argument".into()));
        }
        let scratch = s.dir.join("run-volumes");
        let _ = std::fs::remove_dir_all(&scratch);
        let mut specs = Vec::new();
        let tree = s.tree()?;
        for (i, v) in s.config.volume_paths().iter().enumerate() {
            let tmp = scratch.join(i.to_string());
            std::fs::create_dir_all(&tmp).context(|| "preparing a VOLUME for RUN".into())?;
            crate::volumes::fill_from_image(&tree, v, &tmp).context(|| format!("copying {v}"))?;
            specs.push(MountDesc::dir(clean(v), open(&tmp)?, false));
        }
        crate::run::device_mounts(&s.dir, &mut specs)?;
        let root = RootDesc { dir: open(&s.rootfs())?, lowers: Vec::new(), read_only: false, quota: None };
        let guest_tree = GuestTree::new(root, specs).map_err(|e| EngineError::Build(e.to_string()))?;
        // The build arguments in scope, unless an ENV of the same name overrides them.
        let mut env: Vec<String> = args
            .iter()
            .filter(|(k, _)| !s.config.env.iter().any(|e| e.split('=').next() == Some(k)))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        env.extend(s.config.env.iter().cloned());
        if !env.iter().any(|e| e.starts_with("PATH=")) {
            env.push("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
        }
        env.push(format!("PWD={}", workdir(&s.config)));
        let (program, launched) = self.launch(&guest_tree, argv, &env).map_err(|(_, msg)| EngineError::Build(msg))?;
        progress(&format!(" ---> Running in {}\n", porthole_store::random_id().short()));
        let out = Collect::default();
        let stopper = self.inner.runtime.stopper();
        let guest = GuestSpec {
            args: launched,
            env,
            stdio: Stdio { stdout: Box::new(out.clone()), stderr: Box::new(out.clone()), ..Stdio::default() },
            stopper: Some(stopper.clone()),
            fd_budget: Some(self.inner.fd_budget.clone()),
            // A RUN step's shell runs programs as processes too (ended with the step).
            processes: Some(self.process_table(&Limits::default(), None, None)),
            ..GuestSpec::new(guest_tree)
        }
        .prepare()
        .map_err(EngineError::PrepareGuest)?;
        let runtime = self.inner.runtime.clone();
        let handle = std::thread::spawn(move || runtime.run(&program, guest, &Limits::default()));
        // Stream the step's output while it runs.
        let mut shown = 0;
        let exit = loop {
            std::thread::sleep(std::time::Duration::from_millis(20));
            if s.cancel.is_cancelled() {
                stopper.stop();
            }
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
                break handle.join().map_err(|_| EngineError::Panicked("the RUN step"))?;
            }
        };
        let _ = std::fs::remove_dir_all(&scratch);
        if s.cancel.is_cancelled() {
            return Err(EngineError::Build("build cancelled: the client went away".into()));
        }
        let code = match exit? {
            Exit::Code(0) => return Ok(()),
            other => other.status(),
        };
        let shown_cmd = if argv.len() == 3 && argv[0] == "/bin/sh" && argv[1] == "-c" {
            format!("/bin/sh -c {}", argv[2])
        } else {
            format!("{argv:?}")
        };
        Err(EngineError::Build(format!("The command '{shown_cmd}' returned a non-zero code: {code}")))
    }
}

fn open(p: &Path) -> Result<Dir> {
    Dir::open_ambient_dir(p, ambient_authority()).context(|| format!("opening {}", p.display()))
}

fn workdir(config: &ImageConfig) -> String {
    if config.working_dir.is_empty() { "/".into() } else { config.working_dir.clone() }
}

/// A path named in the Dockerfile inside the build context: `..` that would leave it is refused.
fn check_inside(rel: &str) -> Result<()> {
    if clean(rel).starts_with("..") {
        return Err(EngineError::Build(format!("forbidden path outside the build context: {rel}")));
    }
    Ok(())
}

/// The Dockerfile, found in the context as any source is (links resolved inside it).
fn read_dockerfile(context: &GuestFs, name: &str) -> Option<String> {
    check_inside(name).ok()?;
    let r = context.resolve(name, true).ok().filter(|r| r.node == Node::File)?;
    let mut text = String::new();
    context.open_file(&r).ok()?.into_std().read_to_string(&mut text).ok()?;
    Some(text)
}

/// COPY/ADD: files and directories from the context into the stage's rootfs. Sources are
/// resolved inside the context (a link's absolute target starts at the context's root, `..`
/// stops there), as Docker's builder does; destinations in the stage's path space, as the
/// guest would see them. Nothing is followed on the host.
fn copy_into(s: &Stage, context: &GuestFs, sources: &[String], dest: &str) -> Result<()> {
    let dest_abs = if dest.starts_with('/') { dest.to_string() } else { format!("{}/{dest}", workdir(&s.config)) };
    let dest_abs = clean(&dest_abs);
    let dest_is_dir = dest.ends_with('/') || sources.len() > 1;
    let rootfs = s.tree()?;
    let creating = |path: &str| rootfs.create_dir_all(path).context(|| format!("creating {path}"));
    for src in sources {
        check_inside(src)?;
        let from = context.resolve(src, true).ok().filter(|r| matches!(r.node, Node::Dir | Node::File)).ok_or_else(
            || {
                EngineError::Build(format!(
                    "COPY failed: file not found in build context or excluded by .dockerignore: stat {src}: file does not exist"
                ))
            },
        )?;
        let reading = |e| EngineError::Io { context: format!("copying {src}"), source: e };
        if from.node == Node::Dir {
            let to = creating(&dest_abs)?;
            let (from, to) = (context.open_dir(&from).map_err(reading)?, rootfs.open_dir(&to).map_err(reading)?);
            copy_tree(&from, &to).map_err(reading)?;
            continue;
        }
        // A file keeps its own name when copied into a directory.
        let into_dir = dest_is_dir || rootfs.resolve(&dest_abs, true).is_ok_and(|r| r.node == Node::Dir);
        let target = if into_dir {
            let dir = creating(&dest_abs)?;
            let name = clean(src).rsplit('/').next().unwrap_or_default().to_string();
            rootfs.resolve_from_dir(&dir, &name)
        } else {
            let (parent, name) = dest_abs.rsplit_once('/').unwrap_or(("", &dest_abs));
            let dir = creating(if parent.is_empty() { "/" } else { parent })?;
            rootfs.resolve_from_dir(&dir, name)
        };
        let target = target.context(|| format!("copying {src} to {dest}"))?;
        if target.node == Node::Dir {
            return Err(EngineError::Build(format!("cannot copy to {dest}: {} is a directory", target.path)));
        }
        let (src_dir, src_name) = context.open_parent(&from).map_err(reading)?;
        let (dst_dir, dst_name) = rootfs.open_parent(&target).map_err(reading)?;
        copy_file(&src_dir, &src_name, &dst_dir, &dst_name).map_err(reading)?;
    }
    Ok(())
}
