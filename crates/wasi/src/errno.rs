//! WASI preview1 error numbers and the conversion from host I/O errors.

use std::io;

/// A `wasi_snapshot_preview1` errno. Only the values Porthole's host returns are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Errno {
    TooBig = 1,
    Acces = 2,
    Addrinuse = 3,
    Again = 6,
    Badf = 8,
    Busy = 10,
    Child = 12,
    Connaborted = 13,
    Connrefused = 14,
    Connreset = 15,
    Exist = 20,
    Fault = 21,
    Fbig = 22,
    Ilseq = 25,
    Intr = 27,
    Inval = 28,
    Io = 29,
    Isdir = 31,
    Loop = 32,
    Mfile = 33,
    Mlink = 34,
    Nametoolong = 37,
    Nfile = 41,
    Noent = 44,
    Noexec = 45,
    Nomem = 48,
    Nospc = 51,
    Nosys = 52,
    Notconn = 53,
    Notdir = 54,
    Notempty = 55,
    Notsock = 57,
    Notsup = 58,
    Notty = 59,
    Nxio = 60,
    Overflow = 61,
    Perm = 63,
    Pipe = 64,
    Range = 68,
    Rofs = 69,
    Spipe = 70,
    Srch = 71,
    Timedout = 73,
    Txtbsy = 74,
    Xdev = 75,
    Notcapable = 76,
}

impl From<io::Error> for Errno {
    fn from(e: io::Error) -> Self {
        use rustix::io::Errno as E;
        let Some(raw) = e.raw_os_error() else {
            // cap-std reports a path that would leave its directory as PermissionDenied with no
            // OS code; the guest sees EPERM, as Linux gives for a forbidden operation.
            return match e.kind() {
                io::ErrorKind::NotFound => Errno::Noent,
                io::ErrorKind::PermissionDenied => Errno::Perm,
                io::ErrorKind::AlreadyExists => Errno::Exist,
                io::ErrorKind::InvalidInput => Errno::Inval,
                io::ErrorKind::Unsupported => Errno::Notsup,
                io::ErrorKind::OutOfMemory => Errno::Nomem,
                _ => Errno::Io,
            };
        };
        match E::from_raw_os_error(raw) {
            E::TOOBIG => Errno::TooBig,
            E::ACCESS => Errno::Acces,
            E::ADDRINUSE => Errno::Addrinuse,
            E::AGAIN => Errno::Again,
            E::BADF => Errno::Badf,
            E::BUSY => Errno::Busy,
            E::CONNABORTED => Errno::Connaborted,
            E::CONNREFUSED => Errno::Connrefused,
            E::CONNRESET => Errno::Connreset,
            E::EXIST => Errno::Exist,
            E::FAULT => Errno::Fault,
            E::FBIG => Errno::Fbig,
            E::ILSEQ => Errno::Ilseq,
            E::INTR => Errno::Intr,
            E::INVAL => Errno::Inval,
            E::ISDIR => Errno::Isdir,
            E::LOOP => Errno::Loop,
            E::MFILE => Errno::Mfile,
            E::MLINK => Errno::Mlink,
            E::NAMETOOLONG => Errno::Nametoolong,
            E::NFILE => Errno::Nfile,
            E::NOENT => Errno::Noent,
            E::NOMEM => Errno::Nomem,
            E::NOSPC => Errno::Nospc,
            E::NOSYS => Errno::Nosys,
            E::NOTCONN => Errno::Notconn,
            E::NOTDIR => Errno::Notdir,
            E::NOTEMPTY => Errno::Notempty,
            E::NOTSOCK => Errno::Notsock,
            E::NOTSUP => Errno::Notsup,
            E::NOTTY => Errno::Notty,
            E::NXIO => Errno::Nxio,
            E::OVERFLOW => Errno::Overflow,
            E::PERM => Errno::Perm,
            E::PIPE => Errno::Pipe,
            E::ROFS => Errno::Rofs,
            E::SPIPE => Errno::Spipe,
            E::TIMEDOUT => Errno::Timedout,
            E::TXTBSY => Errno::Txtbsy,
            E::XDEV => Errno::Xdev,
            _ => Errno::Io,
        }
    }
}

impl Errno {
    /// The C name of the error, as `errno.h` spells it (`ENOENT`).
    pub fn name(self) -> String {
        match self {
            Errno::TooBig => "E2BIG".into(),
            e => format!("E{e:?}").to_uppercase(),
        }
    }
}

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?} ({})", *self as u16)
    }
}

/// So that a host error can be kept as the source of the error it caused (an engine error).
impl std::error::Error for Errno {}

#[cfg(test)]
mod tests {
    use super::Errno;

    #[test]
    fn names_as_errno_h_spells_them() {
        let names: Vec<String> =
            [Errno::Noent, Errno::TooBig, Errno::Acces, Errno::Nametoolong, Errno::Rofs].map(Errno::name).into();
        assert_eq!(names, ["ENOENT", "E2BIG", "EACCES", "ENAMETOOLONG", "EROFS"]);
    }
}
