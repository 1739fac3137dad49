//! Permits: a slot of a bounded channel taken now, filled later.
//!
//! `reserve` waits for room the way `send` does, but without a value: what it returns is
//! the right to send one message that cannot fail and never waits. That is back-pressure
//! for a producer whose message is expensive to build (or must not be built at all when
//! the channel is full): take the slot, then build the message.
//!
//! A permit is only a count in the channel's state: the slot is one of the room's permits,
//! taken like a `send`'s (from the atomic word, or under the channel's state lock), never a
//! second semaphore. Sending
//! through it pushes the message into that slot; dropping it unused gives the slot back to
//! the next waiting sender (and, once the receiver has closed, may be what lets it see the
//! end of the channel). tokio's permits are the same idea over its separate semaphore.
//!
//! The three kinds share their mechanics through the channel (`send_reserved` and
//! `unreserve`), and the `reserve` methods of `Sender` are written here, beside what they
//! return, so that `bounded.rs` need not name the permits: [`Permit`] borrows the sender, [`OwnedPermit`] owns it (to move into a
//! task), and [`PermitIterator`] holds several slots and hands out one permit each.

use super::bounded::Sender;
use super::chan::Chan;
use super::error::{SendError, TrySendError};
use std::fmt;
use std::iter::FusedIterator;

/// One reserved slot of a bounded channel, borrowed from its [`Sender`]: sending through
/// it never waits and never fails. Dropping it unused gives the slot back.
///
/// ```
/// use asincrono::sync::mpsc;
///
/// asincrono::block_on(async {
///     let (tx, mut rx) = mpsc::channel(1);
///     let permit = tx.reserve().await.unwrap(); // the slot is ours...
///     permit.send("built after the slot was secured"); // ...so this cannot fail
///     assert_eq!(rx.recv().await, Some("built after the slot was secured"));
/// });
/// ```
#[must_use = "the slot goes back as soon as the permit is dropped"]
pub struct Permit<'a, T> {
    /// The channel whose slot it holds.
    pub(super) chan: &'a Chan<T>,
}

/// One reserved slot of a bounded channel, owning its [`Sender`] (so it can move into a
/// spawned task); [`send`](OwnedPermit::send) and [`release`](OwnedPermit::release) give
/// the sender back.
#[must_use = "the slot goes back as soon as the permit is dropped"]
pub struct OwnedPermit<T> {
    /// The sender, until `send` or `release` hands it back; `None` only after that.
    pub(super) sender: Option<Sender<T>>,
}

/// Several reserved slots of a bounded channel, yielding one [`Permit`] each; the slots
/// not yet taken go back when it is dropped.
#[must_use = "the slots go back as soon as the iterator is dropped"]
pub struct PermitIterator<'a, T> {
    /// The channel whose slots it holds.
    pub(super) chan: &'a Chan<T>,
    /// Slots not yet handed out as permits.
    pub(super) left: usize,
}

impl<T> Permit<'_, T> {
    /// Sends `value` through the reserved slot. If the receiver is gone the value is
    /// dropped (nobody would ever read it), as in tokio.
    pub fn send(self, value: T) {
        let chan = self.chan;
        // The slot is being used: `Drop` must not give it back. The permit is only a
        // reference, so forgetting it leaks nothing.
        std::mem::forget(self);
        chan.send_reserved(value);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.chan.unreserve(1);
    }
}

impl<T> OwnedPermit<T> {
    /// Sends `value` through the reserved slot and hands the sender back. If the receiver
    /// is gone the value is dropped.
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.sender.take().expect(HOLDS_SENDER);
        sender.chan.send_reserved(value);
        sender
    }

    /// Gives the slot back unused, and the sender with it.
    pub fn release(mut self) -> Sender<T> {
        let sender = self.sender.take().expect(HOLDS_SENDER);
        sender.chan.unreserve(1);
        sender
    }

    /// Whether this permit and `other` belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        self.sender
            .as_ref()
            .is_some_and(|sender| sender.same_channel(other))
    }

    /// The channel's number of slots.
    pub fn max_capacity(&self) -> usize {
        self.sender.as_ref().map_or(0, Sender::max_capacity)
    }
}

/// Why an `OwnedPermit` still has its sender outside `send`, `release` and `Drop`.
const HOLDS_SENDER: &str = "an OwnedPermit holds its sender until it is used";

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            sender.chan.unreserve(1);
            // The sender drops here, after the slot went back, as a sender's drop would.
        }
    }
}

impl<'a, T> Iterator for PermitIterator<'a, T> {
    type Item = Permit<'a, T>;

    fn next(&mut self) -> Option<Permit<'a, T>> {
        self.left = self.left.checked_sub(1)?;
        Some(Permit { chan: self.chan })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<T> ExactSizeIterator for PermitIterator<'_, T> {}

impl<T> FusedIterator for PermitIterator<'_, T> {}

impl<T> Drop for PermitIterator<'_, T> {
    fn drop(&mut self) {
        if self.left > 0 {
            self.chan.unreserve(self.left);
        }
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for PermitIterator<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PermitIterator")
            .field("left", &self.left)
            .finish_non_exhaustive()
    }
}

/// Taking slots now to fill later.
impl<T> Sender<T> {
    /// Waits for a free slot and reserves it: the returned [`Permit`] sends one message
    /// without waiting and without failing. Waits in the same first-come queue as `send`.
    /// Fails if the receiver is gone or closed.
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future loses only its place in the queue; a slot it had
    /// just been granted goes on to the next sender.
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        self.chan.reserve(1).await?;
        Ok(Permit { chan: &self.chan })
    }

    /// Waits for `n` free slots and reserves them all at once, as an iterator of permits.
    /// Fails at once if `n` is more than the channel's capacity (it could never succeed),
    /// and when the receiver is gone or closed.
    ///
    /// ```
    /// use asincrono::sync::mpsc;
    ///
    /// asincrono::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(4);
    ///     for (i, permit) in tx.reserve_many(3).await.unwrap().enumerate() {
    ///         permit.send(i);
    ///     }
    ///     assert_eq!(rx.len(), 3);
    /// });
    /// ```
    ///
    /// # Cancel safety
    /// As for [`reserve`](Sender::reserve): slots granted so far go back.
    pub async fn reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, SendError<()>> {
        if n > self.max_capacity() {
            return Err(SendError(()));
        }
        self.chan.reserve(n).await?;
        Ok(PermitIterator {
            chan: &self.chan,
            left: n,
        })
    }

    /// [`reserve`](Sender::reserve) with a permit that owns the sender, so that it can
    /// move into a spawned task.
    ///
    /// # Cancel safety
    /// As for [`reserve`](Sender::reserve); the sender is dropped with the future.
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        self.chan.reserve(1).await?;
        Ok(OwnedPermit { sender: Some(self) })
    }

    /// Reserves a slot if one is free now (and nobody waits for room before us); never
    /// waits.
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        self.chan.try_reserve(1)?;
        Ok(Permit { chan: &self.chan })
    }

    /// Reserves `n` slots if they are all free now; never waits. `Full` if `n` is more
    /// than the channel's capacity.
    pub fn try_reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, TrySendError<()>> {
        self.chan.try_reserve(n)?;
        Ok(PermitIterator {
            chan: &self.chan,
            left: n,
        })
    }

    /// [`try_reserve`](Sender::try_reserve) with an owning permit. On failure the sender
    /// comes back inside the error.
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        match self.chan.try_reserve(1) {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(TrySendError::Full(())) => Err(TrySendError::Full(self)),
            Err(TrySendError::Closed(())) => Err(TrySendError::Closed(self)),
        }
    }
}
