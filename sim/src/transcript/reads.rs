//! Reads: linearizable reads on the leader (`read-index`) and local reads
//! with a session token (`read-local`).

use super::args::Args;
use super::{line, Transcript};
use steadfast::describe::{read_error, Short};
use steadfast::{Epoch, Lsn, Position, ReadId, SessionToken};

impl Transcript {
    /// `read-index ID [read=N]`: ask the leader for a linearizable read.
    pub(super) fn read_index(&mut self, args: &mut Args, out: &mut String) -> Result<(), String> {
        let id = args.id()?;
        let read = match args.opt("read")? {
            Some(n) => n,
            None => {
                self.next_read += 1;
                self.next_read
            }
        };
        let (replica, clock) = self.running(id)?;
        match replica.read_index(clock, ReadId(read)) {
            Ok(()) => line(out, 0, format_args!("{id}: read-index read={read}")),
            Err(error) => line(
                out,
                0,
                format_args!(
                    "{id}: read-index read={read} refused: {}",
                    read_error(error)
                ),
            ),
        }
        self.process(id, 2, out);
        Ok(())
    }

    /// `read-local ID [write=(E,LSN)] [read=(E,LSN)]`: may ID serve a read
    /// for a session whose token names these positions?
    pub(super) fn read_local(&mut self, args: &mut Args, out: &mut String) -> Result<(), String> {
        let id = args.id()?;
        let mut token = SessionToken::new();
        if let Some(at) = position(args, "write")? {
            token = token.after_write(at);
        }
        if let Some(at) = position(args, "read")? {
            token = token.after_read(at);
        }
        let (replica, _) = self.running(id)?;
        let decision = replica.read_local(token);
        let shown = if token.is_empty() {
            "no token".to_string()
        } else {
            format!(
                "token write={} read={}",
                Short(token.last_write),
                Short(token.last_read)
            )
        };
        line(
            out,
            0,
            format_args!("{id}: read-local with {shown}: {decision}"),
        );
        Ok(())
    }
}

/// The option `name=(EPOCH,LSN)`, if given.
fn position(args: &mut Args, name: &str) -> Result<Option<Position>, String> {
    match args.list(name)?.as_deref() {
        None => Ok(None),
        Some([epoch, lsn]) => Ok(Some(Position::new(Epoch(*epoch), Lsn(*lsn)))),
        Some(_) => Err(format!("{name}=(EPOCH,LSN)")),
    }
}
