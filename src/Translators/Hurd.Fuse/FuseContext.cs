using Hurd.Fuse.Abi;

namespace Hurd.Fuse;

/// <summary>
/// Who asked, and about which node: the fields of the request header the kernel attests, the
/// supplementary groups when the kernel sent them, and a token that fires when the caller is
/// interrupted (FUSE INTERRUPT). Valid only for the duration of the call it is passed to.
/// </summary>
/// <remarks>
/// <see cref="Groups"/> is filled only from the CREATE_SUPP_GROUP extension, which the kernel
/// adds to creating requests (MKNOD, MKDIR, SYMLINK, CREATE, TMPFILE) when the caller is a member
/// of the parent directory's group but that group is not its fsgid. Otherwise it is empty and a
/// filesystem that needs the full group list reads <c>/proc/&lt;pid&gt;/status</c> as libfuse does.
/// </remarks>
public readonly ref struct FuseContext
{
    /// <summary>Creates a context (the dispatcher does this; tests and bridges may too).</summary>
    public FuseContext(in FuseInHeader header, ReadOnlySpan<uint> groups, bool hasGroups, CancellationToken cancellation)
    {
        Unique = header.Unique; Opcode = header.Opcode; NodeId = header.NodeId;
        Uid = header.Uid; Gid = header.Gid; Pid = header.Pid;
        Groups = groups; HasSupplementaryGroups = hasGroups; Cancellation = cancellation;
    }

    /// <summary>The request's unique id (its reply carries it back).</summary>
    public ulong Unique { get; }
    /// <summary>The request's opcode.</summary>
    public FuseOpcode Opcode { get; }
    /// <summary>The node the request is about; for operations taking a name, the parent directory.</summary>
    public ulong NodeId { get; }
    /// <summary>The caller's fsuid.</summary>
    public uint Uid { get; }
    /// <summary>The caller's fsgid.</summary>
    public uint Gid { get; }
    /// <summary>The caller's thread group id (0 for requests the kernel makes on its own, such as RELEASE at unmount).</summary>
    public uint Pid { get; }
    /// <summary>Supplementary groups from the CREATE_SUPP_GROUP extension (see remarks).</summary>
    public ReadOnlySpan<uint> Groups { get; }
    /// <summary>True if the request carried the supplementary groups extension.</summary>
    public bool HasSupplementaryGroups { get; }
    /// <summary>Fires when the kernel interrupts this request (the caller got a signal). The handler may ignore it or return EINTR.</summary>
    public CancellationToken Cancellation { get; }
}
