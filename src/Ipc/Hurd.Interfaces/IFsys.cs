using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Interfaces;

/// <summary>
/// The fsys protocol (the Hurd's <c>hurd/fsys.defs</c>, subsystem fsys 22000): a filesystem's
/// control port, held by the node it is attached to (its transbox) and by privileged users.
/// Indexes are the Hurd's (fsys_startup = 22000, fsys_getroot = 22002); 6 fsys_getpriv and
/// 7 fsys_init (boot filesystem only) are not carried.
/// </summary>
[Subsystem("fsys", 22000)]
public interface IFsys
{
    /// <summary>
    /// Sent by a starting translator on its bootstrap port: hands the parent the translator's
    /// <paramref name="controlPort"/> (made from its receive right) and gets the node it
    /// translates, <paramref name="realnode"/>, opened with <paramref name="openflags"/> (O_NOTRANS implied).
    /// </summary>
    [Routine(0)]
    Errno fsys_startup(OpenFlags openflags, [Right(Disposition.MakeSend)] PortName controlPort, out PortName realnode);

    /// <summary>
    /// Asks the filesystem to exit: it blocks new requests, syncs (unless NoSync), and exits;
    /// EBUSY while it has users unless <see cref="GoAwayFlags.Force"/>.
    /// </summary>
    [Routine(1)]
    Errno fsys_goaway(GoAwayFlags flags);

    /// <summary>
    /// The root of the filesystem, for the client whose ids the caller (the parent filesystem)
    /// vouches for: <paramref name="genUids"/>/<paramref name="genGids"/>. <paramref name="dotdotNode"/>
    /// is an unauthenticated port to the directory holding the mount point (what ".." of the root
    /// gives, with a Reauth retry). <paramref name="flags"/>, the retry outputs and
    /// <paramref name="file"/> are as for dir_lookup.
    /// </summary>
    [Routine(2)]
    Errno fsys_getroot(PortName dotdotNode, ReadOnlySpan<uint> genUids, ReadOnlySpan<uint> genGids, OpenFlags flags,
        out RetryType doRetry, [MaxLength(HurdLimits.RetryNameMax)] Span<byte> retryName, out int retryNameCount, out PortRight file);

    /// <summary>The file a file_getfh handle names, for the given ids; ESTALE if it is gone.</summary>
    [Routine(3)]
    Errno fsys_getfile(ReadOnlySpan<uint> genUids, ReadOnlySpan<uint> genGids, ReadOnlySpan<byte> filehandle, out PortName file);

    /// <summary>Writes the filesystem back (and its children's with <paramref name="doChildren"/>); as file_syncfs.</summary>
    [Routine(4)]
    Errno fsys_syncfs(bool wait, bool doChildren);

    /// <summary>
    /// Changes options at run time (fsysopts): <paramref name="options"/> is an argz of
    /// command-line style options ("--readonly\0--sync=30\0"); EINVAL for a bad one, with
    /// nothing changed. <paramref name="doChildren"/> also passes them to child translators.
    /// </summary>
    [Routine(5)]
    Errno fsys_set_options(ReadOnlySpan<byte> options, bool doChildren);

    /// <summary>
    /// Asks this server to provide a filesystem for <paramref name="requestor"/> (another
    /// translator's bootstrap port) with the command line <paramref name="argv"/> (argz); the
    /// server then sends fsys_startup to the requestor itself.
    /// </summary>
    [Routine(8)]
    Errno fsys_forward(PortName requestor, ReadOnlySpan<byte> argv);

    /// <summary>The current options as an argz, starting with the program name (suitable for fsys_set_options).</summary>
    [Routine(9)]
    Errno fsys_get_options(Span<byte> options, out int optionsCount);

    /// <summary>The active translators on nodes of this filesystem: an argz of names relative to its root (/hurd/mtab).</summary>
    [Routine(10)]
    Errno fsys_get_children(Span<byte> children, out int childrenCount);

    /// <summary>Where the filesystem comes from (a device file name for a disk filesystem), UTF-8.</summary>
    [Routine(11)]
    Errno fsys_get_source([MaxLength(HurdLimits.RetryNameMax)] Span<byte> source, out int sourceCount);
}
