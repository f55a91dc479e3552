using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;
using FileMode = Hurd.Ipc.Abi.FileMode;

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

    // ------------------------------------------------------------------ node references
    // A node reference is a number naming a node for the holder of the port it was made through (the "session" port):
    // the server keeps, per reference, what a port would carry (the port's identity and a peropen with no open modes,
    // so an unlinked file stays alive), but no port is made, so none has to be destroyed later. References die with
    // the session port (no-senders) or by noderef_release. Reference 0 names the session port's own node. They exist
    // for a client that names many nodes for a short time (the FUSE bridge: one per kernel LOOKUP) and reaches nodes
    // only through one port of the filesystem. A server without them answers MIG_BAD_ID: use dir_lookup.

    /// <summary>
    /// dir_lookup of <paramref name="name"/> from node reference <paramref name="dir"/> (0: this port's node) with this
    /// port's identity, <paramref name="flags"/> and <paramref name="mode"/> as dir_lookup takes them. When the walk ends
    /// at a node of this filesystem with nothing left to retry (no translator, no FS_RETRY_*), a new reference to it is
    /// returned in <paramref name="node"/> with its io_stat in <paramref name="st"/>; with <paramref name="open"/> also a
    /// port opened with <paramref name="flags"/> (as dir_lookup's result: O_TRUNC applied, no permission check for a
    /// file this lookup created). Otherwise <paramref name="retry"/> is true and nothing is made or created: the client
    /// uses dir_lookup. ESTALE for an unknown <paramref name="dir"/>; dir_lookup's errors.
    /// </summary>
    [Routine(1)]
    Errno noderef_lookup(ulong dir, ReadOnlySpan<byte> name, OpenFlags flags, FileMode mode, bool open,
        out bool retry, out ulong node, out Stat st, out PortName opened);

    /// <summary>dir_mkdir of <paramref name="name"/> in node reference <paramref name="dir"/> (0: this port's node) with
    /// this port's identity; a new reference to the directory made and its io_stat. dir_mkdir's errors; ESTALE.</summary>
    [Routine(2)]
    Errno noderef_mkdir(ulong dir, ReadOnlySpan<byte> name, FileMode mode, out ulong node, out Stat st);

    /// <summary>dir_unlink (or, with <paramref name="directory"/>, dir_rmdir) of <paramref name="name"/> in node
    /// reference <paramref name="dir"/> (0: this port's node) with this port's identity. Their errors; ESTALE.</summary>
    [Routine(3)]
    Errno noderef_unlink(ulong dir, ReadOnlySpan<byte> name, bool directory);

    /// <summary>io_stat of the node reference <paramref name="node"/> (0: this port's node). ESTALE if unknown.</summary>
    [Routine(4)]
    Errno noderef_stat(ulong node, out Stat st);

    /// <summary>A protid port on the node of reference <paramref name="node"/> with this port's identity, opened with
    /// <paramref name="flags"/> (a new peropen, as dir_lookup of "" from a port of the node; no modes gives a port
    /// naming the node). dir_lookup's open errors (EACCES, EISDIR); ESTALE if unknown.</summary>
    [Routine(5)]
    Errno noderef_open(ulong node, OpenFlags flags, out PortName port);

    /// <summary>Drops node reference <paramref name="node"/> (its peropen is released). ESTALE if unknown.</summary>
    [Routine(6)]
    Errno noderef_release(ulong node);

    /// <summary>file_check_access of the node reference <paramref name="node"/> (0: this port's node): which of O_READ,
    /// O_WRITE and O_EXEC this port's identity may open it with. ESTALE if unknown.</summary>
    [Routine(7)]
    Errno noderef_check_access(ulong node, out OpenFlags allowed);

    /// <summary>noderef_stat of several references at once: <paramref name="nodes"/> holds them as little-endian 64-bit
    /// numbers; <paramref name="stats"/> receives one <see cref="Stat"/> per reference, in order, all zero for one that is
    /// unknown or whose stat failed (a node's st_ino is never 0). The client's buffer must hold them all (EMSGSIZE).</summary>
    [Routine(8)]
    Errno noderef_stat_many(ReadOnlySpan<byte> nodes, Span<byte> stats, out int statsCount);

    /// <summary>file_get_xattr of the node reference <paramref name="node"/> (0: this port's node) with this port's
    /// identity. ESTALE if unknown; file_get_xattr's errors.</summary>
    [Routine(9)]
    Errno noderef_get_xattr(ulong node, ReadOnlySpan<byte> name, int size, Span<byte> value, out int valueCount, out int length);

    /// <summary>
    /// <see cref="noderef_lookup"/> that answers with the reference this port already has for the node the walk reaches,
    /// when it has one: <paramref name="known"/> is then true, <paramref name="node"/> is that reference, and no new one
    /// is made, so the client must neither count it again nor release it for this lookup (a FUSE bridge revalidating a
    /// node it holds: one call where noderef_lookup takes a second to release the duplicate). Otherwise exactly
    /// noderef_lookup (<paramref name="known"/> false, a new reference). The server remembers one reference per node
    /// (the last one made through this port), so with several references to one node it may answer with a new one.
    /// A client that has released the number meanwhile (a release racing the lookup) looks up again with noderef_lookup.
    /// </summary>
    [Routine(10)]
    Errno noderef_lookup_known(ulong dir, ReadOnlySpan<byte> name, OpenFlags flags, FileMode mode, bool open,
        out bool retry, out ulong node, out bool known, out Stat st, out PortName opened);
}
