//! `pin!`: pin a value on the stack (or in the enclosing `async` block's state), in tokio's
//! forms.
//!
//! `std::pin::pin!(value)` already does the work: it moves the value into a temporary that
//! lives as long as the `let` it is written in (temporary lifetime extension) and hands back a
//! `Pin<&mut T>` to it, with no `unsafe` on our side. This macro only adds tokio's two ways of
//! writing it: a list of locals to shadow, and a block of `let`s.

/// Pins values where they stand, so that futures which are not [`Unpin`] can be polled
/// through `&mut` (in a [`select!`](crate::select) in a loop, say).
///
/// Two forms, both as in tokio:
///
/// * `pin!(a, b);` shadows each named local with a `Pin<&mut _>` to its value. The value is
///   moved once, into a place that never moves again, and the old name is gone, so nothing
///   can move it afterwards.
/// * `pin! { let a = expr; let b = expr; }` evaluates each expression and binds its pinned
///   value to the name.
///
/// Either way the pinned value lives until the end of the enclosing block, and the binding
/// is `mut`, so that `a.as_mut()` and `&mut a` work. It is built over [`core::pin::pin!`],
/// and needs no `unsafe`.
///
/// # Examples
///
/// A future kept across the iterations of a loop: it is pinned once, then given to each
/// `select!` as `&mut deadline`, so it keeps its progress instead of starting again.
///
/// ```
/// use std::time::Duration;
/// use asincrono::time::sleep;
///
/// asincrono::block_on(async {
///     let deadline = sleep(Duration::from_millis(20));
///     let ticks = async { 7 };
///     asincrono::pin!(deadline, ticks);
///     let mut rounds = 0;
///     loop {
///         asincrono::select! {
///             biased;
///             n = &mut ticks, if rounds == 0 => {
///                 assert_eq!(n, 7);
///                 rounds += 1;
///             }
///             () = &mut deadline => break,
///         }
///     }
///     assert_eq!(rounds, 1);
/// });
/// ```
///
/// The `let` form:
///
/// ```
/// use std::pin::Pin;
///
/// asincrono::pin! {
///     let answer = async { 42 };
///     let greeting = async { "hello" };
/// }
/// // Each name is now a `Pin<&mut _>`, itself a future, and `Unpin`.
/// let _: &mut Pin<&mut _> = &mut answer;
/// assert_eq!(asincrono::block_on(answer), 42);
/// assert_eq!(asincrono::block_on(greeting), "hello");
/// ```
#[macro_export]
macro_rules! pin {
    ($($name:ident),* $(,)?) => {
        $(
            // `pin!` in a `let` initialiser: the temporary it moves the value into lives
            // as long as this `let`'s block, and the old binding is shadowed.
            let mut $name = ::core::pin::pin!($name);
        )*
    };
    ($(let $name:ident = $init:expr;)*) => {
        $(
            let $name = $init;
            $crate::pin!($name);
        )*
    };
}
