using System.Runtime.InteropServices;

namespace Hurd.Fsx.Interop;

/// <summary>
/// Raw libc entry points with C names (Tmds.LibC style). Every call returns the C return value;
/// on -1 the caller reads <see cref="Marshal.GetLastPInvokeError"/> for errno. Paths are NUL-terminated bytes.
/// x86_64 and arm64 Linux only (statx keeps the layout architecture independent).
/// </summary>
internal static unsafe partial class Libc
{
    private const string L = "libc";

    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_ACCMODE = 3;
    public const int O_CREAT = 0x40, O_EXCL = 0x80, O_NOCTTY = 0x100, O_TRUNC = 0x200, O_APPEND = 0x400;
    public const int O_NONBLOCK = 0x800, O_DIRECTORY = 0x10000, O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000;
    public const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000;
    public const int SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;
    public const uint RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2;
    public const int FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2, FALLOC_FL_ZERO_RANGE = 0x10;
    public const int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1, MS_SYNC = 4;
    public const int XATTR_CREATE = 1, XATTR_REPLACE = 2;
    public const long UTIME_NOW = (1L << 30) - 1, UTIME_OMIT = (1L << 30) - 2;
    public const int CLOCK_REALTIME_COARSE = 5;
    public const uint STATX_BASIC_STATS = 0x7ff;
    public const int S_IFMT = 0xF000, S_IFDIR = 0x4000, S_IFLNK = 0xA000, S_IFREG = 0x8000;
    public const int S_IFIFO = 0x1000, S_IFCHR = 0x2000, S_IFSOCK = 0xC000;

    /// <summary>Linux <c>struct statx</c> (256 bytes, same layout on every architecture).</summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    public struct StatX
    {
        public uint Mask, BlkSize; public ulong Attributes;
        public uint Nlink, Uid, Gid; public ushort Mode; private ushort _pad1;
        public ulong Ino, Size, Blocks, AttributesMask;
        public TimeStampX Atime, Btime, Ctime, Mtime;
        public uint RdevMajor, RdevMinor, DevMajor, DevMinor;
    }

    /// <summary>Linux <c>struct statx_timestamp</c>.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 16)]
    public struct TimeStampX { public long Sec; public uint Nsec; private int _pad; }

    /// <summary>Linux <c>struct timespec</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct TimeSpec { public long Sec; public long Nsec; }

    [LibraryImport(L, SetLastError = true)] public static partial int open(byte* path, int flags, uint mode);
    [LibraryImport(L, SetLastError = true)] public static partial int close(int fd);
    [LibraryImport(L, SetLastError = true)] public static partial nint read(int fd, byte* buf, nint count);
    [LibraryImport(L, SetLastError = true)] public static partial nint write(int fd, byte* buf, nint count);
    [LibraryImport(L, SetLastError = true)] public static partial nint pread(int fd, byte* buf, nint count, long offset);
    [LibraryImport(L, SetLastError = true)] public static partial nint pwrite(int fd, byte* buf, nint count, long offset);
    [LibraryImport(L, SetLastError = true)] public static partial long lseek(int fd, long offset, int whence);
    [LibraryImport(L, SetLastError = true)] public static partial int ftruncate(int fd, long length);
    [LibraryImport(L, SetLastError = true)] public static partial int truncate(byte* path, long length);
    [LibraryImport(L, SetLastError = true)] public static partial int renameat2(int olddirfd, byte* oldpath, int newdirfd, byte* newpath, uint flags);
    [LibraryImport(L, SetLastError = true)] public static partial int link(byte* oldpath, byte* newpath);
    [LibraryImport(L, SetLastError = true)] public static partial int unlink(byte* path);
    [LibraryImport(L, SetLastError = true)] public static partial int mkdir(byte* path, uint mode);
    [LibraryImport(L, SetLastError = true)] public static partial int rmdir(byte* path);
    [LibraryImport(L, SetLastError = true)] public static partial int mknod(byte* path, uint mode, ulong dev);
    [LibraryImport(L, SetLastError = true)] public static partial int chmod(byte* path, uint mode);
    [LibraryImport(L, SetLastError = true)] public static partial int fchmod(int fd, uint mode);
    [LibraryImport(L, SetLastError = true)] public static partial int symlink(byte* target, byte* linkpath);
    [LibraryImport(L, SetLastError = true)] public static partial nint readlink(byte* path, byte* buf, nint size);
    [LibraryImport(L, SetLastError = true)] public static partial int fsync(int fd);
    [LibraryImport(L, SetLastError = true)] public static partial int fdatasync(int fd);
    [LibraryImport(L, SetLastError = true)] public static partial int fallocate(int fd, int mode, long offset, long len);
    [LibraryImport(L, SetLastError = true)] public static partial nint copy_file_range(int fdIn, long* offIn, int fdOut, long* offOut, nint len, uint flags);
    [LibraryImport(L, SetLastError = true)] public static partial void* mmap(void* addr, nint length, int prot, int flags, int fd, long offset);
    [LibraryImport(L, SetLastError = true)] public static partial int munmap(void* addr, nint length);
    [LibraryImport(L, SetLastError = true)] public static partial int msync(void* addr, nint length, int flags);
    [LibraryImport(L, SetLastError = true)] public static partial int statx(int dirfd, byte* path, int flags, uint mask, StatX* buf);
    [LibraryImport(L, SetLastError = true)] public static partial nint getdents64(int fd, byte* buf, nint count);
    [LibraryImport(L, SetLastError = true)] public static partial int utimensat(int dirfd, byte* path, TimeSpec* times, int flags);
    [LibraryImport(L, SetLastError = true)] public static partial nint getxattr(byte* path, byte* name, byte* value, nint size);
    [LibraryImport(L, SetLastError = true)] public static partial int setxattr(byte* path, byte* name, byte* value, nint size, int flags);
    [LibraryImport(L, SetLastError = true)] public static partial nint listxattr(byte* path, byte* list, nint size);
    [LibraryImport(L, SetLastError = true)] public static partial int removexattr(byte* path, byte* name);
    [LibraryImport(L, SetLastError = true)] public static partial int clock_gettime(int clock, TimeSpec* ts);
    [LibraryImport(L)] public static partial uint umask(uint mask);
    /// <summary>memcpy through a P/Invoke: the thread is in preemptive mode while it runs, so a page fault that
    /// waits for an in-process FUSE server cannot block a garbage collection the server needs.</summary>
    [LibraryImport(L)] public static partial void* memcpy(void* dest, void* src, nint n);
    /// <summary>Per-thread filesystem uid (Linux); returns the previous one.</summary>
    [LibraryImport(L)] public static partial int setfsuid(uint fsuid);
    /// <summary>Per-thread filesystem gid (Linux); returns the previous one.</summary>
    [LibraryImport(L)] public static partial int setfsgid(uint fsgid);
    [LibraryImport(L)] public static partial uint geteuid();
    [LibraryImport(L)] public static partial uint getegid();
    [LibraryImport(L, SetLastError = true)] public static partial int fchownat(int dirfd, byte* path, uint owner, uint group, int flags);
    [LibraryImport(L, SetLastError = true)] public static partial int lchown(byte* path, uint owner, uint group);

    /// <summary>errno of the last call made with SetLastError.</summary>
    public static int Errno => Marshal.GetLastPInvokeError();
}
