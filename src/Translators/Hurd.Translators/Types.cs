using Hurd.Ipc.Abi;

namespace Hurd.Translators;

/// <summary>renameat2 flags (linux/fs.h values).</summary>
[Flags]
public enum RenameFlags : uint
{
    /// <summary>Replace the target if it exists (POSIX rename).</summary>
    None = 0,
    /// <summary>RENAME_NOREPLACE: fail with EEXIST if the target exists.</summary>
    NoReplace = 1,
    /// <summary>RENAME_EXCHANGE: atomically swap source and target (both must exist).</summary>
    Exchange = 2,
    /// <summary>RENAME_WHITEOUT (overlayfs only; answered EINVAL by the SDK).</summary>
    Whiteout = 4,
}

/// <summary>setxattr flags (linux/xattr.h values).</summary>
[Flags]
public enum XattrFlags
{
    /// <summary>Create or replace.</summary>
    None = 0,
    /// <summary>XATTR_CREATE: fail with EEXIST if the attribute exists.</summary>
    Create = 1,
    /// <summary>XATTR_REPLACE: fail with ENODATA if the attribute does not exist.</summary>
    Replace = 2,
}

/// <summary>fallocate modes (linux/falloc.h values).</summary>
[Flags]
public enum FallocateMode
{
    /// <summary>Allocate the range; grow the file size if the range ends beyond it.</summary>
    Allocate = 0,
    /// <summary>FALLOC_FL_KEEP_SIZE: never change the file size.</summary>
    KeepSize = 0x01,
    /// <summary>FALLOC_FL_PUNCH_HOLE: deallocate the range (must come with KEEP_SIZE); it reads as zeros.</summary>
    PunchHole = 0x02,
    /// <summary>FALLOC_FL_NO_HIDE_STALE (reserved).</summary>
    NoHideStale = 0x04,
    /// <summary>FALLOC_FL_COLLAPSE_RANGE.</summary>
    CollapseRange = 0x08,
    /// <summary>FALLOC_FL_ZERO_RANGE: make the range read as zeros, allocated; may grow the size unless KEEP_SIZE.</summary>
    ZeroRange = 0x10,
    /// <summary>FALLOC_FL_INSERT_RANGE.</summary>
    InsertRange = 0x20,
    /// <summary>FALLOC_FL_UNSHARE_RANGE.</summary>
    UnshareRange = 0x40,
}

/// <summary>lseek whence values, including SEEK_DATA and SEEK_HOLE (Linux values).</summary>
public enum Whence
{
    /// <summary>SEEK_SET.</summary>
    Set = 0,
    /// <summary>SEEK_CUR.</summary>
    Current = 1,
    /// <summary>SEEK_END.</summary>
    End = 2,
    /// <summary>SEEK_DATA: the next offset at or after the given one that holds data.</summary>
    Data = 3,
    /// <summary>SEEK_HOLE: the next offset at or after the given one inside a hole (end of file counts as a hole).</summary>
    Hole = 4,
}

/// <summary>Access a caller asks for (the MAY_READ/MAY_WRITE/MAY_EXEC bits, as <c>access(2)</c>'s R_OK/W_OK/X_OK).</summary>
[Flags]
public enum Access
{
    /// <summary>Existence only.</summary>
    None = 0,
    /// <summary>X_OK: execute a file, search a directory.</summary>
    Exec = 1,
    /// <summary>W_OK.</summary>
    Write = 2,
    /// <summary>R_OK.</summary>
    Read = 4,
}

/// <summary>The attributes of a node to create, computed by the SDK from the caller's identity,
/// the requested mode and the parent directory (setgid inheritance). The filesystem stores them as given.</summary>
/// <param name="Mode">Type and permission bits (the client already applied its umask).</param>
/// <param name="Uid">Owner.</param>
/// <param name="Gid">Group.</param>
/// <param name="Rdev">Device number for character and block devices, else 0.</param>
public readonly record struct NewNode(FileMode Mode, uint Uid, uint Gid, ulong Rdev = 0);

/// <summary>Which fields of a <see cref="SetAttr"/> to apply (as Linux's <c>ia_valid</c>).</summary>
[Flags]
public enum AttrMask
{
    /// <summary>Nothing (only ctime is touched).</summary>
    None = 0,
    /// <summary>Permission bits (07777).</summary>
    Mode = 1,
    /// <summary>Owner.</summary>
    Uid = 2,
    /// <summary>Group.</summary>
    Gid = 4,
    /// <summary>Access time.</summary>
    Atime = 8,
    /// <summary>Modification time.</summary>
    Mtime = 16,
}

/// <summary>An attribute change the SDK has already checked and completed (POSIX rules applied,
/// UTIME_NOW resolved to a time): the filesystem stores it and sets ctime to now.</summary>
public struct SetAttr
{
    /// <summary>Which fields apply.</summary>
    public AttrMask Valid;
    /// <summary>New permission bits (07777), when <see cref="AttrMask.Mode"/>.</summary>
    public FileMode Mode;
    /// <summary>New owner, when <see cref="AttrMask.Uid"/>.</summary>
    public uint Uid;
    /// <summary>New group, when <see cref="AttrMask.Gid"/>.</summary>
    public uint Gid;
    /// <summary>New atime, when <see cref="AttrMask.Atime"/>.</summary>
    public TimeSpec Atime;
    /// <summary>New mtime, when <see cref="AttrMask.Mtime"/>.</summary>
    public TimeSpec Mtime;
}

/// <summary>Receives directory entries from <see cref="IDirectory.ReadDir"/> (dir_readdir's buffer).</summary>
public interface IDirEntrySink
{
    /// <summary>Offers one entry. <paramref name="nextCookie"/> is the cookie that resumes reading after it.
    /// <paramref name="node"/> is the entry's node when the filesystem has it at hand (tmpfs always; a disk filesystem
    /// may pass null rather than load the inode), for READDIRPLUS. The sink may call node operations and lookups
    /// (the directory's locks allow it). Returns false when there is no room: the entry is not consumed and the
    /// directory stops.</summary>
    bool Add(ReadOnlySpan<byte> name, ulong ino, FileMode type, long nextCookie, Node? node);
}

/// <summary>Limits the SDK enforces.</summary>
public static class Limits
{
    /// <summary>NAME_MAX: the longest path component, in bytes.</summary>
    public const int NameMax = 255;
    /// <summary>PATH_MAX: the longest path (and symlink target), in bytes, including the terminating NUL.</summary>
    public const int PathMax = 4096;
    /// <summary>The longest retry name a dir_lookup reply carries (the Hurd's <c>string_t</c>).</summary>
    public const int RetryNameMax = 1024;
    /// <summary>How many symlinks one lookup follows before ELOOP (Linux's 40).</summary>
    public const int SymlinkMax = 40;
    /// <summary>XATTR_NAME_MAX.</summary>
    public const int XattrNameMax = 255;
    /// <summary>XATTR_SIZE_MAX: the largest attribute value.</summary>
    public const int XattrSizeMax = 65536;
    /// <summary>XATTR_LIST_MAX: the largest attribute name list.</summary>
    public const int XattrListMax = 65536;
}
