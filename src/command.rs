//! Runs one criteria command (SPEC §7): `sh -c <run>` from the work tree's top, in a process
//! group of its own so that a timeout stops everything it started, with its output (stdout and
//! stderr, interleaved as written) captured and capped. No terminal, no policy: whether a command
//! may run at all is decided by the caller (see [`crate::trust`]).

use std::collections::VecDeque;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command as Process, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// Output bytes kept per command: the last ones, where a failure usually explains itself.
pub const OUTPUT_CAP: usize = 64 * 1024;

/// How long a timed-out command gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(2);

/// How long to wait for the output pipe to close once the command is gone: a process that left
/// the command's group may hold it open for ever.
const DRAIN: Duration = Duration::from_secs(2);

/// The last `cap` bytes of a stream, and how many bytes came before them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail {
    cap: usize,
    buf: VecDeque<u8>,
    dropped: u64,
}

impl Tail {
    pub fn new(cap: usize) -> Tail {
        Tail {
            cap,
            buf: VecDeque::new(),
            dropped: 0,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        let bytes = if bytes.len() > self.cap {
            let skip = bytes.len() - self.cap;
            self.dropped += skip as u64;
            &bytes[skip..]
        } else {
            bytes
        };
        let over = (self.buf.len() + bytes.len()).saturating_sub(self.cap);
        self.buf.drain(..over);
        self.dropped += over as u64;
        self.buf.extend(bytes);
    }

    /// Bytes that were written before the kept ones.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The kept bytes as text (invalid UTF-8 replaced); when bytes were dropped, it starts at the
    /// next whole line and says how much was cut.
    pub fn text(&self) -> String {
        let bytes: Vec<u8> = self.buf.iter().copied().collect();
        if self.dropped == 0 {
            return String::from_utf8_lossy(&bytes).into_owned();
        }
        let start = bytes
            .iter()
            .position(|&b| b == b'\n')
            .filter(|&nl| nl < 4096)
            .map_or(0, |nl| nl + 1);
        let cut = self.dropped + start as u64;
        format!(
            "[… {cut} earlier bytes not kept]\n{}",
            String::from_utf8_lossy(&bytes[start..])
        )
    }
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal it did not send itself ended it.
    Signal(i32),
    /// It ran past its timeout; it and every process of its group were stopped.
    TimedOut,
    /// `sh` could not be started; the reason.
    NotStarted(String),
}

/// What running a command gave.
#[derive(Debug, Clone)]
pub struct Ran {
    pub exit: Exit,
    pub output: Tail,
    pub elapsed: Duration,
}

impl Ran {
    pub fn passed(&self) -> bool {
        self.exit == Exit::Code(0)
    }
}

/// Runs `sh -c <script>` in `dir` with the inherited environment plus `env`, stdin closed, for
/// at most `timeout`. The script is passed as one argument, never pasted into another string.
pub fn run(script: &str, dir: &Path, env: &[(&str, &str)], timeout: Duration) -> Ran {
    let started = Instant::now();
    let not_started = |why: String| Ran {
        exit: Exit::NotStarted(why),
        output: Tail::new(OUTPUT_CAP),
        elapsed: started.elapsed(),
    };
    // One pipe for both streams keeps their lines in the order they were written.
    let (mut reader, writer) = match std::io::pipe() {
        Ok(p) => p,
        Err(e) => return not_started(crate::error::io_reason(&e)),
    };
    let writer2 = match writer.try_clone() {
        Ok(w) => w,
        Err(e) => return not_started(crate::error::io_reason(&e)),
    };
    // The output's reader starts first: where the system refuses a thread, nothing has run.
    let tail = Arc::new(Mutex::new(Tail::new(OUTPUT_CAP)));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let reader_tail = Arc::clone(&tail);
    let reading = std::thread::Builder::new().spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if let Ok(mut t) = reader_tail.lock() {
                        t.push(&buf[..n]);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = done_tx.send(());
    });
    if let Err(e) = reading {
        return not_started(format!(
            "no thread to read its output: {}",
            crate::error::io_reason(&e)
        ));
    }
    let mut process = Process::new("sh");
    process
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer2);
    for (k, v) in env {
        process.env(k, v);
    }
    new_process_group(&mut process);
    let spawned = process.spawn();
    // Our copies of the pipe's write end live in `process`: close them, or the output never
    // ends (and the reader ends at once when `sh` did not start).
    drop(process);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return not_started(format!("sh: {}", crate::error::io_reason(&e))),
    };

    let timed_out = !wait_for_exit(&mut child, started + timeout);
    if timed_out {
        signal_group(&mut child, Stop::Term);
        wait_for_exit(&mut child, Instant::now() + GRACE);
    }
    // Whatever is left of its group goes too: background jobs do not outlive their command.
    // The leader is not reaped yet, so its group id cannot have been reused.
    signal_group(&mut child, Stop::Kill);
    let status = child.wait();
    let elapsed = started.elapsed();
    let _ = done_rx.recv_timeout(DRAIN);
    let output = tail
        .lock()
        .map(|t| t.clone())
        .unwrap_or_else(|_| Tail::new(OUTPUT_CAP));
    let exit = if timed_out {
        Exit::TimedOut
    } else {
        match status {
            Ok(s) => match s.code() {
                Some(c) => Exit::Code(c),
                None => Exit::Signal(signal_of(&s)),
            },
            Err(e) => Exit::NotStarted(crate::error::io_reason(&e)),
        }
    };
    Ran {
        exit,
        output,
        elapsed,
    }
}

/// Polls until the child has exited (without reaping it) or `deadline` passes; true if it exited.
fn wait_for_exit(child: &mut Child, deadline: Instant) -> bool {
    let mut pause = Duration::from_millis(2);
    loop {
        if has_exited(child) {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

#[derive(Clone, Copy)]
enum Stop {
    Term,
    Kill,
}

#[cfg(unix)]
fn new_process_group(process: &mut Process) {
    use std::os::unix::process::CommandExt;
    process.process_group(0);
}

#[cfg(unix)]
fn has_exited(child: &mut Child) -> bool {
    use rustix::process::{Pid, WaitId, WaitIdOptions, waitid};
    let pid = Pid::from_child(child);
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOWAIT | WaitIdOptions::NOHANG;
    match waitid(WaitId::Pid(pid), options) {
        Ok(found) => found.is_some(),
        Err(rustix::io::Errno::INTR) => false,
        // No such child: it is gone already.
        Err(_) => true,
    }
}

#[cfg(unix)]
fn signal_group(child: &mut Child, stop: Stop) {
    use rustix::process::{Pid, Signal, kill_process_group};
    let signal = match stop {
        Stop::Term => Signal::TERM,
        Stop::Kill => Signal::KILL,
    };
    // The group may be empty already; that is fine.
    let _ = kill_process_group(Pid::from_child(child), signal);
}

#[cfg(unix)]
fn signal_of(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.signal().unwrap_or(0)
}

#[cfg(not(unix))]
fn new_process_group(_process: &mut Process) {}

#[cfg(not(unix))]
fn has_exited(child: &mut Child) -> bool {
    child.try_wait().map_or(true, |s| s.is_some())
}

/// Without process groups, only the command's own process can be stopped.
#[cfg(not(unix))]
fn signal_group(child: &mut Child, stop: Stop) {
    if matches!(stop, Stop::Term) {
        let _ = child.kill();
    }
}

#[cfg(not(unix))]
fn signal_of(_status: &std::process::ExitStatus) -> i32 {
    0
}

/// A duration as people read it in a report: `0.4s`, `12s`, `3m05s`.
pub fn format_elapsed(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 10.0 {
        format!("{secs:.1}s")
    } else if secs < 60.0 {
        format!("{}s", secs.round() as u64)
    } else {
        let s = secs.round() as u64;
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_bytes_and_counts_the_rest() {
        let mut t = Tail::new(8);
        t.push(b"abc");
        assert_eq!((t.text().as_str(), t.dropped()), ("abc", 0));
        t.push(b"defghij");
        assert_eq!(t.dropped(), 2);
        assert_eq!(t.buf.iter().copied().collect::<Vec<_>>(), b"cdefghij");
        t.push(b"0123456789abc");
        assert_eq!(t.dropped(), 15);
        assert_eq!(t.buf.iter().copied().collect::<Vec<_>>(), b"56789abc");
    }

    #[test]
    fn tail_text_starts_at_a_whole_line_once_cut() {
        let mut t = Tail::new(10);
        t.push(b"line one\nline two\nend\n");
        assert_eq!(t.text(), "[… 18 earlier bytes not kept]\nend\n");
        assert!(!t.is_empty());
    }

    #[test]
    fn elapsed_reads_like_a_person_wrote_it() {
        assert_eq!(format_elapsed(Duration::from_millis(420)), "0.4s");
        assert_eq!(format_elapsed(Duration::from_secs(12)), "12s");
        assert_eq!(format_elapsed(Duration::from_secs(185)), "3m05s");
    }
}
