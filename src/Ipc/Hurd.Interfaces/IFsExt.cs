using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Interfaces;

/// <summary>Linux renameat2 flags (linux/fs.h), as dir_rename2 carries them.</summary>
[Flags]
public enum RenameatFlags : int
{
    /// <summary>An ordinary rename (the target is replaced if it exists).</summary>
    None = 0,
    /// <summary>RENAME_NOREPLACE: EEXIST if the target exists.</summary>
    NoReplace = 1,
    /// <summary>RENAME_EXCHANGE: swap the two names atomically; both must exist.</summary>
    Exchange = 2,
    /// <summary>RENAME_WHITEOUT (overlay filesystems; not supported: EINVAL).</summary>
    Whiteout = 4,
}

/// <summary>
/// Extensions of the fs protocol for POSIX calls of Linux that the Hurd's fs.defs has no
/// way to express. They live in their own subsystem (fs_ext, 20600, a range the Hurd does not
/// use) so that fs keeps exactly the Hurd's routines and ids; a protid port serves both.
/// </summary>
[Subsystem("fs_ext", 20600)]
public interface IFsExt
{
    /// <summary>
    /// renameat2: as dir_rename (<paramref name="oldname"/> in this directory to <paramref name="newname"/> in
    /// <paramref name="newdirectory"/>, a port of the same filesystem, else EXDEV), with Linux's
    /// <paramref name="flags"/>: NOREPLACE (EEXIST if the target exists), EXCHANGE (swap; ENOENT if either is
    /// missing). Unknown flags or NOREPLACE with EXCHANGE: EINVAL.
    /// </summary>
    [Routine(0)]
    Errno dir_rename2(ReadOnlySpan<byte> oldname, PortName newdirectory, ReadOnlySpan<byte> newname, RenameatFlags flags);
}
