using System.Runtime.InteropServices;

namespace Hurd.Fuse.Interop;

/// <summary>The few libc calls the session needs (C names, raw ints; errno through Marshal.GetLastPInvokeError).</summary>
internal static unsafe partial class FuseLibc
{
    private const string Libc = "libc";

    public const int O_RDWR = 2, O_CLOEXEC = 0x80000;
    public const int MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_SYNCHRONOUS = 16, MS_DIRSYNC = 128,
        MS_NOATIME = 1024, MS_NODIRATIME = 2048, MS_RELATIME = 1 << 21, MS_STRICTATIME = 1 << 24;
    public const int MNT_FORCE = 1, MNT_DETACH = 2;
    public const int AF_UNIX = 1, SOCK_STREAM = 1, SOL_SOCKET = 1, SCM_RIGHTS = 1;
    public const int F_SETFD = 2, FD_CLOEXEC = 1;

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(Libc, EntryPoint = "read", SetLastError = true)]
    public static partial nint read(int fd, byte* buf, nuint count);

    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    public static partial nint write(int fd, byte* buf, nuint count);

    [LibraryImport(Libc, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int ioctl(int fd, nuint request, int* arg);

    [LibraryImport(Libc, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport(Libc, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mount(string source, string target, string fstype, nuint flags, string data);

    [LibraryImport(Libc, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int umount2(string target, int flags);

    [LibraryImport(Libc, EntryPoint = "socketpair", SetLastError = true)]
    public static partial int socketpair(int domain, int type, int protocol, int* sv);

    [LibraryImport(Libc, EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint recvmsg(int fd, MsgHdr* msg, int flags);

    [LibraryImport(Libc, EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int statfs(string path, byte* buf);

    [LibraryImport(Libc, EntryPoint = "geteuid")]
    public static partial uint geteuid();

    [LibraryImport(Libc, EntryPoint = "getegid")]
    public static partial uint getegid();

    public static int Errno => Marshal.GetLastPInvokeError();

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec { public void* Base; public nuint Len; }

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name; public uint NameLen; public IoVec* Iov; public nuint IovLen;
        public void* Control; public nuint ControlLen; public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct CmsgHdr { public nuint Len; public int Level; public int Type; }
}
