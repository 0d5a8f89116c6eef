//! Container output as Docker's json-file driver keeps it: every write is appended to
//! `container.log` as a JSON line (`{"stream":"stdout","log":"…","time":"…"}`) and broadcast to
//! live followers (`logs -f`, attach). Once the file holds `max-size` bytes it is renamed to
//! `container.log.1` (older ones shifted up, the one past `max-file` overwritten) and a new one
//! is started, so a container's log never takes more than `max-file` × (`max-size` + one line).
//!
//! Reading never loads a log: [`LogSink::snapshot`] opens the files and notes their lengths
//! under the writer's lock, a tail is found by scanning backwards from the end, and
//! [`LogReader`] yields one line at a time from there. Writes are not synced: a crash may lose
//! the last lines or tear one, and a torn line is skipped when read.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use porthole_core::log_config::LogConfig;
use porthole_core::time::rfc3339_nanos;
use tokio::sync::broadcast;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// One write of a guest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogLine {
    pub stream: LogStream,
    pub log: String,
    /// RFC 3339 with nanoseconds.
    pub time: String,
}

/// Which of the lines written so far a reader wants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// Only the last this many lines (`--tail`); `None` is all of them.
    pub tail: Option<usize>,
    /// Epoch nanoseconds: lines written before `since` are skipped, and reading ends at the
    /// first one written after `until`, as json-file's reader does (applied after `tail`).
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// The log files and the live channel of one container, for as long as the engine holds it.
pub(crate) struct LogSink {
    path: PathBuf,
    max_size: u64,
    max_file: u32,
    /// The current file, opened at the first write, and its length.
    current: Mutex<Option<(File, u64)>>,
    live: broadcast::Sender<LogLine>,
}

impl LogSink {
    pub fn new(path: PathBuf, config: &LogConfig) -> Arc<Self> {
        Arc::new(Self {
            path,
            max_size: config.max_size,
            max_file: config.max_file,
            current: Mutex::new(None),
            live: broadcast::channel(1024).0,
        })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LogLine> {
        self.live.subscribe()
    }

    /// Closes the current file (the guest ended): an exited container holds no descriptor; the
    /// next write reopens it.
    pub fn close(&self) {
        *self.current.lock().unwrap() = None;
    }

    /// `container.log`, `container.log.1`, … (`n` = 0 is the current file).
    fn file_path(&self, n: u32) -> PathBuf {
        if n == 0 { self.path.clone() } else { rotated(&self.path, n) }
    }

    /// One write of the guest, a record per line as Docker's copier makes them (a last
    /// partial line is recorded at once too: attach shows prompts as they are written).
    fn record(&self, stream: LogStream, bytes: &[u8]) -> std::io::Result<()> {
        let time = rfc3339_nanos(porthole_store::now_nanos());
        let mut current = self.current.lock().unwrap();
        if current.is_none() {
            let file = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
            let len = file.metadata()?.len();
            *current = Some((file, len));
        }
        let mut pending = Vec::new();
        let mut lines = Vec::new();
        for piece in bytes.split_inclusive(|b| *b == b'\n') {
            let line = LogLine { stream, log: String::from_utf8_lossy(piece).into_owned(), time: time.clone() };
            let (file, len) = current.as_mut().unwrap();
            // Rotated before a line is written once the file holds max-size, as json-file
            // does: no file exceeds it by more than one line.
            if *len + pending.len() as u64 >= self.max_size {
                file.write_all(&pending)?;
                pending.clear();
                *current = None;
                self.rotate()?;
                let file = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
                *current = Some((file, 0));
            }
            serde_json::to_writer(&mut pending, &line).map_err(std::io::Error::other)?;
            pending.push(b'\n');
            lines.push(line);
        }
        let (file, len) = current.as_mut().unwrap();
        file.write_all(&pending)?;
        *len += pending.len() as u64;
        // Sent under the lock, so a snapshot taken with a subscription splits the output
        // exactly: every line is either in the files it opened or on the channel.
        for line in lines {
            let _ = self.live.send(line);
        }
        Ok(())
    }

    /// Shifts `.1` … up by one (the last is overwritten) and the current file to `.1`; with
    /// `max-file` 1 the current file is emptied instead, as json-file does.
    fn rotate(&self) -> std::io::Result<()> {
        if self.max_file < 2 {
            return std::fs::File::create(&self.path).map(drop);
        }
        for n in (1..self.max_file - 1).rev() {
            match std::fs::rename(self.file_path(n), self.file_path(n + 1)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        std::fs::rename(&self.path, self.file_path(1))
    }

    /// The lines written so far (or their tail) and a subscription to those that follow, with
    /// nothing lost or repeated between them.
    pub fn snapshot(&self, opts: LogOptions) -> std::io::Result<(LogReader, broadcast::Receiver<LogLine>)> {
        let (mut files, live) = {
            let _writer = self.current.lock().unwrap();
            let mut files = Vec::new();
            for n in 0..self.max_file {
                match File::open(self.file_path(n)) {
                    Ok(f) => {
                        let len = f.metadata()?.len();
                        files.push(Span { file: f, start: 0, end: len });
                    }
                    // A container that never wrote has no file; older ones stop at the first gap.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        if n > 0 {
                            break;
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            (files, self.live.subscribe())
        };
        files.reverse();
        if let Some(n) = opts.tail {
            files = tail(files, n)?;
        }
        let mut reader = LogReader::new(files);
        // RFC 3339 with nanoseconds in UTC is fixed-width: text order is time order.
        reader.since = opts.since.map(rfc3339_nanos);
        reader.until = opts.until.map(rfc3339_nanos);
        Ok((reader, live))
    }
}

fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// Bytes `start..end` of one log file.
struct Span {
    file: File,
    start: u64,
    end: u64,
}

/// How far back a tail scan reads at a time.
const CHUNK: usize = 64 * 1024;

/// The spans (oldest first) cut to their last `n` lines: each file is scanned backwards from
/// its end for the newline before them, the newest first.
fn tail(mut files: Vec<Span>, mut n: usize) -> std::io::Result<Vec<Span>> {
    let mut kept = VecDeque::new();
    let mut buf = vec![0; CHUNK];
    while let Some(mut span) = files.pop() {
        // A file's lines end with a newline: the start of its last `n` lines is just after
        // the (n+1)-th newline from its end.
        let mut pos = span.end;
        let mut newlines = 0;
        let mut start = None;
        'scan: while pos > span.start {
            let len = (pos - span.start).min(CHUNK as u64) as usize;
            pos -= len as u64;
            span.file.read_exact_at(&mut buf[..len], pos)?;
            for i in (0..len).rev() {
                if buf[i] == b'\n' {
                    newlines += 1;
                    if newlines == n + 1 {
                        start = Some(pos + i as u64 + 1);
                        break 'scan;
                    }
                }
            }
        }
        match start {
            Some(s) => {
                span.start = s;
                kept.push_front(span);
                break;
            }
            None => {
                n -= newlines;
                kept.push_front(span);
            }
        }
    }
    Ok(kept.into())
}

/// The lines of a snapshot, oldest first, read as they are asked for.
pub struct LogReader {
    files: VecDeque<BufReader<std::io::Take<File>>>,
    buf: Vec<u8>,
    since: Option<String>,
    until: Option<String>,
}

impl LogReader {
    fn new(spans: Vec<Span>) -> Self {
        let files = spans
            .into_iter()
            .filter_map(|mut s| {
                s.file.seek(SeekFrom::Start(s.start)).ok()?;
                Some(BufReader::new(s.file.take(s.end - s.start)))
            })
            .collect();
        Self { files, buf: Vec::new(), since: None, until: None }
    }
}

impl Iterator for LogReader {
    type Item = std::io::Result<LogLine>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let file = self.files.front_mut()?;
            self.buf.clear();
            match file.read_until(b'\n', &mut self.buf) {
                Ok(0) => {
                    self.files.pop_front();
                }
                // A line torn by a crash is skipped, not fatal.
                Ok(_) => {
                    let Ok(line) = serde_json::from_slice::<LogLine>(&self.buf) else { continue };
                    if self.until.as_ref().is_some_and(|u| line.time > *u) {
                        self.files.clear();
                        return None;
                    }
                    if self.since.as_ref().is_none_or(|s| line.time >= *s) {
                        return Some(Ok(line));
                    }
                }
                Err(e) => {
                    self.files.pop_front();
                    return Some(Err(e));
                }
            }
        }
    }
}

/// The guest's stdout or stderr.
pub(crate) struct LogWriter {
    pub sink: Arc<LogSink>,
    pub stream: LogStream,
}

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.sink.record(self.stream, buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `count` lines `0`, `1`, … through a sink with `max-size`/`max-file`, then
    /// returns the files on disk (name: bytes) and the lines a reader with `tail` gives.
    fn check(max_size: &str, max_file: &str, count: usize, tail: Option<usize>) -> (Vec<(String, u64)>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let opts = [("max-size", max_size), ("max-file", max_file)];
        let config = LogConfig::parse("", &opts.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap();
        let sink = LogSink::new(dir.path().join("container.log"), &config);
        for i in 0..count {
            sink.record(LogStream::Stdout, format!("{i}").as_bytes()).unwrap();
        }
        let mut files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| (e.file_name().into_string().unwrap(), e.metadata().unwrap().len()))
            .collect();
        files.sort();
        let (reader, _) = sink.snapshot(LogOptions { tail, ..Default::default() }).unwrap();
        (files, reader.map(|l| l.unwrap().log).collect())
    }

    /// One line is 58 to 61 bytes of JSON for these short writes.
    #[test]
    fn rotation_keeps_max_file_files_of_max_size() {
        let (files, lines) = check("600", "3", 100, None);
        assert_eq!(
            files.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            ["container.log", "container.log.1", "container.log.2"]
        );
        assert!(files.iter().all(|(_, len)| *len <= 600 + 61), "{files:?}");
        // The oldest kept line is where the third file from the end began.
        let first: usize = lines[0].parse().unwrap();
        assert_eq!(lines, (first..100).map(|i| i.to_string()).collect::<Vec<_>>());
        // Two full files of ten or eleven lines, and the current one.
        assert!((15..=33).contains(&lines.len()), "{}", lines.len());
    }

    #[test]
    fn tails_across_files() {
        let want = |r: std::ops::Range<usize>| r.map(|i| i.to_string()).collect::<Vec<_>>();
        assert_eq!(check("600", "3", 100, Some(3)).1, want(97..100));
        assert_eq!(check("600", "3", 100, Some(15)).1, want(85..100));
        assert_eq!(check("600", "3", 100, Some(0)).1, want(0..0));
        // More than there is: everything kept.
        assert_eq!(check("1m", "2", 10, Some(50)).1, want(0..10));
        assert_eq!(check("1m", "2", 0, Some(5)).1, want(0..0));
        // A tail longer than a scan chunk, and one reaching into the second file.
        assert_eq!(check("1m", "2", 20_000, Some(5_000)).1, want(15_000..20_000));
        assert_eq!(check("100k", "3", 5_000, Some(2_500)).1, want(2_500..5_000));
    }

    #[test]
    fn one_file_is_emptied_not_rotated() {
        let (files, lines) = check("600", "1", 25, None);
        assert_eq!(files.len(), 1);
        assert!(files[0].1 <= 600 + 61);
        assert_eq!(lines.last().map(String::as_str), Some("24"));
    }
}
