//! The readiness methods every socket type has (`ready`, `readable`, `try_read`,
//! `poll_read_ready`, …), written once as a macro.
//!
//! The mechanics live in `Registered` (`registered.rs`); what is left per type is a row of
//! one-line public methods with the same names and documents on `TcpStream`, `UnixStream`,
//! their halves, `UdpSocket` and `UnixDatagram`. Rather than copy that row six times, each
//! type defines `fn registered(&self) -> &Registered<_>` and asks this macro for the groups
//! of methods it has in tokio: `ready` (with `try_io`/`async_io`), `readable`, `writable`,
//! `stream_read` and `stream_write` (the `try_read`/`try_write` family and
//! `poll_read_ready`/`poll_write_ready`), `datagram` (`poll_recv_ready`/`poll_send_ready`).

/// Expands to the named groups of readiness methods, inside an `impl` block whose type has a
/// `registered(&self)` method.
macro_rules! readiness_methods {
    ($($group:ident),+ $(,)?) => {
        $($crate::net::readiness::readiness_methods!(@ $group);)+
    };
    (@ ready) => {
        /// Waits until the socket is ready for any of `interest`, and says which readiness
        /// was found. A hint, not a promise: the operation tried next may still say
        /// `WouldBlock`, and then waiting again is right.
        pub async fn ready(&self, interest: $crate::io::Interest) -> ::std::io::Result<$crate::io::Ready> {
            self.registered().ready(interest).await
        }

        /// Runs `f`, an operation of your own on this socket (through its raw descriptor,
        /// say), once and without waiting; if it fails with `WouldBlock`, the socket's
        /// readiness for `interest` is cleared so that the next wait really waits. Fails with
        /// `WouldBlock` without calling `f` if no readiness was seen.
        ///
        /// For reading, a stream stops reading ahead for good (asincrono's difference from
        /// tokio, in chapter 12), and this fails without calling `f` while the stream still
        /// holds bytes it read ahead: take them with `try_read` first.
        pub fn try_io<R>(
            &self,
            interest: $crate::io::Interest,
            f: impl FnOnce() -> ::std::io::Result<R>,
        ) -> ::std::io::Result<R> {
            self.registered().try_own_io(interest, f)
        }

        /// Waits for `interest` and runs `f` as [`try_io`](Self::try_io) does, again and
        /// again, until it does not say `WouldBlock`.
        pub async fn async_io<R>(
            &self,
            interest: $crate::io::Interest,
            f: impl FnMut() -> ::std::io::Result<R>,
        ) -> ::std::io::Result<R> {
            self.registered().own_async_io(interest, f).await
        }
    };
    (@ readable) => {
        /// Waits until the socket is readable (or closed for reading). Usually followed by
        /// a `try_*` read, looping on `WouldBlock`.
        pub async fn readable(&self) -> ::std::io::Result<()> {
            self.ready($crate::io::Interest::READABLE).await.map(drop)
        }
    };
    (@ writable) => {
        /// Waits until the socket is writable (or closed for writing). Usually followed by
        /// a `try_*` write, looping on `WouldBlock`.
        pub async fn writable(&self) -> ::std::io::Result<()> {
            self.ready($crate::io::Interest::WRITABLE).await.map(drop)
        }
    };
    (@ stream_read) => {
        /// Ready once the socket is readable; `Pending` otherwise, with the task's waker
        /// stored (several tasks may wait at once: an event wakes them all).
        pub fn poll_read_ready(
            &self,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            self.registered()
                .poll_ready(cx, $crate::io::Interest::READABLE)
                .map_ok(drop)
        }

        /// Reads what is there into `buf`, without waiting: `Ok(0)` is end of file,
        /// `WouldBlock` means nothing to read yet (await [`readable`](Self::readable)).
        pub fn try_read(&self, buf: &mut [u8]) -> ::std::io::Result<usize> {
            self.registered().try_read(buf)
        }

        /// [`try_read`](Self::try_read) into several buffers, filled in order.
        pub fn try_read_vectored(
            &self,
            bufs: &mut [::std::io::IoSliceMut<'_>],
        ) -> ::std::io::Result<usize> {
            self.registered().try_read_vectored(bufs)
        }

        /// [`try_read`](Self::try_read) appending to `buf`'s spare capacity (grown a little
        /// if there is none). tokio takes any `bytes::BufMut`; asincrono takes a `Vec<u8>`.
        pub fn try_read_buf(&self, buf: &mut Vec<u8>) -> ::std::io::Result<usize> {
            $crate::net::vec_buf::receive_into_spare(buf, |spare| {
                Ok((self.registered().try_read(spare)?, ()))
            })
            .map(|(n, ())| n)
        }
    };
    (@ stream_write) => {
        /// Ready once the socket is writable; `Pending` otherwise, with the task's waker
        /// stored (several tasks may wait at once: an event wakes them all).
        pub fn poll_write_ready(
            &self,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            self.registered()
                .poll_ready(cx, $crate::io::Interest::WRITABLE)
                .map_ok(drop)
        }

        /// Writes what fits of `buf`, without waiting: `WouldBlock` means the send buffer
        /// is full (await [`writable`](Self::writable)).
        pub fn try_write(&self, buf: &[u8]) -> ::std::io::Result<usize> {
            self.registered().try_write(buf)
        }

        /// [`try_write`](Self::try_write) from several buffers, taken in order.
        pub fn try_write_vectored(&self, bufs: &[::std::io::IoSlice<'_>]) -> ::std::io::Result<usize> {
            self.registered().try_write_vectored(bufs)
        }
    };
    (@ datagram) => {
        /// Ready once a datagram can be received; `Pending` otherwise, with the task's waker
        /// stored (several tasks may wait at once: an event wakes them all).
        pub fn poll_recv_ready(
            &self,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            self.registered()
                .poll_ready(cx, $crate::io::Interest::READABLE)
                .map_ok(drop)
        }

        /// Ready once a datagram can be sent; `Pending` otherwise, with the task's waker
        /// stored (several tasks may wait at once: an event wakes them all).
        pub fn poll_send_ready(
            &self,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            self.registered()
                .poll_ready(cx, $crate::io::Interest::WRITABLE)
                .map_ok(drop)
        }
    };
}

pub(crate) use readiness_methods;
