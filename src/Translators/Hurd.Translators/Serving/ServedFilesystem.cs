using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Translators.Serving;

/// <summary>
/// One filesystem served over IPC (libdiskfs/libnetfs's job): the io, fs and fsys protocols,
/// answered from a tree of <see cref="Node"/>s by the SDK's <see cref="Calls"/>.
/// </summary>
/// <remarks>
/// <para>Ports: every port a client holds into the filesystem is a protid port (a
/// <see cref="ProtidPort"/>: an identity plus a peropen on a node), made by dir_lookup,
/// fsys_getroot, io_duplicate, io_restrict_auth, fsys_getfile. When the last send right to
/// one is gone (the client deallocated it, or died), the no-senders notification destroys
/// the port and closes its peropen. The control port (<see cref="Control"/>) serves fsys.</para>
/// <para>Threading: requests arrive on the IPC core's worker threads (or, in-process, on
/// the caller's thread); nodes must be thread-safe (see <see cref="Node"/>).</para>
/// </remarks>
public sealed class ServedFilesystem : IDisposable
{
    private readonly ConcurrentDictionary<ulong, WeakReference<Node>> _nodes = new();
    private readonly ConditionalWeakTable<OpenFile, DirSnapshot> _snapshots = new();
    private int _protidPorts;
    private volatile bool _goingAway;

    /// <summary>Serves the tree rooted at <paramref name="root"/>.</summary>
    public ServedFilesystem(Node root, string fsName)
    {
        Root = root;
        FsName = fsName;
        Remember(root);
        Control = ReceivePort.Create(new ControlPort(this), Dispatch.Control);
        Translators = new PassiveTranslators(this);
    }

    /// <summary>The root node.</summary>
    public Node Root { get; }
    /// <summary>The filesystem's type name (what `hurd showtrans` and io_server_version report).</summary>
    public string FsName { get; }
    /// <summary>The control port (fsys). Give send rights only to privileged holders.</summary>
    public ReceivePort Control { get; }
    /// <summary>Starts and tracks translators set on nodes of this filesystem.</summary>
    public PassiveTranslators Translators { get; }
    /// <summary>The directory holding this filesystem's root in its parent (for ".." out of the root), if a parent gave one.</summary>
    public SendRight? DotDot { get; set; }
    /// <summary>Live protid ports.</summary>
    public int ProtidPortCount => Volatile.Read(ref _protidPorts);
    /// <summary>Where the filesystem comes from (fsys_get_source).</summary>
    public string Source { get; set; } = "";

    /// <summary>
    /// Called by fsys_goaway with its flags: return OK to agree (the host then exits), EBUSY to
    /// refuse. Without a handler the filesystem refuses with EBUSY while it has users (protid
    /// ports other than those the host itself holds), unless FSYS_GOAWAY_FORCE.
    /// </summary>
    public Func<GoAwayFlags, Errno>? GoAway { get; set; }

    /// <summary>Set once fsys_goaway was accepted: new lookups fail with EBUSY... then the host stops.</summary>
    public bool IsGoingAway => _goingAway;

    internal void MarkGoingAway() => _goingAway = true;

    /// <summary>
    /// A new protid port on <paramref name="protid"/>; returns its receive right's name. The
    /// port lives until its last send right is gone.
    /// </summary>
    public PortName MakePort(Protid protid) => MakeProtidPort(protid).Name;

    internal ReceivePort MakeProtidPort(Protid protid)
    {
        Remember(protid.Node);
        var port = ReceivePort.Create(new ProtidPort(this, protid), Dispatch.Protid);
        Interlocked.Increment(ref _protidPorts);
        port.NoSenders += p =>
        {
            if (p.Target is ProtidPort pp) pp.Protid.Release();
            p.Dispose();
            Interlocked.Decrement(ref _protidPorts);
        };
        return port;
    }

    /// <summary>A send right to a port for the root, opened with <paramref name="flags"/> for <paramref name="user"/> (what fsys_getroot gives), for use in this process.</summary>
    public Errno GetRoot(Identity user, OpenFlags flags, out SendRight? right)
    {
        right = null;
        var e = Calls.Open(user, Root, flags & ~(OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.Truncate), false, out var protid);
        if (e != Errno.OK) return e;
        right = MakeProtidPort(protid!).MakeSend();
        return Errno.OK;
    }

    internal void Remember(Node node) => _nodes.TryAdd(node.Ino, new WeakReference<Node>(node));

    /// <summary>The node a file handle names (ino + generation), if it is still alive.</summary>
    internal Node? FindNode(ulong ino, uint generation)
    {
        if (ino == Root.Ino) return Root;
        if (_nodes.TryGetValue(ino, out var w) && w.TryGetTarget(out var n) && n.Generation == generation) return n;
        return null;
    }

    internal DirSnapshot SnapshotOf(OpenFile f) => _snapshots.GetValue(f, _ => new DirSnapshot());

    /// <summary>Stops the translators started here and destroys the control port.</summary>
    public void Dispose()
    {
        Translators.Dispose();
        Control.Dispose();
        DotDot?.Dispose();
    }
}

/// <summary>The entries of a directory as a peropen first read them (dir_readdir entry numbers index it), so that
/// entry numbers stay stable while the directory changes (what fuse.md §4 recommends for readdir cookies).</summary>
internal sealed class DirSnapshot
{
    public readonly Lock Lock = new();
    public List<(byte[] Name, ulong Ino, FileMode Type)>? Entries;
}

/// <summary>The dispatch functions registered on the ports (one port serves several subsystems).</summary>
internal static class Dispatch
{
    public static Errno Protid(ProtidPort t, ref RpcRequest r) =>
        FsExtServer.Handles(r.Id) ? FsExtServer.Dispatch(t, ref r) : FileServer.Dispatch(t, ref r);

    public static Errno Control(ControlPort t, ref RpcRequest r) => FsysServer.Dispatch(t, ref r);
}
