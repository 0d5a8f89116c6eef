//! Container output: every write is appended to `container.log` as a JSON line (Docker's
//! json-file format: `{"stream":"stdout","log":"…","time":"…"}`) and broadcast to live
//! followers (`logs -f`, attach).

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

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

/// The log file and the live channel of one container.
pub(crate) struct LogSink {
    file: Mutex<std::fs::File>,
    live: broadcast::Sender<LogLine>,
}

impl LogSink {
    pub fn open(path: &Path, live: broadcast::Sender<LogLine>) -> std::io::Result<Arc<Self>> {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Arc::new(Self { file: Mutex::new(file), live }))
    }

    fn record(&self, stream: LogStream, bytes: &[u8]) -> std::io::Result<()> {
        let line = LogLine {
            stream,
            log: String::from_utf8_lossy(bytes).into_owned(),
            time: rfc3339_nanos(porthole_store::now_nanos()),
        };
        let mut json = serde_json::to_vec(&line).map_err(std::io::Error::other)?;
        json.push(b'\n');
        self.file.lock().unwrap().write_all(&json)?;
        let _ = self.live.send(line);
        Ok(())
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

/// Everything a container has written so far.
pub(crate) fn read_log(path: &Path) -> std::io::Result<Vec<LogLine>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        // A line torn by a crash is skipped, not fatal.
        if let Ok(l) = serde_json::from_str::<LogLine>(&line?) {
            out.push(l);
        }
    }
    Ok(out)
}
