//! `porthole lesson`: list the shipped lessons, validate a lesson file, play a lesson against a
//! running controller (narration, each command shown and run with the docker CLI, the
//! student's tasks waited for, every check asked of the controller), and reset what a lesson
//! created. The checks are the controller's (`/porthole/lessons/check`): this only talks.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use porthole_core::lesson::{self, Created, Lesson, Setup, Step, StepOutcome};
use porthole_engine::lessons::SHIPPED;

use crate::controller::Host;
use crate::demo;

#[derive(Debug, clap::Subcommand)]
pub enum LessonCommand {
    /// List the lessons shipped with Porthole.
    List,
    /// Validate a lesson file: the line and field of the first problem.
    Check { file: PathBuf },
    /// Play a lesson (a shipped name, or a file) against a running controller.
    Run(RunArgs),
    /// Remove what a lesson's commands created (by name), and its work directory.
    Reset(Target),
}

#[derive(Debug, clap::Args)]
pub struct Target {
    /// A shipped lesson's name (`porthole lesson list`) or a lesson file.
    pub lesson: String,
    /// The controller: `tcp://ADDR`, `unix:///PATH` or `ADDR` (default: DOCKER_HOST, else
    /// 127.0.0.1:2375).
    #[arg(long)]
    pub host: Option<String>,
    /// Where the lesson's files go (`{workdir}` in its commands); default: a directory named
    /// after the lesson in the system's temporary directory.
    #[arg(long)]
    pub workdir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: Target,
    /// Play every step without prompts (tasks run their solutions); stop at the first failure.
    #[arg(long)]
    pub auto: bool,
}

pub fn run(command: LessonCommand) -> anyhow::Result<std::process::ExitCode> {
    match command {
        LessonCommand::List => list(),
        LessonCommand::Check { file } => check_file(&file),
        LessonCommand::Run(args) => play(&args),
        LessonCommand::Reset(target) => reset(&target),
    }
}

fn list() -> anyhow::Result<std::process::ExitCode> {
    for l in SHIPPED {
        let lesson = porthole_engine::lessons::shipped(l.name)?;
        println!("{:<16} {} ({} steps)", l.name, lesson.title, lesson.steps.len());
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn check_file(file: &Path) -> anyhow::Result<std::process::ExitCode> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    match lesson::parse(&text) {
        Ok(l) => {
            println!("{}: ok, {} steps", file.display(), l.steps.len());
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            Ok(std::process::ExitCode::FAILURE)
        }
    }
}

/// A lesson file if `reference` names one, else the controller's shipped lesson of that name.
fn load(reference: &str, host: &Host) -> anyhow::Result<(String, Lesson)> {
    let path = Path::new(reference);
    if reference.ends_with(".toml") || path.is_file() {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {reference}"))?;
        let lesson = lesson::parse(&text).map_err(|e| anyhow::anyhow!("{reference}: {e}"))?;
        let name = path.file_stem().map_or_else(|| reference.to_string(), |s| s.to_string_lossy().into_owned());
        return Ok((name, lesson));
    }
    #[derive(serde::Deserialize)]
    struct Fetched {
        lesson: Lesson,
    }
    let fetched: Fetched = host.get(&format!("/porthole/lessons/{reference}"))?;
    Ok((reference.to_string(), fetched.lesson))
}

fn workdir(target: &Target, name: &str) -> PathBuf {
    target.workdir.clone().unwrap_or_else(|| std::env::temp_dir().join(format!("porthole-lesson-{name}")))
}

/// Terminal niceties: bold commands, green and red results, only on a terminal.
struct Style {
    colour: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }
}

struct Player<'a> {
    host: &'a Host,
    workdir: PathBuf,
    auto: bool,
    style: Style,
    input: std::io::StdinLock<'static>,
}

/// What the student answered at a prompt.
enum Answer {
    Go,
    Skip,
    Quit,
}

fn play(args: &RunArgs) -> anyhow::Result<std::process::ExitCode> {
    let host = Host::new(args.target.host.as_deref())?;
    let (name, lesson) = load(&args.target.lesson, &host)?;
    let mut p = Player {
        host: &host,
        workdir: workdir(&args.target, &name),
        auto: args.auto,
        style: Style { colour: std::io::stdout().is_terminal() },
        input: std::io::stdin().lock(),
    };
    println!("{}", p.style.paint("1", &format!("Lesson: {}", lesson.title)));
    println!("Goal: {}\n", lesson.goal);
    let total = lesson.steps.len();
    for (i, step) in lesson.steps.iter().enumerate() {
        println!("{}", p.style.paint("1;4", &format!("Step {}/{total}", i + 1)));
        if !p.step(i + 1, step)? {
            println!("\nThe lesson stopped at step {}/{total}.", i + 1);
            return Ok(std::process::ExitCode::FAILURE);
        }
        println!();
    }
    println!("{}", p.style.paint("1;32", &format!("Every check of the {total} steps passed.")));
    Ok(std::process::ExitCode::SUCCESS)
}

impl Player<'_> {
    /// Plays one step; whether all of its checks passed.
    fn step(&mut self, n: usize, step: &Step) -> anyhow::Result<bool> {
        println!("{}", step.narration.trim());
        if let Some(focus) = &step.focus {
            println!("  (dashboard: look at {focus})");
        }
        // Out of order: say which precondition is missing before anything runs.
        loop {
            let outcome = self.evaluate(step)?;
            let Some(missing) = outcome.missing_precondition() else { break };
            println!(
                "{}",
                self.style.paint(
                    "31",
                    &format!(
                        "Step {n} needs: {} — {}. {}",
                        missing.check,
                        missing.reason.as_deref().unwrap_or(""),
                        if n == 1 {
                            "Clean up first (`porthole lesson reset NAME` of the lessons played before)."
                        } else {
                            "Do the earlier steps first."
                        }
                    )
                )
            );
            if self.auto || !matches!(self.prompt("Enter checks again, q quits")?, Answer::Go) {
                return Ok(false);
            }
        }
        self.prepare(step)?;
        match &step.task {
            Some(task) if !self.auto => {
                println!("{} {}", self.style.paint("1", "Your task:"), task.trim());
                return self.until_checks_pass(step, "Enter when done (checks it), q quits");
            }
            Some(task) => println!("{} {}", self.style.paint("1", "Task (--auto runs its solution):"), task.trim()),
            None => {}
        }
        for command in step.commands() {
            let command = command.replace("{workdir}", &self.workdir.display().to_string());
            println!("{}", self.style.paint("1", &format!("$ {command}")));
            match if self.auto {
                Answer::Go
            } else {
                self.prompt("Enter runs it, s skips it (run it yourself), q quits")?
            } {
                Answer::Go => self.docker_shell(&command)?,
                Answer::Skip => continue,
                Answer::Quit => return Ok(false),
            }
        }
        self.until_checks_pass(step, "Enter checks again, q quits")
    }

    /// Checks the step; interactively, lets the student fix things and check again.
    fn until_checks_pass(&mut self, step: &Step, again: &str) -> anyhow::Result<bool> {
        loop {
            let outcome = self.evaluate(step)?;
            for c in &outcome.checks {
                println!("{}", self.style.paint(if c.passed { "32" } else { "31" }, &format!("  {c}")));
            }
            if outcome.checks.iter().all(|c| c.passed) {
                return Ok(true);
            }
            if self.auto || !matches!(self.prompt(again)?, Answer::Go) {
                return Ok(false);
            }
        }
    }

    fn evaluate(&self, step: &Step) -> anyhow::Result<StepOutcome> {
        self.host.post("/porthole/lessons/check", step)
    }

    fn prompt(&mut self, what: &str) -> anyhow::Result<Answer> {
        print!("  [{what}] ");
        std::io::stdout().flush()?;
        let mut line = String::new();
        if self.input.read_line(&mut line)? == 0 {
            println!();
            return Ok(Answer::Quit);
        }
        Ok(match line.trim() {
            "q" | "quit" => Answer::Quit,
            "s" | "skip" => Answer::Skip,
            _ => Answer::Go,
        })
    }

    /// Writes the step's files and makes its built-in preparations.
    fn prepare(&self, step: &Step) -> anyhow::Result<()> {
        for f in &step.files {
            let to = self.workdir.join(f.path.as_str());
            std::fs::create_dir_all(to.parent().unwrap_or(&self.workdir))?;
            std::fs::write(&to, f.text.trim_start()).with_context(|| format!("writing {}", to.display()))?;
            println!("  (wrote {})", to.display());
        }
        for setup in &step.setup {
            match setup {
                Setup::PulpImages => self.pulp_images()?,
                Setup::PulpUpstream => {
                    let repo = self.workdir.join("upstream").join("tools");
                    for (path, bytes) in demo::UPSTREAM {
                        let file = repo.join(path);
                        std::fs::create_dir_all(file.parent().unwrap_or(&repo))?;
                        std::fs::write(&file, bytes).with_context(|| format!("writing {}", file.display()))?;
                    }
                    println!("  (wrote the sample repository to {})", repo.display());
                }
            }
        }
        Ok(())
    }

    /// The Pulp images, built with the docker CLI from contexts holding the guests' bytes.
    fn pulp_images(&self) -> anyhow::Result<()> {
        for (tag, dockerfile, files) in demo::images() {
            if self.docker(&["image", "inspect", tag]).output()?.status.success() {
                println!("  (image {tag} exists)");
                continue;
            }
            let context = self.workdir.join("images").join(tag.replace('/', "_"));
            std::fs::create_dir_all(&context)?;
            std::fs::write(context.join("Dockerfile"), dockerfile)?;
            for (name, bytes) in files {
                std::fs::write(context.join(name), bytes)?;
            }
            let context = context.display().to_string();
            println!("{}", self.style.paint("1", &format!("$ docker build -q -t {tag} {context}")));
            let status = self.docker(&["build", "-q", "-t", tag, &context]).status()?;
            if !status.success() {
                bail!("building {tag} failed ({status})");
            }
        }
        Ok(())
    }

    /// `docker ARGS` pointed at the controller.
    fn docker(&self, args: &[&str]) -> Command {
        let mut c = Command::new("docker");
        c.args(args).stdin(Stdio::null());
        docker_env(&mut c, self.host);
        c
    }

    /// A command line of the lesson, through the host's shell (lessons use quotes and `$(…)`).
    fn docker_shell(&self, command: &str) -> anyhow::Result<()> {
        let mut c = Command::new("sh");
        c.arg("-c").arg(command).stdin(Stdio::null());
        docker_env(&mut c, self.host);
        let status = c.status().context("running sh")?;
        if !status.success() {
            // Some commands fail on purpose (a `volume rm` refused); the checks decide.
            println!("  (it exited with {})", status.code().map_or_else(|| status.to_string(), |c| c.to_string()));
        }
        Ok(())
    }
}

fn docker_env(c: &mut Command, host: &Host) {
    c.env("DOCKER_HOST", host.docker_host()).env("DOCKER_BUILDKIT", "0").env_remove("DOCKER_CONTEXT");
}

/// Removes the containers (with their anonymous volumes), volumes and images the lesson's
/// commands name, where they exist, and its work directory: nothing else.
fn reset(target: &Target) -> anyhow::Result<std::process::ExitCode> {
    let host = Host::new(target.host.as_deref())?;
    let (name, lesson) = load(&target.lesson, &host)?;
    let Created { containers, volumes, images } = lesson::created(&lesson);
    let docker = |args: &[&str]| -> anyhow::Result<std::process::Output> {
        let mut c = Command::new("docker");
        c.args(args).stdin(Stdio::null());
        docker_env(&mut c, &host);
        c.output().context("running docker")
    };
    // Only what exists is removed (`docker rm -f` of a missing name succeeds silently, so
    // asking first is also what makes the report true).
    let remove = |kind: &str, name: &str, rm: &[&str]| -> anyhow::Result<bool> {
        if !docker(&[kind, "inspect", name])?.status.success() {
            return Ok(true);
        }
        let out = docker(&[rm, &[name]].concat())?;
        if out.status.success() {
            println!("removed {kind} {name}");
        } else {
            eprint!("could not remove {kind} {name}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(out.status.success())
    };
    let mut failed = false;
    for c in &containers {
        failed |= !remove("container", c, &["rm", "-f", "-v"])?;
    }
    for v in &volumes {
        failed |= !remove("volume", v, &["volume", "rm"])?;
    }
    for i in &images {
        failed |= !remove("image", i, &["rmi"])?;
    }
    let dir = workdir(target, &name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        println!("removed {}", dir.display());
    }
    Ok(if failed { std::process::ExitCode::FAILURE } else { std::process::ExitCode::SUCCESS })
}
