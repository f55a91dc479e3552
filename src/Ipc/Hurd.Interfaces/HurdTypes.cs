using System.Runtime.InteropServices;

namespace Hurd.Interfaces;

/// <summary>Limits of the protocols (hurd/hurd_types.h and the MIG types).</summary>
public static class HurdLimits
{
    /// <summary>
    /// The size of MIG's <c>string_t</c>: a retry name (dir_lookup, fsys_getroot) is at most
    /// 1023 bytes plus the terminating NUL in the Hurd; here it is at most 1024 bytes, no NUL.
    /// A longer remaining path is an error (ENAMETOOLONG) for the server that would return it.
    /// </summary>
    public const int RetryNameMax = 1024;

    /// <summary>The longest name of one directory entry (NAME_MAX).</summary>
    public const int NameMax = 255;

    /// <summary>The longest extended-attribute value (Linux XATTR_SIZE_MAX).</summary>
    public const int XattrSizeMax = 65536;

    /// <summary>The longest extended-attribute name (Linux XATTR_NAME_MAX).</summary>
    public const int XattrNameMax = 255;

    /// <summary>The most <c>dir_lookup</c> retries a client follows before giving up with ELOOP (glibc's SYMLOOP_MAX-like limit).</summary>
    public const int MaxRetries = 32;

    /// <summary>The most bytes a file handle (file_getfh) may take.</summary>
    public const int FileHandleMax = 128;

    /// <summary>The most ids in one id vector of an auth handle (uids or gids, effective or available).</summary>
    public const int IdsMax = 1024;

    /// <summary>The most pids one proc_get*pids reply carries.</summary>
    public const int PidsMax = 65536;
}

/// <summary>What the client does after dir_lookup or fsys_getroot (hurd_types.h <c>enum retry_type</c>).</summary>
public enum RetryType : int
{
    /// <summary>FS_RETRY_NORMAL: if the retry name is empty the port is the result; otherwise send dir_lookup(retry name) to the port.</summary>
    Normal = 1,
    /// <summary>FS_RETRY_REAUTH: reauthenticate the port first (io_reauthenticate + auth rendezvous), then retry as for Normal, even with an empty name.</summary>
    Reauth = 2,
    /// <summary>
    /// FS_RETRY_MAGICAL: the client interprets the retry name: "/..." restarts from the client's
    /// root, "fd/N" is descriptor N, "tty" the controlling terminal, "machtype/..." the machine type.
    /// </summary>
    Magical = 3,
}

/// <summary>Flags of file_set_translator's passive_flags and active_flags (FS_TRANS_*).</summary>
[Flags]
public enum TransFlags : int
{
    /// <summary>No flags.</summary>
    None = 0,
    /// <summary>FS_TRANS_FORCE: really start the translator; do not short-circuit symlink/chrdev/blkdev/fifo/ifsock into the node.</summary>
    Force = 0x1,
    /// <summary>FS_TRANS_EXCL: fail with EBUSY if the node already has a translator of this kind.</summary>
    Excl = 0x2,
    /// <summary>FS_TRANS_SET: set (or, with an empty value, clear) the translator of this kind; without it, that kind is left alone.</summary>
    Set = 0x4,
    /// <summary>FS_TRANS_ORPHAN: leave the old active translator running, detached from the node, instead of sending it fsys_goaway.</summary>
    Orphan = 0x8,
}

/// <summary>Flags of fsys_goaway, also file_set_translator's oldtrans_flags (FSYSGOAWAY_*).</summary>
[Flags]
public enum GoAwayFlags : int
{
    /// <summary>No flags: sync, and refuse (EBUSY) while the filesystem has users.</summary>
    None = 0,
    /// <summary>FSYS_GOAWAY_NOWAIT: return immediately.</summary>
    NoWait = 0x1,
    /// <summary>FSYS_GOAWAY_NOSYNC: do not write back to the physical medium.</summary>
    NoSync = 0x2,
    /// <summary>FSYS_GOAWAY_FORCE: go away despite current users.</summary>
    Force = 0x4,
    /// <summary>FSYS_GOAWAY_UNLINK: go away only if the node is not a directory.</summary>
    Unlink = 0x8,
    /// <summary>FSYS_GOAWAY_RECURSE: shut down child translators too.</summary>
    Recurse = 0x10,
}

/// <summary>io_select / io_select_timeout kinds (SELECT_*).</summary>
[Flags]
public enum SelectType : int
{
    /// <summary>None ready.</summary>
    None = 0,
    /// <summary>SELECT_READ: data can be read without blocking.</summary>
    Read = 0x1,
    /// <summary>SELECT_WRITE: data can be written without blocking.</summary>
    Write = 0x2,
    /// <summary>SELECT_URG: urgent data is available.</summary>
    Urg = 0x4,
}

/// <summary>file_lock flags and file_lock_stat results (flock(2) LOCK_*).</summary>
[Flags]
public enum LockFlags : int
{
    /// <summary>No lock.</summary>
    None = 0,
    /// <summary>LOCK_SH: shared lock.</summary>
    Shared = 1,
    /// <summary>LOCK_EX: exclusive lock.</summary>
    Exclusive = 2,
    /// <summary>LOCK_NB: do not block (EWOULDBLOCK/EAGAIN instead).</summary>
    NonBlock = 4,
    /// <summary>LOCK_UN: unlock.</summary>
    Unlock = 8,
}

/// <summary>The cmd of file_record_lock (fcntl F_GETLK64/F_SETLK64/F_SETLKW64, x86-64 values).</summary>
public enum RecordLockCommand : int
{
    /// <summary>F_GETLK: report a conflicting lock in the flock (or F_UNLCK if none).</summary>
    GetLock = 5,
    /// <summary>F_SETLK: set or clear a lock, failing with EAGAIN on conflict.</summary>
    SetLock = 6,
    /// <summary>F_SETLKW: set a lock, waiting for conflicts to clear (interruptible).</summary>
    SetLockWait = 7,
}

/// <summary>struct flock64 as it travels in file_record_lock (x86-64 layout, 32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct Flock
{
    /// <summary>F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2.</summary>
    public short Type;
    /// <summary>SEEK_SET, SEEK_CUR or SEEK_END: what <see cref="Start"/> is relative to.</summary>
    public short Whence;
    /// <summary>Start of the range.</summary>
    public long Start;
    /// <summary>Length of the range; 0 means to the end of the file.</summary>
    public long Len;
    /// <summary>The owner of a conflicting lock (F_GETLK).</summary>
    public int Pid;

    /// <summary>F_RDLCK.</summary>
    public const short ReadLock = 0;
    /// <summary>F_WRLCK.</summary>
    public const short WriteLock = 1;
    /// <summary>F_UNLCK.</summary>
    public const short Unlock = 2;
}

/// <summary>The whence of io_seek (lseek(2), with Linux's SEEK_DATA and SEEK_HOLE).</summary>
public enum SeekWhence : int
{
    /// <summary>SEEK_SET: from the start.</summary>
    Set = 0,
    /// <summary>SEEK_CUR: from the current offset.</summary>
    Current = 1,
    /// <summary>SEEK_END: from the end.</summary>
    End = 2,
    /// <summary>SEEK_DATA: the next offset at or after the given one that holds data (ENXIO past the end).</summary>
    Data = 3,
    /// <summary>SEEK_HOLE: the next hole at or after the given one (the end of the file counts as a hole).</summary>
    Hole = 4,
}

/// <summary>file_set_xattr flags (setxattr(2) XATTR_*).</summary>
[Flags]
public enum XattrFlags : int
{
    /// <summary>Create or replace.</summary>
    None = 0,
    /// <summary>XATTR_CREATE: fail with EEXIST if the attribute exists.</summary>
    Create = 1,
    /// <summary>XATTR_REPLACE: fail with ENODATA if the attribute does not exist.</summary>
    Replace = 2,
}

/// <summary>file_fallocate modes (fallocate(2) FALLOC_FL_*).</summary>
[Flags]
public enum FallocateFlags : int
{
    /// <summary>Allocate the range, growing the file if it ends past the size.</summary>
    None = 0,
    /// <summary>FALLOC_FL_KEEP_SIZE: allocate without changing the size.</summary>
    KeepSize = 0x01,
    /// <summary>FALLOC_FL_PUNCH_HOLE: deallocate the range (needs KeepSize).</summary>
    PunchHole = 0x02,
    /// <summary>FALLOC_FL_COLLAPSE_RANGE: remove the range, shifting what follows down.</summary>
    CollapseRange = 0x08,
    /// <summary>FALLOC_FL_ZERO_RANGE: zero the range.</summary>
    ZeroRange = 0x10,
    /// <summary>FALLOC_FL_INSERT_RANGE: insert a hole, shifting what follows up.</summary>
    InsertRange = 0x20,
}

/// <summary>The name argument of io_pathconf (POSIX _PC_*, Linux values).</summary>
public enum PathConfName : int
{
    /// <summary>_PC_LINK_MAX.</summary>
    LinkMax = 0,
    /// <summary>_PC_MAX_CANON.</summary>
    MaxCanon = 1,
    /// <summary>_PC_MAX_INPUT.</summary>
    MaxInput = 2,
    /// <summary>_PC_NAME_MAX.</summary>
    NameMax = 3,
    /// <summary>_PC_PATH_MAX.</summary>
    PathMax = 4,
    /// <summary>_PC_PIPE_BUF.</summary>
    PipeBuf = 5,
    /// <summary>_PC_CHOWN_RESTRICTED.</summary>
    ChownRestricted = 6,
    /// <summary>_PC_NO_TRUNC.</summary>
    NoTrunc = 7,
    /// <summary>_PC_VDISABLE.</summary>
    VDisable = 8,
    /// <summary>_PC_FILESIZEBITS.</summary>
    FileSizeBits = 13,
}

/// <summary>Well-known translator programs the Hurd short-circuits into plain nodes (libdiskfs).</summary>
public static class ShortCircuitTranslators
{
    /// <summary>A symlink is the passive translator "/hurd/symlink\0TARGET\0".</summary>
    public const string Symlink = "/hurd/symlink";
    /// <summary>A character device: "/hurd/chrdev\0MAJOR\0MINOR\0".</summary>
    public const string CharDevice = "/hurd/chrdev";
    /// <summary>A block device: "/hurd/blkdev\0MAJOR\0MINOR\0".</summary>
    public const string BlockDevice = "/hurd/blkdev";
    /// <summary>A named pipe.</summary>
    public const string Fifo = "/hurd/fifo";
    /// <summary>A local socket's naming point.</summary>
    public const string Socket = "/hurd/ifsock";
}
