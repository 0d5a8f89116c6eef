//! `ps`: the container's processes, from Porthole's process table (`proc_list`), as busybox
//! shows them (`PID USER TIME COMMAND`).

use std::io::{self, Write};

use crate::ctx::Ctx;

pub fn ps(ctx: &mut Ctx, _args: &[String]) -> io::Result<i32> {
    let table = match porthole_sys::process_table() {
        Ok(t) => t,
        Err(e) => {
            ctx.warn(format_args!("can't read the process table: {e}"));
            return Ok(1);
        }
    };
    let mut out = String::from("PID   USER     TIME  COMMAND\n");
    for line in table.lines() {
        out.push_str(&row(line));
    }
    ctx.io.stdout.write_all(out.as_bytes())?;
    Ok(0)
}

/// `pid ppid state cpu_ms mem argv` → busybox's row; a finished process not yet waited for is
/// shown as a zombie would be (`[argv0]`).
fn row(line: &str) -> String {
    let f: Vec<&str> = line.splitn(6, '\t').collect();
    let field = |i: usize| f.get(i).copied().unwrap_or("");
    let secs = field(3).parse::<u64>().unwrap_or(0) / 1000;
    let cmd =
        if field(2) == "Z" { format!("[{}]", field(5).split(' ').next().unwrap_or("")) } else { field(5).to_string() };
    format!("{:>5} {:<8} {:>2}:{:02} {cmd}\n", field(0), "root", secs / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::row;

    #[test]
    fn rows_as_busybox_prints_them() {
        assert_eq!(row("1\t0\tS\t1500\t65536\tsh -c sleep 1"), "    1 root      0:01 sh -c sleep 1\n");
        assert_eq!(row("12\t1\tZ\t61000\t0\tsleep 5"), "   12 root      1:01 [sleep]\n");
    }
}
