//! Binds the host functions to their `wasi_snapshot_preview1` import names on a wasmtime
//! `Linker`. The glue is the only place that touches wasmtime types: it fetches the guest's
//! exported memory, narrows each raw argument to its witx type (`EINVAL` when it does not fit)
//! and turns the result into an errno or a trap.

use wasmtime::{Caller, Extern, Linker};

use crate::errno::Errno;
use crate::host::{HostError, HostResult, WasiHost};
use crate::memory::GuestMemory;

const MODULE: &str = "wasi_snapshot_preview1";

/// How the linker reaches the [`WasiHost`] inside the store's data.
pub type HostGetter<T> = fn(&mut T) -> &mut WasiHost;

fn call<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: HostGetter<T>,
    f: impl FnOnce(&mut WasiHost, &mut GuestMemory<'_>) -> HostResult<()>,
) -> wasmtime::Result<i32> {
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        return Err(wasmtime::Error::msg("guest does not export its memory as \"memory\""));
    };
    let (data, state) = memory.data_and_store_mut(caller);
    let mut mem = GuestMemory::new(data);
    match f(get(state), &mut mem) {
        Ok(()) => Ok(0),
        Err(HostError::Errno(e)) => Ok(e as i32),
        Err(HostError::Trap(t)) => Err(t),
    }
}

fn narrow<A, B: TryFrom<A>>(a: A) -> Result<B, HostError> {
    B::try_from(a).map_err(|_| HostError::Errno(Errno::Inval))
}

/// Porthole's own import module: the process interface and file modes (ARCHITECTURE.md, "The
/// process interface"). Only guests that import it see it.
const PORTHOLE: &str = "porthole";

macro_rules! bind {
    ($linker:ident, $get:ident; $( $name:ident ( $( $arg:ident : $wasm:ty => $host:ty ),* ); )*) => {
        bind!($linker, $get, MODULE; $( $name ( $( $arg : $wasm => $host ),* ); )*)
    };
    ($linker:ident, $get:ident, $module:expr; $( $name:ident ( $( $arg:ident : $wasm:ty => $host:ty ),* ); )*) => {
        $(
            $linker.func_wrap($module, stringify!($name), move |mut caller: Caller<'_, T>, $( $arg: $wasm ),*| -> wasmtime::Result<i32> {
                call(&mut caller, $get, |host, mem| {
                    $( let $arg: $host = narrow($arg)?; )*
                    host.$name(mem, $( $arg ),*)
                })
            })?;
        )*
    };
}

/// Adds every `wasi_snapshot_preview1` function, and Porthole's `porthole` module, to `linker`.
pub fn add_to_linker<T: 'static>(linker: &mut Linker<T>, get: HostGetter<T>) -> wasmtime::Result<()> {
    bind! { linker, get;
        args_get(argv: u32 => u32, buf: u32 => u32);
        args_sizes_get(count: u32 => u32, size: u32 => u32);
        environ_get(environ: u32 => u32, buf: u32 => u32);
        environ_sizes_get(count: u32 => u32, size: u32 => u32);
        clock_res_get(id: u32 => u32, out: u32 => u32);
        clock_time_get(id: u32 => u32, precision: u64 => u64, out: u32 => u32);
        fd_advise(fd: u32 => u32, offset: u64 => u64, len: u64 => u64, advice: u32 => u8);
        fd_allocate(fd: u32 => u32, offset: u64 => u64, len: u64 => u64);
        fd_close(fd: u32 => u32);
        fd_datasync(fd: u32 => u32);
        fd_fdstat_get(fd: u32 => u32, out: u32 => u32);
        fd_fdstat_set_flags(fd: u32 => u32, flags: u32 => u16);
        fd_fdstat_set_rights(fd: u32 => u32, base: u64 => u64, inheriting: u64 => u64);
        fd_filestat_get(fd: u32 => u32, out: u32 => u32);
        fd_filestat_set_size(fd: u32 => u32, size: u64 => u64);
        fd_filestat_set_times(fd: u32 => u32, atim: u64 => u64, mtim: u64 => u64, fst: u32 => u16);
        fd_pread(fd: u32 => u32, iovs: u32 => u32, count: u32 => u32, offset: u64 => u64, out: u32 => u32);
        fd_prestat_get(fd: u32 => u32, out: u32 => u32);
        fd_prestat_dir_name(fd: u32 => u32, buf: u32 => u32, len: u32 => u32);
        fd_pwrite(fd: u32 => u32, iovs: u32 => u32, count: u32 => u32, offset: u64 => u64, out: u32 => u32);
        fd_read(fd: u32 => u32, iovs: u32 => u32, count: u32 => u32, out: u32 => u32);
        fd_readdir(fd: u32 => u32, buf: u32 => u32, len: u32 => u32, cookie: u64 => u64, out: u32 => u32);
        fd_renumber(from: u32 => u32, to: u32 => u32);
        fd_seek(fd: u32 => u32, offset: i64 => i64, whence: u32 => u8, out: u32 => u32);
        fd_sync(fd: u32 => u32);
        fd_tell(fd: u32 => u32, out: u32 => u32);
        fd_write(fd: u32 => u32, iovs: u32 => u32, count: u32 => u32, out: u32 => u32);
        path_create_directory(fd: u32 => u32, path: u32 => u32, len: u32 => u32);
        path_filestat_get(fd: u32 => u32, flags: u32 => u32, path: u32 => u32, len: u32 => u32, out: u32 => u32);
        path_filestat_set_times(fd: u32 => u32, flags: u32 => u32, path: u32 => u32, len: u32 => u32, atim: u64 => u64, mtim: u64 => u64, fst: u32 => u16);
        path_link(old_fd: u32 => u32, old_flags: u32 => u32, old: u32 => u32, old_len: u32 => u32, new_fd: u32 => u32, new: u32 => u32, new_len: u32 => u32);
        path_open(fd: u32 => u32, dirflags: u32 => u32, path: u32 => u32, len: u32 => u32, oflags: u32 => u16, base: u64 => u64, inheriting: u64 => u64, fdflags: u32 => u16, out: u32 => u32);
        path_readlink(fd: u32 => u32, path: u32 => u32, len: u32 => u32, buf: u32 => u32, buf_len: u32 => u32, out: u32 => u32);
        path_remove_directory(fd: u32 => u32, path: u32 => u32, len: u32 => u32);
        path_rename(fd: u32 => u32, old: u32 => u32, old_len: u32 => u32, new_fd: u32 => u32, new: u32 => u32, new_len: u32 => u32);
        path_symlink(old: u32 => u32, old_len: u32 => u32, fd: u32 => u32, new: u32 => u32, new_len: u32 => u32);
        path_unlink_file(fd: u32 => u32, path: u32 => u32, len: u32 => u32);
        poll_oneoff(subs: u32 => u32, events: u32 => u32, nsubs: u32 => u32, out: u32 => u32);
        proc_raise(sig: u32 => u8);
        sched_yield();
        random_get(buf: u32 => u32, len: u32 => u32);
        sock_accept(fd: u32 => u32, flags: u32 => u16, out: u32 => u32);
        sock_recv(fd: u32 => u32, iovs: u32 => u32, count: u32 => u32, flags: u32 => u16, out_len: u32 => u32, out_flags: u32 => u32);
        sock_send(fd: u32 => u32, iovs: u32 => u32, count: u32 => u32, flags: u32 => u16, out_len: u32 => u32);
        sock_shutdown(fd: u32 => u32, how: u32 => u8);
    }
    bind! { linker, get, PORTHOLE;
        proc_spawn(path: u32 => u32, path_len: u32 => u32, argv: u32 => u32, argv_len: u32 => u32, env: u32 => u32, env_len: u32 => u32, cwd: u32 => u32, cwd_len: u32 => u32, fds: u32 => u32, fds_len: u32 => u32, pid_out: u32 => u32);
        proc_wait(pid: i32 => i32, flags: u32 => u32, out: u32 => u32);
        proc_kill(pid: u32 => u32, sig: u32 => u32);
        proc_sigmask(mask: u64 => u64);
        proc_sigpending(out: u32 => u32);
        proc_foreground(pids: u32 => u32, n: u32 => u32);
        proc_pipe(out: u32 => u32);
        proc_self(out: u32 => u32);
        proc_list(buf: u32 => u32, len: u32 => u32, used: u32 => u32);
        path_mode_get(fd: u32 => u32, flags: u32 => u32, path: u32 => u32, len: u32 => u32, out: u32 => u32);
        path_chmod(fd: u32 => u32, flags: u32 => u32, path: u32 => u32, len: u32 => u32, mode: u32 => u32);
        tty_setmode(fd: u32 => u32, mode: u32 => u32);
    }
    // proc_exit returns nothing: it always unwinds the guest.
    linker.func_wrap(MODULE, "proc_exit", move |mut caller: Caller<'_, T>, code: u32| -> wasmtime::Result<()> {
        call(&mut caller, get, |host, mem| host.proc_exit(mem, code)).map(|_| ())
    })?;
    Ok(())
}
