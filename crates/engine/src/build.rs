//! `docker build` (the legacy builder's behaviour): parse the Dockerfile, start from an image
//! or `scratch`, and commit an image for every step, as moby's classic builder does. A step
//! runs on its stage's image: the image's layers, read-only, under a fresh writable layer
//! (RUN runs its guest over that overlay; COPY, ADD and WORKDIR write into it through the
//! overlay's rules). What the step wrote becomes a new layer of the step's image (untagged,
//! its parent the previous step's, listed by `docker images -a`); a step that wrote nothing,
//! and every metadata step (ENV, CMD, LABEL, …), makes an image without a new layer. Before a
//! step runs, the build cache looks for an image of the same parent, config and recorded
//! step (`step_text`), and uses it instead (` ---> Using cache`). As in Docker, what a RUN
//! writes under a declared VOLUME is discarded.

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
use porthole_store::HistoryEntry;
use porthole_store::copy::copy_file;
use sha2::{Digest, Sha256};

use crate::containers::{find_image, lower_dirs};
use crate::error::IoContext;
use crate::guestfs::GuestFs;
use crate::images::{Base, Collect};
use crate::step_text;
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
    /// `--no-cache`: every step runs, none is taken from an earlier build.
    pub no_cache: bool,
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

/// A stage: the image its last step made (for `COPY --from` and `FROM <stage>` once done).
struct Stage {
    /// `FROM … AS name`, lower-cased.
    alias: Option<String>,
    base: Base,
    /// Set at the first step the cache misses: as in moby, no later step of the stage is
    /// looked up.
    busted: bool,
}

/// What the whole build shares: its work directory (`images/.build-<id>`: each step's
/// writable layer until it is stored, the RUN scratch), the cache switch and the token.
struct Build<'a> {
    work: PathBuf,
    cache: bool,
    cancel: &'a CancelToken,
    context: &'a GuestFs,
    /// The images this build has held (`Engine::hold_image`), let go when it ends.
    held: std::cell::RefCell<Vec<String>>,
}

impl Build<'_> {
    /// Notes that `base`'s image was held for this build (by the lookup that found or made
    /// it), to let go when the build ends.
    fn held(&self, base: Base) -> Base {
        if !base.id.is_empty() {
            self.held.borrow_mut().push(base.id.clone());
        }
        base
    }

    /// A fresh, empty directory in the work directory.
    fn fresh(&self, what: &str) -> Result<PathBuf> {
        let dir = self.work.join(format!("{what}-{}", porthole_store::random_id().short()));
        std::fs::create_dir(&dir).context(|| format!("creating {}", dir.display()))?;
        Ok(dir)
    }
}

/// What a step does besides changing the config.
enum Action<'a> {
    /// Metadata only: no container, no layer.
    Meta,
    Workdir(String),
    Copy {
        source: Source,
        sources: &'a [String],
        dest: &'a str,
    },
    Run {
        argv: Vec<String>,
        args: &'a [(String, String)],
    },
}

/// Where COPY reads: the context, or an image's merged files (`--from`).
enum Source {
    Context,
    Image(Box<Base>),
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
        let work =
            self.inner.store.root().join("images").join(format!(".build-{}", porthole_store::random_id().short()));
        std::fs::create_dir_all(&work).context(|| "creating the build directory".into())?;
        let b = Build { work, cache: !opts.no_cache, cancel, context: &context, held: Default::default() };
        let mut stage: Option<Stage> = None;
        // Earlier stages of a multi-stage build, by index.
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
                    let base = b.held(self.stage_base(image, &done, progress)?);
                    let shown = if base.id.is_empty() { "scratch".to_string() } else { base.id[..12].to_string() };
                    progress(&format!(" ---> {shown}\n"));
                    stage = Some(Stage { alias: alias.clone(), base, busted: false });
                    continue;
                }
                // Before the first FROM only ARGs can come (the parser sees to it); they
                // matter to FROM lines alone, which the parser has substituted.
                let Some(s) = stage.as_mut() else { continue };
                self.step(&b, s, ins, &done, progress)?;
                progress(&format!(" ---> {}\n", &s.base.id[..12]));
            }
            let s = stage.take().expect("the parser requires FROM");
            if s.base.id.is_empty() {
                return Err(EngineError::Build("No image was generated. Is your Dockerfile empty?".into()));
            }
            let id = s.base.id;
            let short = &id[..12];
            if !parsed.unused_args.is_empty() {
                progress(&format!(
                    "[Warning] One or more build-args [{}] were not consumed\n",
                    parsed.unused_args.join(" ")
                ));
            }
            progress(&format!("Successfully built {short}\n"));
            for tag in &opts.tags {
                self.tag(&id, tag)?;
                progress(&format!("Successfully tagged {}\n", crate::containers::normalize_tag(tag)));
            }
            self.emit(self.event(EventType::Image, "build", &id));
            Ok(BuildOutput { image_id: id })
        })();
        // The work directory goes to the trash: the client's `docker build` does not wait
        // for its deletion (every finished step's layer has been moved out of it).
        let _ = self.inner.store.discard(&b.work);
        self.release_images(&b.held.borrow());
        result
    }

    /// What a stage starts from: `scratch`, an earlier stage by name, or an image (pulled when
    /// it is not here, as the legacy builder does).
    fn stage_base(&self, image: &str, done: &[Stage], progress: &mut dyn FnMut(&str)) -> Result<Base> {
        if image == "scratch" {
            return Ok(Base::default());
        }
        if let Some(earlier) = done.iter().find(|s| s.alias.as_deref() == Some(&image.to_lowercase())) {
            return Ok(earlier.base.clone());
        }
        let local = || {
            let mut w = self.world();
            let found = find_image(&w, image).map(Base::from);
            if let Ok(base) = &found {
                crate::image_remove::hold(&mut w, &base.id);
            }
            found
        };
        match local() {
            Ok(base) => Ok(base),
            Err(_) => self.pull_base(image, progress).and_then(|()| local()),
        }
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
    fn copy_source(&self, from: &str, done: &[Stage]) -> Result<Base> {
        if let Ok(index) = from.parse::<usize>() {
            let stage = done.get(index).ok_or_else(|| {
                EngineError::Build(format!("invalid from flag value {from}: stage index out of range"))
            })?;
            return Ok(stage.base.clone());
        }
        if let Some(stage) = done.iter().find(|s| s.alias.as_deref() == Some(from)) {
            return Ok(stage.base.clone());
        }
        // Unlike `FROM`, `COPY --from` does not pull (Docker's legacy builder would): the
        // image must be here, and the refusal says so.
        let w = self.world();
        find_image(&w, from).map(Base::from).map_err(|_| {
            EngineError::Build(format!(
                "invalid from flag value {from}: no build stage and no local image by that name (COPY --from does not pull in Porthole)"
            ))
        })
    }

    /// The files of `base` as its containers see them, for reading (`COPY --from`, the digest
    /// of its sources): its layers under an empty directory no one writes to.
    fn image_view(&self, b: &Build, base: &Base) -> Result<GuestFs> {
        let empty = b.fresh("view")?;
        GuestFs::layered(&empty, &lower_dirs(&self.inner.store, &base.layers)).context(|| "opening an image".into())
    }

    /// One step: its config and recorded text, then the cache, then the work and the commit.
    fn step(
        &self,
        b: &Build,
        s: &mut Stage,
        ins: &Instruction,
        done: &[Stage],
        progress: &mut dyn FnMut(&str),
    ) -> Result<()> {
        let mut config = s.base.config.clone();
        let (action, comment) = self.plan(&mut config, ins, done, progress)?;
        if let Action::Copy { source: Source::Image(base), .. } = &action {
            self.hold_existing(b, &base.id)?;
        }
        let created_by = match &action {
            Action::Meta => step_text::nop(&config, &comment),
            Action::Workdir(dir) => step_text::nop_string(&config, &format!("WORKDIR {dir}")),
            Action::Copy { source, sources, dest } => {
                let hash = match source {
                    Source::Context => sources_hash(b.context, sources)?,
                    Source::Image(base) => sources_hash(&self.image_view(b, base)?, sources)?,
                };
                step_text::copy(&config, &comment, &hash, dest)
            }
            Action::Run { argv, args } => step_text::run(argv, &run_args(&config, args)),
        };
        if b.cache && !s.busted {
            if let Some(hit) = self.cached(&s.base.id, &created_by, &config) {
                progress(" ---> Using cache\n");
                s.base = b.held(hit);
                return Ok(());
            }
            s.busted = true;
        }
        let entry = HistoryEntry { created_by, ..Default::default() };
        // The step's writable layer exists before the step is announced.
        let upper = match action {
            Action::Meta => None,
            _ => Some(b.fresh("layer")?),
        };
        // Docker runs every step but COPY and ADD in a container of its own.
        let container =
            (!matches!(action, Action::Copy { .. })).then(|| porthole_store::random_id().short().to_string());
        if let Some(c) = &container {
            progress(&format!(" ---> Running in {c}\n"));
        }
        match (action, upper.as_deref()) {
            (Action::Workdir(dir), Some(upper)) => {
                self.step_fs(upper, &s.base)?.create_dir_all(&dir).context(|| format!("WORKDIR {dir}"))?;
            }
            (Action::Copy { source, sources, dest }, Some(upper)) => {
                let fs = self.step_fs(upper, &s.base)?;
                match source {
                    Source::Context => copy_into(&fs, &config, b.context, sources, dest)?,
                    Source::Image(base) => copy_into(&fs, &config, &self.image_view(b, &base)?, sources, dest)?,
                }
            }
            (Action::Run { argv, args }, Some(upper)) => self.run_step(b, upper, &s.base, &argv, args, progress)?,
            _ => {}
        }
        if let Some(c) = &container {
            progress(&format!(" ---> Removed intermediate container {c}\n"));
        }
        let record = self.commit_step(&s.base, config, vec![entry], upper.as_deref(), true)?;
        s.base = b.held(Base::from(&record));
        Ok(())
    }

    /// Holds the image `id` a step reads (`COPY --from`) for the rest of the build, if it is
    /// still there.
    fn hold_existing(&self, b: &Build, id: &str) -> Result<()> {
        let mut w = self.world();
        if !id.is_empty() && !w.images.contains_key(id) {
            return Err(EngineError::NoSuchImage(id.to_string()));
        }
        crate::image_remove::hold(&mut w, id);
        drop(w);
        b.held(Base { id: id.to_string(), ..Default::default() });
        Ok(())
    }

    /// The step's writable layer `upper` over `base`'s layers, as the guest sees the stage.
    fn step_fs(&self, upper: &Path, base: &Base) -> Result<GuestFs> {
        GuestFs::layered(upper, &lower_dirs(&self.inner.store, &base.layers))
            .context(|| "opening the build stage".into())
    }

    /// The image an earlier build made of this very step: same parent, same recorded step,
    /// same resulting config (moby's `GetCache`); the newest if several.
    fn cached(&self, parent: &str, created_by: &str, config: &ImageConfig) -> Option<Base> {
        let mut w = self.world();
        let hit = w
            .images
            .values()
            .filter(|i| {
                i.parent == parent
                    && i.history.last().is_some_and(|h| h.created_by == created_by)
                    && i.config == *config
            })
            .max_by_key(|i| i.created)
            .map(Base::from)?;
        crate::image_remove::hold(&mut w, &hit.id);
        Some(hit)
    }

    /// Applies a metadata instruction to `config` alone (`docker commit --change`: WORKDIR
    /// makes no directory there, as in moby).
    pub(crate) fn plan_config(&self, config: &mut ImageConfig, ins: &Instruction) -> Result<()> {
        self.plan(config, ins, &[], &mut |_| {}).map(|_| ())
    }

    /// Applies a step's change to `config` and says what else it does, with the comment
    /// moby records for it (the instruction as its dispatcher writes it).
    fn plan<'a>(
        &self,
        config: &mut ImageConfig,
        ins: &'a Instruction,
        done: &[Stage],
        progress: &mut dyn FnMut(&str),
    ) -> Result<(Action<'a>, String)> {
        let shell = config.shell.clone();
        let meta = |comment: String| Ok((Action::Meta, comment));
        match &ins.kind {
            InstructionKind::From { .. } => unreachable!("handled by build"),
            InstructionKind::Copy { sources, dest, from } => {
                let source = match from {
                    Some(from) => Source::Image(Box::new(self.copy_source(from, done)?)),
                    None => Source::Context,
                };
                Ok((Action::Copy { source, sources, dest }, "COPY".into()))
            }
            InstructionKind::Add { sources, dest } => {
                Ok((Action::Copy { source: Source::Context, sources, dest }, "ADD".into()))
            }
            InstructionKind::Run(form) => {
                let argv = form.to_argv_with(shell.as_deref());
                if argv.is_empty() {
                    return Err(EngineError::Build("RUN requires at least one argument".into()));
                }
                Ok((Action::Run { argv, args: &ins.args }, String::new()))
            }
            InstructionKind::Cmd(form) => {
                let cmd = form.to_argv_with(shell.as_deref());
                config.cmd = Some(cmd.clone());
                meta(format!("CMD {}", step_text::go_quoted_list(&cmd)))
            }
            InstructionKind::Shell(argv) => {
                config.shell = Some(argv.clone());
                meta(format!("SHELL {}", step_text::go_list(argv)))
            }
            InstructionKind::Healthcheck(check) => {
                if let Some(old) = config.healthcheck.as_ref().filter(|h| h.test.first().is_some_and(|t| t != "NONE")) {
                    progress(&format!("Note: overriding previous HEALTHCHECK: [{}]\n", old.test.join(" ")));
                }
                config.healthcheck = Some(check.clone());
                meta(format!("HEALTHCHECK {}", step_text::healthcheck(check)))
            }
            InstructionKind::Entrypoint(form) => {
                let entrypoint = form.to_argv_with(shell.as_deref());
                config.entrypoint = Some(entrypoint.clone());
                // Docker resets an inherited CMD when the entrypoint changes.
                config.cmd = None;
                meta(format!("ENTRYPOINT {}", step_text::go_quoted_list(&entrypoint)))
            }
            InstructionKind::Volume(paths) => {
                let volumes = config.volumes.get_or_insert_with(Default::default);
                for p in paths {
                    volumes.insert(p.clone(), Default::default());
                }
                meta(format!("VOLUME {}", step_text::go_list(paths)))
            }
            InstructionKind::Env(pairs) => {
                for (k, v) in pairs {
                    config.set_env(k, v);
                }
                let words: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                meta(format!("ENV {}", words.join(" ")))
            }
            InstructionKind::Workdir(dir) => {
                let abs = if dir.starts_with('/') { clean(dir) } else { clean(&format!("{}/{dir}", workdir(config))) };
                config.working_dir = abs.clone();
                Ok((Action::Workdir(abs), String::new()))
            }
            InstructionKind::Label(pairs) => {
                config.labels.get_or_insert_with(Default::default).extend(pairs.iter().cloned());
                let words: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                meta(format!("LABEL {}", words.join(" ")))
            }
            InstructionKind::Expose(ports) => {
                let exposed = config.exposed_ports.get_or_insert_with(Default::default);
                for p in ports {
                    let key = if p.contains('/') { p.clone() } else { format!("{p}/tcp") };
                    exposed.insert(key, Default::default());
                }
                meta(format!("EXPOSE {}", ports.join(" ")))
            }
            InstructionKind::User(u) => {
                config.user = u.clone();
                meta(format!("USER {u}"))
            }
            InstructionKind::Arg { name, default } => match default {
                Some(v) => meta(format!("ARG {name}={v}")),
                None => meta(format!("ARG {name}")),
            },
            InstructionKind::StopSignal(signal) => meta(format!("STOPSIGNAL {signal}")),
            InstructionKind::Maintainer(who) => meta(format!("MAINTAINER {who}")),
        }
    }

    /// RUN: `/bin/sh -c …` (or the exec form) as a guest over `base`'s layers with `upper`
    /// writable on top. Each declared VOLUME is mounted as a throwaway copy, so its changes
    /// are discarded as in Docker.
    fn run_step(
        &self,
        b: &Build,
        upper: &Path,
        base: &Base,
        argv: &[String],
        args: &[(String, String)],
        progress: &mut dyn FnMut(&str),
    ) -> Result<()> {
        let config = &base.config;
        let scratch = b.fresh("run")?;
        let mut specs = Vec::new();
        let tree = self.step_fs(upper, base)?;
        for (i, v) in config.volume_paths().iter().enumerate() {
            let tmp = scratch.join(i.to_string());
            std::fs::create_dir_all(&tmp).context(|| "preparing a VOLUME for RUN".into())?;
            crate::volumes::fill_from_image(&tree, v, &tmp).context(|| format!("copying {v}"))?;
            specs.push(MountDesc::dir(clean(v), open(&tmp)?, false));
        }
        crate::run::device_mounts(&scratch, &mut specs)?;
        let lowers = lower_dirs(&self.inner.store, &base.layers).iter().map(|p| open(p)).collect::<Result<Vec<_>>>()?;
        let root = RootDesc { dir: open(upper)?, lowers, read_only: false, quota: None };
        let guest_tree = GuestTree::new(root, specs).map_err(|e| EngineError::Build(e.to_string()))?;
        let mut env: Vec<String> = run_args(config, args).iter().map(|(k, v)| format!("{k}={v}")).collect();
        env.extend(config.env.iter().cloned());
        if !env.iter().any(|e| e.starts_with("PATH=")) {
            env.push("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
        }
        env.push(format!("PWD={}", workdir(config)));
        let (program, launched) = self.launch(&guest_tree, argv, &env).map_err(|(_, msg)| EngineError::Build(msg))?;
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
            if b.cancel.is_cancelled() {
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
        let _ = self.inner.store.discard(&scratch);
        if b.cancel.is_cancelled() {
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

/// The build arguments a RUN step's command sees: those in scope, unless an ENV of the same
/// name overrides them.
fn run_args(config: &ImageConfig, args: &[(String, String)]) -> Vec<(String, String)> {
    args.iter().filter(|(k, _)| !config.env.iter().any(|e| e.split('=').next() == Some(k))).cloned().collect()
}

/// The sources a COPY names, found in `from` (links resolved inside it, `..` refused).
fn find_sources(from: &GuestFs, sources: &[String]) -> Result<Vec<porthole_runtime::Resolved>> {
    sources
        .iter()
        .map(|src| {
            check_inside(src)?;
            from.resolve(src, true).ok().filter(|r| matches!(r.node, Node::Dir | Node::File)).ok_or_else(|| {
                EngineError::Build(format!(
                    "COPY failed: file not found in build context or excluded by .dockerignore: stat {src}: file does not exist"
                ))
            })
        })
        .collect()
}

/// What the cache knows a COPY's sources by, as moby names them: `file:<sha256>` or
/// `dir:<sha256>` for one source, `multi:<sha256>` of those for several. Content and modes
/// count, times do not.
fn sources_hash(from: &GuestFs, sources: &[String]) -> Result<String> {
    let hashes = find_sources(from, sources)?
        .iter()
        .map(|r| {
            let mut hasher = Sha256::new();
            from.digest(r, &mut hasher).context(|| format!("reading {}", r.path))?;
            let kind = if r.node == Node::Dir { "dir" } else { "file" };
            Ok(format!("{kind}:{}", hex(&hasher.finalize())))
        })
        .collect::<Result<Vec<String>>>()?;
    Ok(match hashes.as_slice() {
        [one] => one.clone(),
        many => format!("multi:{}", hex(&Sha256::digest(many.join(",").as_bytes()))),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// COPY/ADD: files and directories from `from` (the context, or an image's files) into the
/// step's tree. Sources are resolved inside `from` (a link's absolute target starts at its
/// root, `..` stops there), as Docker's builder does; destinations in the stage's path space,
/// as the guest would see them, and written into the step's writable layer. Nothing is
/// followed on the host.
fn copy_into(rootfs: &GuestFs, config: &ImageConfig, from: &GuestFs, sources: &[String], dest: &str) -> Result<()> {
    let dest_abs = if dest.starts_with('/') { dest.to_string() } else { format!("{}/{dest}", workdir(config)) };
    let dest_abs = clean(&dest_abs);
    let dest_is_dir = dest.ends_with('/') || sources.len() > 1;
    let creating = |path: &str| rootfs.create_dir_all(path).context(|| format!("creating {path}"));
    for (src, found) in sources.iter().zip(find_sources(from, sources)?) {
        let reading = |e| EngineError::Io { context: format!("copying {src}"), source: e };
        if found.node == Node::Dir {
            let to = creating(&dest_abs)?;
            let to = rootfs.open_dir_for_write(&to).map_err(reading)?;
            from.copy_dir(&found, &to).map_err(reading)?;
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
        let (src_dir, src_name) = from.open_parent_for_read(&found).map_err(reading)?;
        let (dst_dir, dst_name) = rootfs.open_parent(&target).map_err(reading)?;
        copy_file(&src_dir, &src_name, &dst_dir, &dst_name).map_err(reading)?;
    }
    Ok(())
}
