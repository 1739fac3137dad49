//! The forwarding impls, written once: `&mut T`, `Box<T>` and `Pin<P>` are readers,
//! writers, buffered readers and seekers whenever what they point to is.
//!
//! Each of the four traits needs the same three impls, and each impl only passes every
//! method on to the pointee. [`forward_through_pointers!`] takes the trait's methods, written
//! once in terms of [`Pointer::pinned_target`], and stamps out the three impls. Forwarding
//! *every* method matters: relying on a default there would be a quiet bug (flushing a
//! `Box<BufWriter<_>>` would do nothing at all).
//!
//! tokio writes the same impls with a macro per trait; the shape here (one macro, one small
//! trait for "re-pin the pointee") is asincrono's.

use std::ops::DerefMut;
use std::pin::Pin;

/// A pointer whose pointee can be reached as `Pin<&mut Target>` from `Pin<&mut Self>`.
pub(crate) trait Pointer {
    /// What it points to.
    type Pointee: ?Sized;

    /// The pointee, pinned.
    fn pinned_target(self: Pin<&mut Self>) -> Pin<&mut Self::Pointee>;
}

// `Pin::new` needs `T: Unpin`: we re-pin the value behind the reference, which is only
// harmless for types that do not care about moving.
impl<T: ?Sized + Unpin> Pointer for &mut T {
    type Pointee = T;

    fn pinned_target(self: Pin<&mut Self>) -> Pin<&mut T> {
        Pin::new(&mut **self.get_mut())
    }
}

impl<T: ?Sized + Unpin> Pointer for Box<T> {
    type Pointee = T;

    fn pinned_target(self: Pin<&mut Self>) -> Pin<&mut T> {
        Pin::new(&mut **self.get_mut())
    }
}

// A `Pin<P>` already promises its pointee never moves, so no `Unpin` is asked of it; only the
// pointer itself (a `&mut` or a `Box`) must be `Unpin`, to step through the outer `Pin`.
impl<P: DerefMut + Unpin> Pointer for Pin<P> {
    type Pointee = P::Target;

    fn pinned_target(self: Pin<&mut Self>) -> Pin<&mut P::Target> {
        self.get_mut().as_mut()
    }
}

/// `forward_through_pointers!(Trait { methods })` implements `Trait` for `&mut T`, `Box<T>`
/// and `Pin<P>`, with the given method bodies, which reach the pointee through
/// `Pointer::pinned_target(self)` (or `&**self` for `&self` methods).
macro_rules! forward_through_pointers {
    ($trait:ident { $($method:item)* }) => {
        impl<T: ?Sized + $trait + Unpin> $trait for &mut T {
            $($method)*
        }

        impl<T: ?Sized + $trait + Unpin> $trait for Box<T> {
            $($method)*
        }

        impl<P> $trait for ::std::pin::Pin<P>
        where
            P: ::std::ops::DerefMut + Unpin,
            P::Target: $trait,
        {
            $($method)*
        }
    };
}
pub(crate) use forward_through_pointers;
