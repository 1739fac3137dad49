//! Socket options that std and mio do not offer (`SO_LINGER`, `SO_REUSEPORT`, buffer sizes,
//! `IP_TOS`, `IPV6_TCLASS`, keepalive…), read and set through libc.
//!
//! tokio gets these from the `socket2` crate. asincrono's only way to the kernel besides
//! std and mio is libc, so this file holds the two `unsafe` calls every option goes through,
//! `setsockopt(2)` and `getsockopt(2)`, and small typed helpers over them.

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

pub(crate) use libc::{
    IP_TOS, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPV6_TCLASS, SO_KEEPALIVE, SO_RCVBUF,
    SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF, SOL_SOCKET, TCP_NODELAY,
};

/// Sets option `name` at `level` to `value`, a plain C value (`c_int`, `linger`).
fn set<T: Copy>(
    socket: &impl AsFd,
    level: libc::c_int,
    name: libc::c_int,
    value: T,
) -> io::Result<()> {
    let fd = socket.as_fd().as_raw_fd();
    // SAFETY: `fd` is open for the whole call (borrowed from `socket`); the pointer and
    // length describe `value`, a live, initialised `T` the kernel only reads.
    let result = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&raw const value).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if result == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reads option `name` at `level` into a copy of `init` (which fixes its type and size).
fn get<T: Copy>(
    socket: &impl AsFd,
    level: libc::c_int,
    name: libc::c_int,
    init: T,
) -> io::Result<T> {
    let fd = socket.as_fd().as_raw_fd();
    let mut value = init;
    let mut len = size_of::<T>() as libc::socklen_t;
    // SAFETY: `fd` is open for the whole call; the pointer and `len` describe `value`, a
    // live `T` of plain integers (any bytes the kernel writes make a valid `T`), and the
    // kernel writes at most `len` bytes.
    let result = unsafe { libc::getsockopt(fd, level, name, (&raw mut value).cast(), &mut len) };
    if result == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}

/// Sets an on/off option.
pub(crate) fn set_flag(
    socket: &impl AsFd,
    level: libc::c_int,
    name: libc::c_int,
    on: bool,
) -> io::Result<()> {
    set(socket, level, name, libc::c_int::from(on))
}

/// Reads an on/off option.
pub(crate) fn flag(socket: &impl AsFd, level: libc::c_int, name: libc::c_int) -> io::Result<bool> {
    Ok(get(socket, level, name, 0 as libc::c_int)? != 0)
}

/// Sets a numeric option; a value beyond `c_int` is refused as `InvalidInput`.
pub(crate) fn set_u32(
    socket: &impl AsFd,
    level: libc::c_int,
    name: libc::c_int,
    value: u32,
) -> io::Result<()> {
    let value = libc::c_int::try_from(value).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("socket option value {value} is too large"),
        )
    })?;
    set(socket, level, name, value)
}

/// Reads a numeric option.
pub(crate) fn get_u32(
    socket: &impl AsFd,
    level: libc::c_int,
    name: libc::c_int,
) -> io::Result<u32> {
    let value = get(socket, level, name, 0 as libc::c_int)?;
    Ok(u32::try_from(value).unwrap_or(0))
}

/// Sets `SO_LINGER`: `None` lets `close` return at once and the kernel send what is left
/// in the background; `Some(t)` makes `close` wait up to `t` (whole seconds), and
/// `Some(0)` makes it reset the connection, dropping unsent data.
pub(crate) fn set_linger(socket: &impl AsFd, linger: Option<Duration>) -> io::Result<()> {
    let seconds = linger.map_or(0, |t| {
        libc::c_int::try_from(t.as_secs()).unwrap_or(libc::c_int::MAX)
    });
    let value = libc::linger {
        l_onoff: libc::c_int::from(linger.is_some()),
        l_linger: seconds,
    };
    set(socket, SOL_SOCKET, libc::SO_LINGER, value)
}

/// Reads `SO_LINGER`.
pub(crate) fn linger(socket: &impl AsFd) -> io::Result<Option<Duration>> {
    let init = libc::linger {
        l_onoff: 0,
        l_linger: 0,
    };
    let value = get(socket, SOL_SOCKET, libc::SO_LINGER, init)?;
    Ok((value.l_onoff != 0).then(|| Duration::from_secs(value.l_linger.max(0) as u64)))
}
