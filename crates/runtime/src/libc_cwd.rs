//! Handing the working directory (WORKDIR, `-w`) to a wasi-libc program, Rust std's included.
//!
//! WASI preview 1 has no process working directory, and wasi-libc takes none from its host:
//! `libc-bottom-half/sources/getcwd.c` defines `char *__wasilibc_cwd = "/";`, only `chdir()`
//! (`chdir.c`) ever changes it, and nothing at start-up reads `PWD` or any other input for it
//! (`preopens.c` says "our process always starts with a working directory of `/`"). The libc
//! makes every relative path absolute against that variable (`make_absolute` in `chdir.c`)
//! before it picks a preopen, so the host receives `x` and `/x` as the same call and cannot
//! apply a working directory itself.
//!
//! So the handover is the libc's own variable: before `_start`, the runtime points
//! `__wasilibc_cwd` at a copy of the working directory. `getcwd()` (Rust's
//! `std::env::current_dir`) then reports it, relative paths resolve under it, and `chdir()`
//! works relative to it — exactly the state a `chdir(WORKDIR)` would have left. The variable is
//! not exported; its address is read from the code of the program's own `getcwd`, named in the
//! `name` section (the first load from a constant address there is `__wasilibc_cwd`), and is
//! used only if that word holds a pointer to the string `"/"`, as the libc initialised it.
//!
//! It is done only when the program also has the libc's cwd-aware path lookup
//! (`__wasilibc_find_relpath_alloc`, linked with `chdir.o`): without it relative paths stay
//! relative to `/` whatever the variable says, and `getcwd` must not claim otherwise. Rust std
//! always links it; a C program does when it calls `chdir` (or links with `-Wl,-u,chdir`). A
//! program without a `name` section (stripped) keeps `/`.

use wasmparser::{KnownCustom, Name, Operator, Parser, Payload};

/// What must be named in the program for the handover: the function whose code reads the
/// variable, and the lookup that makes relative paths follow it.
const GETCWD: &str = "getcwd";
const FIND_RELPATH: &str = "__wasilibc_find_relpath_alloc";

/// The address of `__wasilibc_cwd` in the program's linear memory, or `None` when the program
/// is not a wasi-libc program whose working directory can be set (see the module docs).
pub(crate) fn find_cwd_slot(bytes: &[u8]) -> Option<u32> {
    let (imported, getcwd) = named_getcwd(bytes)?;
    let body = Parser::new(0).parse_all(bytes).filter_map(Result::ok).filter_map(|p| match p {
        Payload::CodeSectionEntry(body) => Some(body),
        _ => None,
    });
    let body = body.into_iter().nth(usize::try_from(getcwd.checked_sub(imported)?).ok()?)?;
    let mut ops = body.get_operators_reader().ok()?;
    let mut last_const = None;
    while !ops.eof() {
        match ops.read().ok()? {
            Operator::I32Const { value } => last_const = Some(value as u32),
            Operator::I32Load { memarg } => return last_const?.checked_add(u32::try_from(memarg.offset).ok()?),
            _ => last_const = None,
        }
    }
    None
}

/// The number of imported functions and the index of `getcwd`, if the `name` section names
/// both it and the cwd-aware path lookup.
fn named_getcwd(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut imported = 0u32;
    let (mut getcwd, mut find_relpath) = (None, false);
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            Payload::ImportSection(s) => {
                for import in s.into_imports() {
                    if matches!(import.ok()?.ty, wasmparser::TypeRef::Func(_)) {
                        imported += 1;
                    }
                }
            }
            Payload::CustomSection(c) => {
                let KnownCustom::Name(names) = c.as_known() else { continue };
                for sub in names.into_iter().filter_map(Result::ok) {
                    let Name::Function(map) = sub else { continue };
                    for naming in map.into_iter().filter_map(Result::ok) {
                        match naming.name {
                            GETCWD => getcwd = Some(naming.index),
                            FIND_RELPATH => find_relpath = true,
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Some((imported, getcwd.filter(|_| find_relpath)?))
}

/// Sets the libc's working directory of a just-instantiated guest to `dir`: a page is added to
/// its memory for the string (memory the libc's allocator never hands out: dlmalloc takes the
/// initial heap up to `__heap_end` and then grows memory past this page) and `slot` is pointed at
/// it. Does nothing if `slot` does not hold the libc's initial `"/"`.
pub(crate) fn set_cwd<T>(
    store: &mut wasmtime::Store<T>,
    memory: &wasmtime::Memory,
    slot: u32,
    dir: &str,
) -> wasmtime::Result<()> {
    const PAGE: usize = 65536;
    let data = memory.data(&*store);
    let Some(initial) = read_u32(data, slot) else { return Ok(()) };
    if data.get(initial as usize..initial as usize + 2) != Some(b"/\0") || dir.len() >= PAGE {
        return Ok(());
    }
    let page = memory.grow(&mut *store, 1)? as usize * PAGE;
    let Ok(at) = u32::try_from(page) else { return Ok(()) };
    let data = memory.data_mut(&mut *store);
    data[page..page + dir.len()].copy_from_slice(dir.as_bytes());
    data[page + dir.len()] = 0;
    data[slot as usize..slot as usize + 4].copy_from_slice(&at.to_le_bytes());
    Ok(())
}

fn read_u32(data: &[u8], at: u32) -> Option<u32> {
    let bytes = data.get(at as usize..at as usize + 4)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}
