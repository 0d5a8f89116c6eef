//! Running a container's `HEALTHCHECK`: a thread per running container with a check probes it
//! by its schedule — an exec of the check's command with the check's timeout — and records each
//! result in the container's `Health` (`core::health` decides the status). It ends when the
//! container stops or is removed.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use porthole_core::event::EventType;
use porthole_core::health::{Healthcheck, Probe};
use porthole_core::names::Id;

use crate::{Engine, ExecOptions};

/// Starts watching container `id` for its run number `exits` (its count of exits at start).
pub(crate) fn watch(engine: Engine, id: Id, exits: u64, check: Healthcheck) {
    let name = format!("health-{}", id.short());
    let spawned = std::thread::Builder::new().name(name.clone()).spawn(move || probe_loop(&engine, &id, exits, &check));
    if let Err(e) = spawned {
        eprintln!("porthole: no health checks ({name}): {e}");
    }
}

fn probe_loop(engine: &Engine, id: &Id, exits: u64, check: &Healthcheck) {
    let started = Instant::now();
    let argv = check.probe_argv().expect("watch is called with a command");
    let start_period = Duration::from_nanos(check.start_period.max(0) as u64);
    loop {
        let starting = engine.health_of(id).is_some_and(|h| h.status == porthole_core::health::HealthStatus::Starting);
        // While still starting within the start period, probe at the (shorter) start interval.
        let wait = if starting && started.elapsed() < start_period && check.start_period > 0 {
            check.start_interval()
        } else {
            check.interval()
        };
        if !sleep_while_running(engine, id, exits, Duration::from_nanos(wait as u64)) {
            return;
        }
        if engine.is_paused(id) {
            continue;
        }
        let in_start_period = started.elapsed() < start_period;
        let probe = run_probe(engine, id, &argv, check);
        let mut w = engine.world();
        let Some(c) = w.containers.get_mut(id).filter(|c| c.exits == exits && c.running.is_some()) else { return };
        let Some(health) = c.health.as_mut() else { return };
        if health.record(probe, in_start_period, check.retries()) {
            let status = health.status.as_str();
            let name = c.record.name.to_string();
            drop(w);
            engine.emit(
                engine.event(EventType::Container, &format!("health_status: {status}"), id.as_str()).with("name", name),
            );
        }
    }
}

/// Sleeps `total` in short slices; false as soon as the container's run has ended.
fn sleep_while_running(engine: &Engine, id: &Id, exits: u64, total: Duration) -> bool {
    let end = Instant::now() + total;
    loop {
        let running = engine.world().containers.get(id).is_some_and(|c| c.exits == exits && c.running.is_some());
        if !running {
            return false;
        }
        let now = Instant::now();
        if now >= end {
            return true;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(200)));
    }
}

/// One probe: the command as an exec, its output (stdout and stderr) kept, stopped at the
/// timeout with moby's message and exit code -1.
fn run_probe(engine: &Engine, id: &Id, argv: &[String], check: &Healthcheck) -> Probe {
    let out = Arc::new(Mutex::new(Vec::new()));
    let timeout = Duration::from_nanos(check.timeout() as u64);
    let stdio = crate::Stdio {
        stdout: Box::new(Shared(out.clone())),
        stderr: Box::new(Shared(out.clone())),
        ..Default::default()
    };
    let start = porthole_store::now_nanos();
    let began = Instant::now();
    let opts = ExecOptions { cmd: argv.to_vec(), stdio, timeout: Some(timeout), ..Default::default() };
    let result = engine.exec(id.as_str(), opts);
    let end = porthole_store::now_nanos();
    let output = String::from_utf8_lossy(&out.lock().unwrap()).into_owned();
    match result {
        _ if began.elapsed() >= timeout => Probe {
            start,
            end,
            exit_code: -1,
            output: format!("Health check exceeded timeout ({})", go_duration(timeout)),
        },
        Ok(code) => Probe { start, end, exit_code: code, output },
        Err(e) => Probe { start, end, exit_code: -1, output: e.to_string() },
    }
}

/// `30s`, `1m30s`, `500ms`, as Go prints a duration in moby's message.
fn go_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (m, s) = (d.as_secs() / 60, d.as_secs_f64() % 60.0);
    let secs = if s.fract() == 0.0 { format!("{}s", s as u64) } else { format!("{s}s") };
    if m > 0 { format!("{m}m{secs}") } else { secs }
}

struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut out = self.0.lock().unwrap();
        // A probe's output past what is kept is dropped here already.
        let room = (porthole_core::health::MAX_OUTPUT * 2).saturating_sub(out.len());
        out.extend_from_slice(&buf[..buf.len().min(room)]);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Engine {
    fn health_of(&self, id: &Id) -> Option<porthole_core::health::Health> {
        self.world().containers.get(id).and_then(|c| c.health.clone())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_print_as_go_does() {
        use std::time::Duration;
        assert_eq!(super::go_duration(Duration::from_secs(30)), "30s");
        assert_eq!(super::go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(super::go_duration(Duration::from_millis(500)), "500ms");
    }
}
