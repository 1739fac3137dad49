//! [`ready_or_retry!`]: `ready!` plus `?` for the loops that go round until done
//! (`read_exact`, `write_all`, `copy`, flushing a `BufWriter`, …), retrying an
//! `ErrorKind::Interrupted` as std's loops do. A signal that interrupts a system call says
//! nothing about the stream, so giving up on it would turn a harmless event into a failure.

/// Inside a loop: returns `Pending` from the function, goes round the loop again on
/// `Interrupted`, returns any other error, and otherwise gives the value.
macro_rules! ready_or_retry {
    ($poll:expr) => {
        match ::std::task::ready!($poll) {
            Err(error) if error.kind() == ::std::io::ErrorKind::Interrupted => continue,
            result => result?,
        }
    };
}
pub(super) use ready_or_retry;
