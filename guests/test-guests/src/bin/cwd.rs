//! Reports the working directory as Rust std sees it: `std::env::current_dir()` and the file
//! `here.txt` read by a relative path; then, for each argument, `set_current_dir` to it and the
//! same again. One line each: `cwd=<dir> here.txt=<first line or error>`.

fn main() {
    report();
    for dir in std::env::args().skip(1) {
        if let Err(e) = std::env::set_current_dir(&dir) {
            println!("cd {dir}: {e}");
            continue;
        }
        report();
    }
}

fn report() {
    let cwd = match std::env::current_dir() {
        Ok(d) => d.display().to_string(),
        Err(e) => format!("error: {e}"),
    };
    let here = match std::fs::read_to_string("here.txt") {
        Ok(text) => text.lines().next().unwrap_or("").to_string(),
        Err(e) => format!("error: {}", e.kind()),
    };
    println!("cwd={cwd} here.txt={here}");
}
