using Hurd.Ipc.Abi;
using Hurd.Ipc.Rpc;

namespace Hurd.Interfaces;

/// <summary>What changed in a directory (hurd_types.h <c>dir_changed_type</c>).</summary>
public enum DirChangedType : int
{
    /// <summary>DIR_CHANGED_NULL: sent first, to synchronise.</summary>
    Null = 0,
    /// <summary>DIR_CHANGED_NEW: the name was added.</summary>
    New = 1,
    /// <summary>DIR_CHANGED_UNLINK: the name was removed.</summary>
    Unlink = 2,
    /// <summary>DIR_CHANGED_RENUMBER: the name was the target of a rename.</summary>
    Renumber = 3,
}

/// <summary>What changed in a file (hurd_types.h <c>file_changed_type</c>).</summary>
public enum FileChangedType : int
{
    /// <summary>FILE_CHANGED_NULL: sent first, to synchronise.</summary>
    Null = 0,
    /// <summary>FILE_CHANGED_WRITE: data in [start, end) was written.</summary>
    Write = 1,
    /// <summary>FILE_CHANGED_EXTEND: the file grew.</summary>
    Extend = 2,
    /// <summary>FILE_CHANGED_TRUNCATE: the file was truncated.</summary>
    Truncate = 3,
    /// <summary>FILE_CHANGED_META: stat information changed (not for times alone).</summary>
    Meta = 4,
}

/// <summary>
/// The fs_notify protocol (the Hurd's <c>hurd/fs_notify.defs</c>, subsystem fs_notify 20500):
/// what a filesystem sends, one-way, to the port a client registered with dir_notice_changes
/// or file_notice_changes (the FUSE bridge can turn them into kernel cache invalidations).
/// A server must not block on a slow client: these are simpleroutines, and a send that cannot
/// complete at once may be dropped (the tick numbers let the client notice the gap).
/// </summary>
[Subsystem("fs_notify", 20500)]
public interface IFsNotify
{
    /// <summary>Directory <paramref name="name"/> changed; <paramref name="tickno"/> counts notifications on this registration.</summary>
    [SimpleRoutine(0)]
    Errno dir_changed(uint tickno, DirChangedType change, ReadOnlySpan<byte> name);

    /// <summary>The file changed in [<paramref name="start"/>, <paramref name="end"/>) (-1 for unknown bounds).</summary>
    [SimpleRoutine(1)]
    Errno file_changed(uint tickno, FileChangedType change, long start, long end);
}
