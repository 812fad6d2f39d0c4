//! A progress bar on standard error, drawn only when it is a terminal.

use std::io::{IsTerminal, Write};

pub struct Progress {
    total: u64,
    done: u64,
    what: &'static str,
    draw: bool,
}

impl Progress {
    /// Shown when there is more than one step's worth of work and stderr is a terminal.
    pub fn new(total: u64, what: &'static str, show: bool) -> Progress {
        Progress { total, done: 0, what, draw: show && std::io::stderr().is_terminal() }
    }

    pub fn advance(&mut self, by: u64) {
        self.done = (self.done + by).min(self.total);
        if self.draw {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{}", bar(self.done, self.total, self.what));
            if self.done == self.total {
                let _ = writeln!(err);
            }
            let _ = err.flush();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.draw && self.done < self.total {
            let _ = writeln!(std::io::stderr());
        }
    }
}

/// `[##########----------]  50/100 codes`
pub fn bar(done: u64, total: u64, what: &str) -> String {
    const WIDTH: u64 = 30;
    let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH) as usize;
    let w = total.to_string().len();
    format!("[{}{}] {done:>w$}/{total} {what}", "#".repeat(filled), "-".repeat(WIDTH as usize - filled))
}

#[cfg(test)]
mod tests {
    #[test]
    fn bars() {
        assert_eq!(super::bar(0, 200, "codes"), format!("[{}]   0/200 codes", "-".repeat(30)));
        assert_eq!(super::bar(100, 200, "codes"), format!("[{}{}] 100/200 codes", "#".repeat(15), "-".repeat(15)));
        assert_eq!(super::bar(200, 200, "codes"), format!("[{}] 200/200 codes", "#".repeat(30)));
    }
}
