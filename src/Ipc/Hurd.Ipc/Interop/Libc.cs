#pragma warning disable CS8981 // C names, on purpose (Tmds.LibC style)
using System.Runtime.InteropServices;

namespace Hurd.Ipc.Interop;

/// <summary>
/// The Linux system calls the IPC core stands on, with their C names (Tmds.LibC style).
/// Raw int constants stay in this folder; everything above speaks <see cref="Abi.Errno"/>.
/// All functions set the last P/Invoke error (read it with <see cref="Errno"/>).
/// </summary>
internal static unsafe partial class Libc
{
    private const string L = "libc";

    public const int AF_UNIX = 1;
    public const int SOCK_SEQPACKET = 5;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOL_SOCKET = 1;
    public const int SO_PEERCRED = 17;
    public const int SO_PASSCRED = 16;
    public const int SCM_CREDENTIALS = 2;
    public const int SCM_RIGHTS = 1;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_CMSG_CLOEXEC = 0x40000000;
    public const int MSG_TRUNC = 0x20;
    public const int MSG_CTRUNC = 0x8;

    public const uint MFD_CLOEXEC = 1;
    public const uint MFD_ALLOW_SEALING = 2;
    public const int F_ADD_SEALS = 1033;
    public const int F_GET_SEALS = 1034;
    public const int F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4;

    public const int PROT_READ = 1, PROT_WRITE = 2;
    public const int MAP_SHARED = 1;

    public const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;
    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
    public const uint EPOLLIN = 1, EPOLLERR = 8, EPOLLHUP = 0x10, EPOLLRDHUP = 0x2000, EPOLLET = 1u << 31;

    public const short POLLIN = 1, POLLERR = 8, POLLHUP = 0x10, POLLNVAL = 0x20;
    public const short POLLRDHUP = 0x2000;

    public const int FUTEX_WAIT = 0, FUTEX_WAKE = 1;
    private const long SYS_futex = 202;

    public const int EINTR = 4, EAGAIN = 11, ETIMEDOUT = 110, ECONNREFUSED = 111, ENOENT = 2, ESRCH = 3;

    [StructLayout(LayoutKind.Sequential)]
    public struct iovec { public void* iov_base; public nuint iov_len; }

    [StructLayout(LayoutKind.Sequential)]
    public struct msghdr
    {
        public void* msg_name; public uint msg_namelen; public iovec* msg_iov; public nuint msg_iovlen;
        public void* msg_control; public nuint msg_controllen; public int msg_flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct cmsghdr { public nuint cmsg_len; public int cmsg_level; public int cmsg_type; }

    [StructLayout(LayoutKind.Sequential)]
    public struct ucred { public int pid; public uint uid; public uint gid; }

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct epoll_event { public uint events; public ulong data; }

    [StructLayout(LayoutKind.Sequential)]
    public struct pollfd { public int fd; public short events; public short revents; }

    [StructLayout(LayoutKind.Sequential)]
    public struct timespec { public long tv_sec; public long tv_nsec; }

    [StructLayout(LayoutKind.Sequential)]
    public struct sockaddr_un { public ushort sun_family; public fixed byte sun_path[108]; }

    public static int Errno => Marshal.GetLastPInvokeError();

    [LibraryImport(L, SetLastError = true)] public static partial int socket(int domain, int type, int protocol);
    [LibraryImport(L, SetLastError = true)] public static partial int socketpair(int domain, int type, int protocol, int* sv);
    [LibraryImport(L, SetLastError = true)] public static partial int bind(int fd, sockaddr_un* addr, uint len);
    [LibraryImport(L, SetLastError = true)] public static partial int listen(int fd, int backlog);
    [LibraryImport(L, SetLastError = true)] public static partial int accept4(int fd, void* addr, void* len, int flags);
    [LibraryImport(L, SetLastError = true)] public static partial int connect(int fd, sockaddr_un* addr, uint len);
    [LibraryImport(L, SetLastError = true)] public static partial nint sendmsg(int fd, msghdr* msg, int flags);
    [LibraryImport(L, SetLastError = true)] public static partial nint recvmsg(int fd, msghdr* msg, int flags);
    [LibraryImport(L, SetLastError = true)] public static partial int setsockopt(int fd, int level, int name, void* val, uint len);
    [LibraryImport(L, SetLastError = true)] public static partial int getsockopt(int fd, int level, int name, void* val, uint* len);
    [LibraryImport(L, SetLastError = true)] public static partial int close(int fd);
    [LibraryImport(L, SetLastError = true)] public static partial nint read(int fd, void* buf, nuint count);
    [LibraryImport(L, SetLastError = true)] public static partial nint write(int fd, void* buf, nuint count);
    [LibraryImport(L, SetLastError = true)] public static partial int memfd_create([MarshalAs(UnmanagedType.LPUTF8Str)] string name, uint flags);
    [LibraryImport(L, SetLastError = true)] public static partial int ftruncate(int fd, long length);
    [LibraryImport(L, SetLastError = true)] public static partial int fcntl(int fd, int cmd, int arg);
    [LibraryImport(L, SetLastError = true)] public static partial void* mmap(void* addr, nuint length, int prot, int flags, int fd, long offset);
    [LibraryImport(L, SetLastError = true)] public static partial int munmap(void* addr, nuint length);
    [LibraryImport(L, SetLastError = true)] public static partial int eventfd(uint initval, int flags);
    [LibraryImport(L, SetLastError = true)] public static partial int epoll_create1(int flags);
    [LibraryImport(L, SetLastError = true)] public static partial int epoll_ctl(int epfd, int op, int fd, epoll_event* ev);
    [LibraryImport(L, SetLastError = true)] public static partial int epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout);
    [LibraryImport(L, SetLastError = true)] public static partial int poll(pollfd* fds, nuint nfds, int timeout);
    [LibraryImport(L, SetLastError = true)] public static partial int kill(int pid, int sig);
    [LibraryImport(L, SetLastError = true)] public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
    [LibraryImport(L, SetLastError = true)] public static partial int unlink([MarshalAs(UnmanagedType.LPUTF8Str)] string path);
    [LibraryImport(L, SetLastError = true)] public static partial int sched_setaffinity(int pid, nuint size, ulong* mask);
    [LibraryImport(L, SetLastError = true)] public static partial int setresuid(uint r, uint e, uint s);
    [LibraryImport(L, SetLastError = true)] public static partial int setresgid(uint r, uint e, uint s);
    [LibraryImport(L, SetLastError = true)] public static partial int getpid();

    [LibraryImport(L)]
    [System.Runtime.InteropServices.SuppressGCTransition]
    public static partial int sched_getcpu();

    [LibraryImport(L, EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall6(long number, void* a1, long a2, long a3, void* a4, void* a5, long a6);

    /// <summary>FUTEX_WAIT (shared, not private: the word lives in memory of two processes).
    /// Returns 0 when woken, -1 with errno EAGAIN (value differs), ETIMEDOUT or EINTR.</summary>
    public static int FutexWait(int* addr, int expected, int timeoutMs)
    {
        if (timeoutMs < 0) return (int)syscall6(SYS_futex, addr, FUTEX_WAIT, expected, null, null, 0);
        timespec ts = new() { tv_sec = timeoutMs / 1000, tv_nsec = (timeoutMs % 1000) * 1_000_000L };
        return (int)syscall6(SYS_futex, addr, FUTEX_WAIT, expected, &ts, null, 0);
    }

    /// <summary>FUTEX_WAKE of up to <paramref name="count"/> waiters on a shared futex word.</summary>
    public static int FutexWake(int* addr, int count) => (int)syscall6(SYS_futex, addr, FUTEX_WAKE, count, null, null, 0);

    /// <summary>Fills a sockaddr_un for a filesystem path; returns the address length, or -1 if too long.</summary>
    public static uint MakeAddress(string path, out sockaddr_un addr)
    {
        addr = default;
        addr.sun_family = AF_UNIX;
        var bytes = System.Text.Encoding.UTF8.GetBytes(path);
        if (bytes.Length >= 108) return uint.MaxValue;
        fixed (byte* p = addr.sun_path) bytes.CopyTo(new Span<byte>(p, 108));
        return (uint)(2 + bytes.Length + 1);
    }

    /// <summary>Reads the kernel-attested credentials of a connected Unix socket's peer.</summary>
    public static bool PeerCred(int fd, out ucred cred)
    {
        ucred c; uint len = (uint)sizeof(ucred);
        int r = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len);
        cred = c;
        return r == 0;
    }

    /// <summary>Sends <paramref name="data"/> with the file descriptors <paramref name="fds"/> (SCM_RIGHTS).</summary>
    public static int SendWithFds(int sock, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds)
    {
        byte* control = stackalloc byte[256];
        new Span<byte>(control, 256).Clear();
        fixed (byte* d = data)
        {
            iovec iov = new() { iov_base = d, iov_len = (nuint)data.Length };
            msghdr m = default;
            m.msg_iov = &iov; m.msg_iovlen = 1;
            if (fds.Length > 0)
            {
                int dataLen = fds.Length * 4;
                var h = (cmsghdr*)control;
                h->cmsg_len = (nuint)(16 + dataLen);
                h->cmsg_level = SOL_SOCKET; h->cmsg_type = SCM_RIGHTS;
                fds.CopyTo(new Span<int>(control + 16, fds.Length));
                m.msg_control = control; m.msg_controllen = (nuint)((16 + dataLen + 7) & ~7);
            }
            nint r;
            do r = sendmsg(sock, &m, MSG_NOSIGNAL); while (r < 0 && Errno == EINTR);
            return (int)r;
        }
    }

    /// <summary>Receives one datagram and up to <paramref name="fds"/>.Length descriptors. Returns
    /// the byte count (0 on hang-up, -1 on error); <paramref name="nfds"/> is how many fds came.
    /// Extra descriptors beyond the room are closed.</summary>
    public static int RecvWithFds(int sock, Span<byte> data, Span<int> fds, out int nfds, int flags = 0)
    {
        nfds = 0;
        byte* control = stackalloc byte[512];
        fixed (byte* d = data)
        {
            iovec iov = new() { iov_base = d, iov_len = (nuint)data.Length };
            msghdr m = default;
            m.msg_iov = &iov; m.msg_iovlen = 1;
            m.msg_control = control; m.msg_controllen = 512;
            nint r;
            do r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | flags); while (r < 0 && Errno == EINTR);
            if (r < 0) return -1;
            if (m.msg_controllen >= 16)
            {
                byte* p = control;
                byte* end = control + (int)m.msg_controllen;
                while (p + 16 <= end)
                {
                    var h = (cmsghdr*)p;
                    if (h->cmsg_len < 16 || p + (int)h->cmsg_len > end) break;
                    if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
                    {
                        int n = ((int)h->cmsg_len - 16) / 4;
                        for (int i = 0; i < n; i++)
                        {
                            int fd = ((int*)(p + 16))[i];
                            if (nfds < fds.Length) fds[nfds++] = fd; else close(fd);
                        }
                    }
                    p += ((int)h->cmsg_len + 7) & ~7;
                }
            }
            if ((m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) return -1;
            return (int)r;
        }
    }

    /// <summary>Receives one datagram without waiting, with the sender's credentials as the kernel attests them
    /// (SCM_CREDENTIALS; the socket must have SO_PASSCRED set before the datagram was sent). Descriptors are closed.
    /// Returns the byte count or -1; <paramref name="hasCred"/> tells whether credentials came.</summary>
    public static int RecvWithCred(int sock, Span<byte> data, out ucred cred, out bool hasCred)
    {
        cred = default; hasCred = false;
        byte* control = stackalloc byte[256];
        fixed (byte* d = data)
        {
            iovec iov = new() { iov_base = d, iov_len = (nuint)data.Length };
            msghdr m = default;
            m.msg_iov = &iov; m.msg_iovlen = 1;
            m.msg_control = control; m.msg_controllen = 256;
            nint r;
            do r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT); while (r < 0 && Errno == EINTR);
            if (r < 0) return -1;
            byte* p = control, end = control + (int)m.msg_controllen;
            while (p + 16 <= end)
            {
                var h = (cmsghdr*)p;
                if (h->cmsg_len < 16 || p + (int)h->cmsg_len > end) break;
                if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS && (int)h->cmsg_len >= 16 + sizeof(ucred)) { cred = *(ucred*)(p + 16); hasCred = true; }
                else if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
                    for (int i = 0; i < ((int)h->cmsg_len - 16) / 4; i++) close(((int*)(p + 16))[i]);
                p += ((int)h->cmsg_len + 7) & ~7;
            }
            return (int)r;
        }
    }

    /// <summary>Pins the calling thread to one CPU (benchmarks).</summary>
    public static bool PinThread(int cpu)
    {
        ulong mask = 1UL << cpu;
        return sched_setaffinity(0, 8, &mask) == 0;
    }
}
