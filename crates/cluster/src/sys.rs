//! The system calls the cluster makes that std does not wrap: `fork`,
//! `waitpid`, `kill`, descriptor passing with `SCM_RIGHTS`, shared
//! anonymous mappings, `SO_REUSEPORT` listeners, descriptor and signal
//! mask fix-ups around `fork` and `exec`, and the user database and
//! credential calls of a privilege drop. Every `unsafe` block of the crate
//! is here.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// `fork(2)`: `Some(child pid)` in the parent, `None` in the child.
///
/// Only sound while the calling process has one thread (the child gets a
/// copy of this thread alone, so a lock another thread held would stay
/// locked forever); [`crate::run`] documents that duty for its caller.
pub(crate) fn fork() -> io::Result<Option<libc::pid_t>> {
    // SAFETY: fork has no memory-safety preconditions of its own; the
    // single-thread requirement (locks held by other threads) is the
    // caller's, documented on `crate::run`.
    let pid = cvt(unsafe { libc::fork() })?;
    Ok((pid != 0).then_some(pid))
}

/// One exited child, if any, without blocking: `(pid, raw status)`.
pub(crate) fn reap() -> Option<(libc::pid_t, libc::c_int)> {
    let mut status = 0;
    // SAFETY: `status` is a valid, writable int.
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    (pid > 0).then_some((pid, status))
}

/// A readable description of a `waitpid` status.
pub(crate) fn describe_status(status: libc::c_int) -> String {
    if libc::WIFEXITED(status) {
        format!("exit code {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        format!("signal {}", libc::WTERMSIG(status))
    } else {
        format!("status {status}")
    }
}

/// `kill(2)`.
pub(crate) fn kill(pid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: kill takes plain integers.
    cvt(unsafe { libc::kill(pid, sig) }).map(drop)
}

/// This process's id.
pub(crate) fn getpid() -> libc::pid_t {
    // SAFETY: getpid cannot fail and takes no arguments.
    unsafe { libc::getpid() }
}

/// The parent process's id (that of the reaper once the parent is gone).
pub(crate) fn getppid() -> libc::pid_t {
    // SAFETY: getppid cannot fail and takes no arguments.
    unsafe { libc::getppid() }
}

/// Sends one byte and, if given, one descriptor (`SCM_RIGHTS`) on a Unix
/// stream socket, without blocking.
pub(crate) fn send_msg(sock: RawFd, byte: u8, fd: Option<RawFd>) -> io::Result<()> {
    let mut data = [byte];
    let mut iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: 1 };
    // u64 array: aligned for cmsghdr.
    let mut cbuf = [0u64; 8];
    // SAFETY: msghdr is plain old data; zero is a valid empty value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if let Some(fd) = fd {
        // SAFETY: CMSG_SPACE is a pure size computation.
        let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = space;
        // SAFETY: msg_control points at `cbuf`, which is at least `space`
        // bytes and aligned, so the first header and its data fit in it.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), fd);
        }
    }
    loop {
        // SAFETY: msg and everything it points at live across the call.
        let rc = unsafe { libc::sendmsg(sock, &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
        if rc >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Receives one byte and any descriptors that came with it (made
/// close-on-exec). `Ok(None)` at end of stream; `WouldBlock` if nothing
/// is there.
pub(crate) fn recv_msg(sock: RawFd) -> io::Result<Option<(u8, Vec<OwnedFd>)>> {
    let mut data = [0u8];
    let mut iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: 1 };
    let mut cbuf = [0u64; 16];
    // SAFETY: msghdr is plain old data; zero is a valid empty value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&cbuf);
    // SAFETY: msg points at live buffers of the sizes it states.
    let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut fds = Vec::new();
    // SAFETY: the kernel filled msg_control with msg_controllen bytes of
    // well-formed headers; the CMSG_* macros walk them within that length,
    // and each SCM_RIGHTS descriptor is new and ours to own.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let len = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                let data = libc::CMSG_DATA(cmsg).cast::<RawFd>();
                for i in 0..len / std::mem::size_of::<RawFd>() {
                    fds.push(OwnedFd::from_raw_fd(std::ptr::read_unaligned(data.add(i))));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    if n == 0 && fds.is_empty() {
        return Ok(None);
    }
    Ok(Some((data[0], fds)))
}

/// A zeroed `MAP_SHARED | MAP_ANONYMOUS` mapping of `len` bytes that is
/// never unmapped: processes forked after this call share it.
pub(crate) fn shared_zeroed(len: usize) -> io::Result<*mut u8> {
    // SAFETY: an anonymous mapping at a kernel-chosen address touches no
    // existing memory.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(p.cast())
}

/// Types for which the all-zero bit pattern is a valid value, so a zeroed
/// mapping may be read as them.
///
/// # Safety
/// Implement only for types whose every field is valid when zeroed
/// (integers, atomics, arrays and `repr(C)` structs of them).
pub(crate) unsafe trait Zeroable: Sync {}

// SAFETY: an AtomicI32 has the layout of an i32; zero is a valid i32.
unsafe impl Zeroable for std::sync::atomic::AtomicI32 {}
// SAFETY: a Slot is a repr(C) array of AtomicI64, each valid when zero.
unsafe impl Zeroable for crate::stats::Slot {}

/// Shared, zeroed, never-unmapped memory holding `n` values of `T`.
pub(crate) fn shared_array<T: Zeroable>(n: usize) -> io::Result<&'static [T]> {
    // A mapping starts on a page boundary, which is aligned enough for
    // any T with an alignment of at most a page.
    assert!(std::mem::align_of::<T>() <= 4096, "shared_array: alignment above a page");
    let p = shared_zeroed(std::mem::size_of::<T>() * n)?;
    // SAFETY: the mapping is page-aligned (checked above to suffice for
    // T), zeroed (a valid T, as T is `Zeroable`), `n` elements long, and
    // never unmapped, so 'static.
    Ok(unsafe { std::slice::from_raw_parts(p.cast::<T>(), n) })
}

/// A listening TCP socket with `SO_REUSEADDR` and `SO_REUSEPORT`,
/// close-on-exec.
pub(crate) fn reuseport_listener(addr: SocketAddr, backlog: u32) -> io::Result<std::net::TcpListener> {
    let owned = bound_socket(addr, &[libc::SO_REUSEADDR, libc::SO_REUSEPORT])?;
    // SAFETY: listen takes plain integers.
    cvt(unsafe { libc::listen(owned.as_raw_fd(), backlog.min(i32::MAX as u32) as libc::c_int) })?;
    Ok(std::net::TcpListener::from(owned))
}

/// Fails with `EADDRINUSE` if some socket listens on `addr` (or on an
/// address that covers it, such as the wildcard on its port), ours or
/// another process's: binds a socket with `SO_REUSEADDR` alone, which
/// `TIME_WAIT` connections on the port do not stop but any listener does,
/// and closes it. `SO_REUSEPORT` lets a socket of the same user join a
/// listening one, so without this check a second server started on a
/// running one's port would silently share its connections.
pub(crate) fn check_unused(addr: SocketAddr) -> io::Result<()> {
    bound_socket(addr, &[libc::SO_REUSEADDR]).map(drop)
}

/// A TCP socket with the socket options `opts` set to 1, bound to `addr`,
/// close-on-exec.
fn bound_socket(addr: SocketAddr, opts: &[libc::c_int]) -> io::Result<OwnedFd> {
    let family = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    // SAFETY: socket takes plain integers.
    let fd = cvt(unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: `fd` is a new descriptor nobody else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let one: libc::c_int = 1;
    for &opt in opts {
        // SAFETY: `one` is a live int of the size passed.
        cvt(unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                opt,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        })?;
    }
    // SAFETY: sockaddr_storage is plain old data.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for any
            // sockaddr type.
            let sin =
                unsafe { &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr = libc::in_addr { s_addr: u32::from_ne_bytes(a.ip().octets()) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: as above.
            let sin6 =
                unsafe { &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr = libc::in6_addr { s6_addr: a.ip().octets() };
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_scope_id = a.scope_id();
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    // SAFETY: `storage` holds a sockaddr of `len` bytes.
    cvt(unsafe {
        libc::bind(fd, (&storage as *const libc::sockaddr_storage).cast(), len as libc::socklen_t)
    })?;
    Ok(owned)
}

/// Adopts an inherited listening descriptor named by number (binary
/// upgrade), after checking that it is an open socket.
pub(crate) fn adopt_listener(fd: RawFd) -> io::Result<std::net::TcpListener> {
    // SAFETY: F_GETFD only reads the descriptor's flags.
    cvt(unsafe { libc::fcntl(fd, libc::F_GETFD) })?;
    set_cloexec(fd, true)?;
    // SAFETY: the fd is open (checked above) and was handed to this process
    // by its parent for it to own; nothing else in the process uses it.
    let l = unsafe { std::net::TcpListener::from_raw_fd(fd) };
    l.local_addr()?;
    Ok(l)
}

fn set_cloexec(fd: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: fcntl on an integer descriptor; errors are reported.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFD) })?;
    let flags = if on { flags | libc::FD_CLOEXEC } else { flags & !libc::FD_CLOEXEC };
    // SAFETY: as above.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFD, flags) }).map(drop)
}

/// In a freshly forked worker: unblocks every signal (the master blocked
/// the ones its signalfd reads) and ignores the master-only ones, so that
/// a terminal's HUP or a stray USR1 cannot kill a worker. TERM, INT and
/// QUIT keep their default (fatal) action; the master sees the exit.
pub(crate) fn worker_signals() {
    for s in [libc::SIGHUP, libc::SIGUSR1, libc::SIGUSR2, libc::SIGPIPE] {
        // SAFETY: SIG_IGN is a valid disposition for these signals.
        unsafe { libc::signal(s, libc::SIG_IGN) };
    }
    for s in [libc::SIGCHLD, libc::SIGTERM, libc::SIGINT, libc::SIGQUIT] {
        // SAFETY: SIG_DFL is a valid disposition for these signals.
        unsafe { libc::signal(s, libc::SIG_DFL) };
    }
    unblock_all();
}

fn unblock_all() {
    // SAFETY: a zeroed sigset_t is then initialised by sigemptyset, and
    // SIG_SETMASK with an empty set only unblocks.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
}

/// In a freshly forked worker: closes every descriptor except stdio and
/// `keep`, so that the worker holds neither the master's poller and
/// signalfd nor other workers' channels (an open channel end would hide
/// the master's death from them, and an extra listener copy would keep a
/// port open). The Rust objects that owned them are never dropped: the
/// worker leaves with `exit`.
pub(crate) fn close_all_but(keep: &[RawFd]) {
    let fds: Vec<RawFd> = match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect(),
        Err(_) => (3..1024).collect(),
    };
    for fd in fds {
        if fd > 2 && !keep.contains(&fd) {
            // SAFETY: closing a descriptor this process will never use
            // again: its owners are abandoned (the process exits without
            // unwinding past them).
            unsafe { libc::close(fd) };
        }
    }
}

/// Makes `cmd` keep `fds` open across its `exec` (they are close-on-exec
/// in this process) and start with no signal blocked.
pub(crate) fn inherit_fds(cmd: &mut Command, fds: Vec<RawFd>) {
    // SAFETY: the closure runs in the child between fork and exec and only
    // makes async-signal-safe calls (fcntl, sigprocmask); it allocates
    // nothing (the Vec was built before the fork).
    unsafe {
        cmd.pre_exec(move || {
            for &fd in &fds {
                set_cloexec(fd, false)?;
            }
            unblock_all();
            Ok(())
        });
    }
}

/// `_exit(2)`: leaves at once, without running `atexit` handlers or
/// flushing anything (a worker whose state is a copy of the master's must
/// not flush the master's buffers a second time).
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and has no preconditions.
    unsafe { libc::_exit(code) }
}

/// This process's effective user id.
pub(crate) fn geteuid() -> u32 {
    // SAFETY: geteuid cannot fail and takes no arguments.
    unsafe { libc::geteuid() }
}

/// Calls `f(buf)`, a `get*_r` lookup that returns an errno value and
/// says `ERANGE` when `buf` is too small, with a growing buffer.
fn with_buffer(mut f: impl FnMut(&mut [u8]) -> libc::c_int) -> io::Result<()> {
    let mut buf = vec![0u8; 1024];
    loop {
        match f(&mut buf) {
            0 => return Ok(()),
            libc::ERANGE if buf.len() < 1 << 20 => buf.resize(buf.len() * 2, 0),
            libc::EINTR => {}
            e => return Err(io::Error::from_raw_os_error(e)),
        }
    }
}

fn c_name(name: &str) -> io::Result<std::ffi::CString> {
    std::ffi::CString::new(name).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in a name"))
}

/// `getpwnam_r(3)`: the user's `(uid, primary gid)`, `None` if unknown.
pub(crate) fn lookup_user(name: &str) -> io::Result<Option<(u32, u32)>> {
    let cname = c_name(name)?;
    // SAFETY: passwd is plain old data; zero is a valid value to be
    // overwritten.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    with_buffer(|buf| {
        // SAFETY: every pointer is to a live value of the right type, and
        // `buf` is writable for the length passed; the strings the result
        // points into live in `buf`, which is not read after this.
        unsafe { libc::getpwnam_r(cname.as_ptr(), &mut pw, buf.as_mut_ptr().cast(), buf.len(), &mut found) }
    })?;
    Ok((!found.is_null()).then_some((pw.pw_uid, pw.pw_gid)))
}

/// `getgrnam_r(3)`: the group's id, `None` if unknown.
pub(crate) fn lookup_group(name: &str) -> io::Result<Option<u32>> {
    let cname = c_name(name)?;
    // SAFETY: group is plain old data; zero is a valid value to be
    // overwritten.
    let mut gr: libc::group = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::group = std::ptr::null_mut();
    with_buffer(|buf| {
        // SAFETY: as in `lookup_user`.
        unsafe { libc::getgrnam_r(cname.as_ptr(), &mut gr, buf.as_mut_ptr().cast(), buf.len(), &mut found) }
    })?;
    Ok((!found.is_null()).then_some(gr.gr_gid))
}

/// `getgrouplist(3)`: the groups `user` belongs to, plus `gid` (what
/// `initgroups` would set, computed in the master rather than in the
/// freshly forked worker).
pub(crate) fn group_list(user: &str, gid: u32) -> io::Result<Vec<u32>> {
    let cname = c_name(user)?;
    let mut groups: Vec<libc::gid_t> = vec![0; 64];
    loop {
        let mut n = groups.len() as libc::c_int;
        // SAFETY: `groups` has room for `n` ids; on return `n` is the
        // number written, or the number needed when -1 says it was short.
        let rc = unsafe { libc::getgrouplist(cname.as_ptr(), gid, groups.as_mut_ptr(), &mut n) };
        if rc >= 0 {
            groups.truncate(n.max(0) as usize);
            return Ok(groups);
        }
        if groups.len() >= 1 << 16 {
            return Err(io::Error::other("more than 65536 groups"));
        }
        groups.resize((n.max(0) as usize).max(groups.len() * 2), 0);
    }
}

/// `setgroups(2)`: the supplementary groups (root only).
pub(crate) fn set_groups(groups: &[u32]) -> io::Result<()> {
    // SAFETY: the pointer and length describe the live slice.
    cvt(unsafe { libc::setgroups(groups.len(), groups.as_ptr()) }).map(drop)
}

/// `setresgid(2)`: real, effective and saved group id, all to `gid`.
pub(crate) fn set_gids(gid: u32) -> io::Result<()> {
    // SAFETY: setresgid takes plain integers.
    cvt(unsafe { libc::setresgid(gid, gid, gid) }).map(drop)
}

/// `setresuid(2)`: real, effective and saved user id, all to `uid`.
pub(crate) fn set_uids(uid: u32) -> io::Result<()> {
    // SAFETY: setresuid takes plain integers.
    cvt(unsafe { libc::setresuid(uid, uid, uid) }).map(drop)
}

/// `getresuid(2)`: (real, effective, saved) user ids.
pub(crate) fn get_uids() -> io::Result<(u32, u32, u32)> {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: three live, writable uid_t values.
    cvt(unsafe { libc::getresuid(&mut r, &mut e, &mut s) })?;
    Ok((r, e, s))
}

/// `getresgid(2)`: (real, effective, saved) group ids.
pub(crate) fn get_gids() -> io::Result<(u32, u32, u32)> {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: three live, writable gid_t values.
    cvt(unsafe { libc::getresgid(&mut r, &mut e, &mut s) })?;
    Ok((r, e, s))
}

/// `prctl(PR_SET_DUMPABLE, 1)`: undoes the kernel's "not dumpable" mark
/// that changing credentials sets.
pub(crate) fn set_dumpable() -> io::Result<()> {
    // SAFETY: PR_SET_DUMPABLE takes one integer argument; the rest are
    // ignored and passed as zero.
    cvt(unsafe {
        libc::prctl(
            libc::PR_SET_DUMPABLE,
            1 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })
    .map(drop)
}

/// `sched_getaffinity(2)` of this process: the CPUs it may run on,
/// ascending.
pub(crate) fn cpu_affinity() -> io::Result<Vec<usize>> {
    // SAFETY: cpu_set_t is a plain bit array; all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a live, writable cpu_set_t of the size passed.
    cvt(unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) })?;
    // SAFETY: CPU_ISSET reads bit `cpu` of `set`, and every `cpu` is below
    // CPU_SETSIZE, the number of bits the set holds.
    Ok((0..crate::affinity::MAX_CPUS).filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) }).collect())
}

/// `sched_setaffinity(2)`: binds this process to `cpus`.
pub(crate) fn set_cpu_affinity(cpus: &[usize]) -> io::Result<()> {
    // SAFETY: as in `cpu_affinity`: all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &cpu in cpus.iter().filter(|&&c| c < crate::affinity::MAX_CPUS) {
        // SAFETY: CPU_SET writes bit `cpu` of `set`; `cpu` is below
        // CPU_SETSIZE (checked by the filter).
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: `set` is a live cpu_set_t of the size passed.
    cvt(unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) }).map(drop)
}

/// Whether the account `(uid, gid, groups)` may `access(2)` `path` with
/// `mode` (`R_OK | X_OK`, `W_OK`...): the kernel decides, ACLs and all,
/// in a child forked for the purpose that takes those ids and asks.
/// Asking in this process would need it to change its own ids, which a
/// root master must not (glibc would change every thread's too).
///
/// # Errors
/// `fork` failing, or the child unable to take the ids.
pub(crate) fn access_as(
    path: &std::path::Path,
    mode: libc::c_int,
    uid: u32,
    gid: u32,
    groups: &[u32],
) -> io::Result<bool> {
    use std::os::unix::ffi::OsStrExt;
    // Everything the child needs is prepared before the fork: it only
    // makes system calls, so it is sound even when this process has
    // other threads (a test harness).
    let cpath = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in a path"))?;
    // SAFETY: the child below calls only raw system calls and `_exit`,
    // which are async-signal-safe, so it is sound whatever other threads
    // held at the fork.
    let pid = cvt(unsafe { libc::fork() })?;
    if pid == 0 {
        // SAFETY: raw system calls with plain integers and pointers to
        // live values (`groups`, `cpath`, copied into the child with the
        // rest of memory); `_exit` never returns.
        unsafe {
            let dropped = libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) == 0
                && libc::syscall(libc::SYS_setresgid, gid, gid, gid) == 0
                && libc::syscall(libc::SYS_setresuid, uid, uid, uid) == 0;
            if !dropped {
                libc::_exit(2);
            }
            let ok = libc::syscall(libc::SYS_faccessat, libc::AT_FDCWD, cpath.as_ptr(), mode) == 0;
            libc::_exit(if ok { 0 } else { 1 });
        }
    }
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid, writable int; `pid` is our child.
        if unsafe { libc::waitpid(pid, &mut status, 0) } >= 0 {
            break;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    match (libc::WIFEXITED(status), libc::WEXITSTATUS(status)) {
        (true, 0) => Ok(true),
        (true, 1) => Ok(false),
        _ => Err(io::Error::other(format!("the access check's child: {}", describe_status(status)))),
    }
}
