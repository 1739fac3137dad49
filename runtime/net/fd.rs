//! `AsFd` and `AsRawFd` for every socket type, as tokio has them: the way to reach the
//! descriptor for an option or a syscall asincrono does not wrap (see `try_io`).

/// Implements `AsFd` and `AsRawFd` for types whose `io` field is a `Registered` socket.
macro_rules! fd_impls {
    ($($ty:ty),* $(,)?) => {$(
        impl ::std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> ::std::os::fd::BorrowedFd<'_> {
                self.io.get_ref().as_fd()
            }
        }

        impl ::std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> ::std::os::fd::RawFd {
                self.io.get_ref().as_raw_fd()
            }
        }
    )*};
}

pub(crate) use fd_impls;
