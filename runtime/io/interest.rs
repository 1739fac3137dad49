//! `Interest`: which readiness a caller waits for (`TcpStream::ready(Interest::READABLE)`).
//!
//! A small bit set with the two directions a socket is registered for. The corner cut:
//! tokio also has `Interest::ERROR` and, on Linux, `Interest::PRIORITY` (urgent data);
//! asincrono registers every socket for reading and writing only (`driver/reactor.rs`), so it
//! offers only those two. An error still shows up: it wakes both directions, and the
//! operation tried next reports it.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

const READABLE: u8 = 1 << 0;
const WRITABLE: u8 = 1 << 1;

/// The readiness an operation waits for: [`Interest::READABLE`], [`Interest::WRITABLE`], or
/// both (`Interest::READABLE | Interest::WRITABLE`).
///
/// ```
/// use asincrono::io::Interest;
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// assert_eq!(both.remove(Interest::WRITABLE), Some(Interest::READABLE));
/// assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Interest(u8);

impl Interest {
    /// Waiting until the socket can be read (or has been closed for reading).
    pub const READABLE: Interest = Interest(READABLE);
    /// Waiting until the socket can be written (or has been closed for writing).
    pub const WRITABLE: Interest = Interest(WRITABLE);

    /// Whether this includes reading.
    pub const fn is_readable(self) -> bool {
        self.0 & READABLE != 0
    }

    /// Whether this includes writing.
    pub const fn is_writable(self) -> bool {
        self.0 & WRITABLE != 0
    }

    /// Both interests together (`|` in a `const` context).
    #[must_use = "`add` returns the union and leaves `self` unchanged"]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// This interest without `other`; `None` if nothing is left (an interest is never
    /// empty).
    #[must_use = "`remove` returns the difference and leaves `self` unchanged"]
    pub fn remove(self, other: Interest) -> Option<Interest> {
        let left = self.0 & !other.0;
        (left != 0).then_some(Interest(left))
    }
}

impl BitOr for Interest {
    type Output = Interest;
    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (self.is_readable(), "READABLE"),
            (self.is_writable(), "WRITABLE"),
        ];
        let shown: Vec<&str> = names
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| *n)
            .collect();
        write!(f, "{}", shown.join(" | "))
    }
}
