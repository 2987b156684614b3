//! One server process: started, `kill -9`ed, paused and resumed; killed
//! when dropped, so no server outlives the harness.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::process::{Child, Command};

/// A running server process.
#[derive(Debug)]
pub struct NodeProcess {
    child: Child,
    paused: bool,
}

/// A signal that could not be sent.
#[derive(Debug, thiserror::Error)]
#[error("cannot send {signal} to process {pid}: {source}")]
pub struct SignalError {
    signal: Signal,
    pid: u32,
    source: nix::Error,
}

impl NodeProcess {
    /// Start `command`.
    pub fn spawn(command: &mut Command) -> std::io::Result<NodeProcess> {
        Ok(NodeProcess {
            child: command.spawn()?,
            paused: false,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is stopped with `SIGSTOP`.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Whether it has exited on its own.
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    fn signal(&self, signal: Signal) -> Result<(), SignalError> {
        let pid = self.child.id();
        let raw = i32::try_from(pid).unwrap_or(i32::MAX);
        kill(Pid::from_raw(raw), signal).map_err(|source| SignalError {
            signal,
            pid,
            source,
        })
    }

    /// `SIGSTOP`: the process freezes, its sockets stay open.
    pub fn pause(&mut self) -> Result<(), SignalError> {
        self.signal(Signal::SIGSTOP)?;
        self.paused = true;
        Ok(())
    }

    /// `SIGCONT`.
    pub fn resume(&mut self) -> Result<(), SignalError> {
        self.signal(Signal::SIGCONT)?;
        self.paused = false;
        Ok(())
    }

    /// `kill -9`, and reap it.
    pub fn kill(mut self) {
        self.kill_now();
    }

    /// `SIGTERM` (resuming it first if paused): the server shuts down and
    /// ends its trace cleanly. `kill -9` if it has not exited within
    /// `grace`.
    pub fn terminate(mut self, grace: std::time::Duration) {
        if self.paused {
            let _ = self.resume();
        }
        if self.signal(Signal::SIGTERM).is_ok() {
            let deadline = std::time::Instant::now() + grace;
            while std::time::Instant::now() < deadline {
                if self.has_exited() {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        self.kill_now();
    }

    fn kill_now(&mut self) {
        // SIGKILL ends a stopped process too.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill_now();
    }
}
