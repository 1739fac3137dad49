//! `Ready`: the readiness a socket was found in (what `TcpStream::ready` returns).
//!
//! The bits are the reactor's own (`driver/reactor.rs`): readable, writable, closed for
//! reading, closed for writing, error. Readiness is a hint, not a promise: the syscall tried
//! next may still say `WouldBlock` (another task got there first), and then the `try_*`
//! method that saw it clears the bit. tokio's `Ready` has one more bit, `PRIORITY`, which
//! asincrono never reports (see `interest.rs`).

use crate::driver::{ERROR, READ_CLOSED, READABLE, WRITABLE, WRITE_CLOSED};
use std::fmt;
use std::ops::{BitAnd, BitOr, BitOrAssign, Sub};

/// A set of readiness bits.
///
/// ```
/// use asincrono::io::Ready;
/// let ready = Ready::READABLE | Ready::READ_CLOSED;
/// assert!(ready.is_readable() && ready.is_read_closed());
/// assert!(!ready.is_writable());
/// assert!((ready - Ready::READABLE - Ready::READ_CLOSED).is_empty());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ready(u8);

impl Ready {
    /// No readiness.
    pub const EMPTY: Ready = Ready(0);
    /// Data can be read.
    pub const READABLE: Ready = Ready(READABLE);
    /// Data can be written.
    pub const WRITABLE: Ready = Ready(WRITABLE);
    /// The peer will send nothing more: a read returns end of file.
    pub const READ_CLOSED: Ready = Ready(READ_CLOSED);
    /// Writing is shut down: a write fails.
    pub const WRITE_CLOSED: Ready = Ready(WRITE_CLOSED);
    /// The socket has an error pending (`take_error` reads it).
    pub const ERROR: Ready = Ready(ERROR);
    /// Every bit above.
    pub const ALL: Ready = Ready(READABLE | WRITABLE | READ_CLOSED | WRITE_CLOSED | ERROR);

    /// The readiness the reactor recorded, bit for bit.
    pub(crate) fn from_reactor(bits: u8) -> Ready {
        Ready(bits & Ready::ALL.0)
    }

    /// The bits, in the reactor's layout.
    pub(crate) fn bits(self) -> u8 {
        self.0
    }

    /// Whether no bit is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether a read would make progress: readable, or closed for reading (end of file).
    pub fn is_readable(self) -> bool {
        self.0 & (READABLE | READ_CLOSED) != 0
    }

    /// Whether a write would make progress: writable, or closed for writing (an error).
    pub fn is_writable(self) -> bool {
        self.0 & (WRITABLE | WRITE_CLOSED) != 0
    }

    /// Whether the reading side is closed.
    pub fn is_read_closed(self) -> bool {
        self.0 & READ_CLOSED != 0
    }

    /// Whether the writing side is closed.
    pub fn is_write_closed(self) -> bool {
        self.0 & WRITE_CLOSED != 0
    }

    /// Whether an error is pending.
    pub fn is_error(self) -> bool {
        self.0 & ERROR != 0
    }
}

impl BitOr for Ready {
    type Output = Ready;
    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl BitOrAssign for Ready {
    fn bitor_assign(&mut self, other: Ready) {
        self.0 |= other.0;
    }
}

impl BitAnd for Ready {
    type Output = Ready;
    fn bitand(self, other: Ready) -> Ready {
        Ready(self.0 & other.0)
    }
}

impl Sub for Ready {
    type Output = Ready;
    fn sub(self, other: Ready) -> Ready {
        Ready(self.0 & !other.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready")
            .field("is_readable", &(self.0 & READABLE != 0))
            .field("is_writable", &(self.0 & WRITABLE != 0))
            .field("is_read_closed", &self.is_read_closed())
            .field("is_write_closed", &self.is_write_closed())
            .field("is_error", &self.is_error())
            .finish()
    }
}
