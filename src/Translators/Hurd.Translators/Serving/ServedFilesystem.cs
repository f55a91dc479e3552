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
    // Snapshots of closed peropens, kept for the next directory opened: rm -rf opens every directory once, and a
    // second listing of a large directory would otherwise grow new arrays to its size again.
    private readonly Stack<DirSnapshot> _spareSnapshots = new(); // guarded by itself
    private const int SpareSnapshots = 4, SpareSnapshotEntries = 16 * 1024;
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
    /// <summary>Live node references (fs_ext noderef_*), on all ports.</summary>
    public int NodeRefCount => Volatile.Read(ref _nodeRefs);
    private int _nodeRefs;
    internal void CountNodeRefs(int delta) => Interlocked.Add(ref _nodeRefs, delta);

    // Peropens of released node references, closed about a millisecond later on a timer thread (as the IPC core runs
    // the no-senders notifications of released ports): the last close may be real work (ext2 frees an unlinked inode),
    // which should not hold up the releasing client (the bridge's FORGET, on a FUSE reader thread) nor the requests
    // queued behind it.
    private readonly System.Collections.Concurrent.ConcurrentQueue<Protid> _closing = new();
    private int _closeArmed;
    private Timer? _closeTimer;
    private volatile bool _disposed;

    /// <summary>Releases <paramref name="p"/> (a node reference's protid) about a millisecond from now.</summary>
    internal void ReleaseLater(Protid p)
    {
        if (_disposed) { p.Release(); return; }
        _closing.Enqueue(p);
        if (Interlocked.CompareExchange(ref _closeArmed, 1, 0) != 0) return;
        var t = Volatile.Read(ref _closeTimer);
        if (t is null)
        {
            t = new Timer(static s => ((ServedFilesystem)s!).DrainClosing(), this, Timeout.Infinite, Timeout.Infinite);
            var won = Interlocked.CompareExchange(ref _closeTimer, t, null);
            if (won is not null) { t.Dispose(); t = won; }
        }
        try { t.Change(1, Timeout.Infinite); }
        catch (ObjectDisposedException) { DrainClosing(); }
    }

    private void DrainClosing()
    {
        Volatile.Write(ref _closeArmed, 0);
        while (_closing.TryDequeue(out var p)) p.Release();
    }
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

    internal ReceivePort MakeProtidPort(Protid protid) => MakeProtidPort(new ProtidPort(this, protid));

    private ReceivePort MakeProtidPort(ProtidPort target)
    {
        Remember(target.Protid.Node);
        var port = ReceivePort.Create(target, Dispatch.Protid);
        Interlocked.Increment(ref _protidPorts);
        port.NoSenders += p => Destroy(p, target);
        return port;
    }

    /// <summary>Destroys a protid port and releases its peropen reference, once (no-senders, or a failed rendezvous).</summary>
    private void Destroy(ReceivePort port, ProtidPort target)
    {
        if (Interlocked.Exchange(ref target.Destroyed, 1) != 0) return;
        target.Protid.Release();
        RecycleSnapshot(target.Protid.File);
        target.ReleaseNodeRefs();
        port.Dispose();
        Interlocked.Decrement(ref _protidPorts);
        target.Gate?.Set();
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

    // ---------------------------------------------------------------- auth

    private SendRight? _auth;
    private long _nextAuthLookup;
    private int _pendingReauth;
    private long _reauthenticated;

    /// <summary>How long the server's half of a rendezvous waits for the client's (and a request to the new port for
    /// the rendezvous to end). Default 30 s.</summary>
    public static TimeSpan ReauthTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most rendezvous this filesystem waits in at once; more are refused (EAGAIN). Default 64.</summary>
    public int MaxPendingReauth { get; set; } = 64;

    /// <summary>
    /// This filesystem's own auth handle: the server's side of io_reauthenticate (auth_server_authenticate) and the
    /// handle passive translators' owner handles are made from (auth_makeauth). Set by the host: a translator's own
    /// handle from the auth server (<see cref="AuthPorts.Connect"/>), or the one its parent handed it. The filesystem
    /// owns it (disposed with it). Null: no auth server; io_reauthenticate is refused with EOPNOTSUPP.
    /// </summary>
    public SendRight? Auth
    {
        get
        {
            var a = Volatile.Read(ref _auth);
            if (a is not null && !a.IsDead) return a;
            if (!DiscoverAuth) return a;
            // Look the auth server up again (it may have started, or restarted), at most once a second.
            long now = Environment.TickCount64;
            long next = Volatile.Read(ref _nextAuthLookup);
            if (now < next || Interlocked.CompareExchange(ref _nextAuthLookup, now + 1000, next) != next) return a;
            if (AuthPorts.Connect(out var h, 2000) != Errno.OK) return a;
            var old = Interlocked.Exchange(ref _auth, h);
            old?.Dispose();
            return h;
        }
        set
        {
            var old = Interlocked.Exchange(ref _auth, value);
            if (old is not null && !ReferenceEquals(old, value)) old.Dispose();
        }
    }

    /// <summary>When <see cref="Auth"/> is missing or dead, look the auth server up in the bootstrap directory (at most
    /// once a second). Default false; the host sets it for a translator that found its handle there.</summary>
    public bool DiscoverAuth { get; set; }

    /// <summary>Ports made by a completed io_reauthenticate (for tests and inspection).</summary>
    public long ReauthenticatedPorts => Interlocked.Read(ref _reauthenticated);

    /// <summary>
    /// The server's half of io_reauthenticate (libdiskfs io-reauthenticate.c, iohelp_reauth): a new protid port on
    /// <paramref name="from"/>'s peropen, with no ids yet, is given to auth with auth_server_authenticate on
    /// <paramref name="rendezvous"/>; auth passes it to the client whose handle met us there and tells us that handle's ids,
    /// which the new port then carries, exactly. io_reauthenticate is one-way and the in-process transport runs it on the
    /// client's own thread, so the wait runs on a thread of its own. Without an auth server, or with too many rendezvous
    /// pending, the client gets the refusal notice (<see cref="AuthPorts.ReauthRefusedId"/>) at once.
    /// </summary>
    internal void Reauthenticate(Protid from, PortName rendezvous)
    {
        var r = SendRight.FromName(rendezvous);
        if (r is null) return;
        var auth = Auth;
        if (auth is null) { AuthPorts.Refuse(r, Errno.EOPNOTSUPP); return; }
        if (Interlocked.Increment(ref _pendingReauth) > MaxPendingReauth)
        {
            Interlocked.Decrement(ref _pendingReauth);
            AuthPorts.Refuse(r, Errno.EAGAIN);
            return;
        }
        from.File.AddRef();
        var target = new ProtidPort(this, new Protid(Identity.Unauthenticated, from.File)) { Gate = new ManualResetEventSlim() };
        var port = MakeProtidPort(target);
        RendezvousThreads.Run(() => ServerAuthenticate(auth, r, port, target));
    }

    private void ServerAuthenticate(SendRight auth, SendRight rendezvous, ReceivePort port, ProtidPort target)
    {
        bool refused = false;
        try
        {
            Span<uint> eu = stackalloc uint[HurdLimits.IdsMax], au = stackalloc uint[HurdLimits.IdsMax];
            Span<uint> eg = stackalloc uint[HurdLimits.IdsMax], ag = stackalloc uint[HurdLimits.IdsMax];
            var client = new AuthClient(auth) { TimeoutMs = (int)Math.Clamp(ReauthTimeout.TotalMilliseconds, 1, int.MaxValue) };
            var e = client.auth_server_authenticate(rendezvous.Name, PortRight.MakeSend(port.Name),
                eu, out int neu, au, out int nau, eg, out int neg, ag, out int nag);
            if (e == Errno.OK)
            {
                target.Authenticate(new Identity(eu[..neu], eg[..neg], au[..nau], ag[..nag]));
                Interlocked.Increment(ref _reauthenticated);
                return;
            }
            // No client got the port (or we cannot know whose it is): destroy it, and tell a client still waiting (our
            // auth server may be gone while the client's is not).
            Destroy(port, target);
            refused = true;
            AuthPorts.Refuse(rendezvous, e);
        }
        catch (Exception ex)
        {
            // Never let the rendezvous thread take the daemon down; the port dies instead.
            Console.Error.WriteLine($"{FsName}: io_reauthenticate: {ex.Message}");
            Destroy(port, target);
        }
        finally
        {
            if (!refused) rendezvous.Dispose();
            Interlocked.Decrement(ref _pendingReauth);
        }
    }

    /// <summary>
    /// Told of the changes made through this filesystem's ports (names, attributes, data), after each succeeds. A FUSE
    /// bridge in the same process registers here (<see cref="Fuse.FuseBridge"/>), so that what other clients change over
    /// IPC reaches the kernel's caches at once instead of when they expire. Called on the changing caller's thread;
    /// must not block.
    /// </summary>
    public IChangeObserver? Observer { get; set; }

    /// <summary>The ports told of each node's changes (dir_notice_changes / file_notice_changes).</summary>
    internal ChangeNotices Notices { get; } = new();

    /// <summary>After a successful attribute change through <paramref name="who"/> (chmod, chown, utimens, xattrs, link
    /// count): the observer, and FILE_CHANGED_META to the node's ports unless only its times changed
    /// (<paramref name="timesOnly"/>: the Hurd sends nothing for times alone).</summary>
    internal void AttributesChanged(Protid who, bool timesOnly = false)
    {
        if (Observer is { Observes: true } o && Calls.IoStat(who, out var st) == Errno.OK) o.AttributesChanged(in st);
        if (!timesOnly) Notices.FileChanged(who.Node, FileChangedType.Meta, 0, 0);
    }

    /// <summary>After a successful change of name <paramref name="name"/> in the directory open as <paramref name="dir"/>
    /// (made, removed, replaced): the observer, and <paramref name="change"/> to the directory's ports.</summary>
    internal void NameChanged(Protid dir, ReadOnlySpan<byte> name, DirChangedType change)
    {
        if (Observer is { Observes: true } o && Calls.IoStat(dir, out var st) == Errno.OK) o.NameChanged(in st, name);
        Notices.DirChanged(dir.Node, change, name);
    }

    /// <summary>After a lookup from <paramref name="start"/> created <paramref name="path"/> (O_CREAT): DIR_CHANGED_NEW
    /// in the directory that holds it, looked up again when the path has more than one name (only when someone
    /// listens).</summary>
    internal void Created(Protid start, ReadOnlySpan<byte> path)
    {
        while (path.Length > 1 && path[^1] == (byte)'/') path = path[..^1];
        int slash = path.LastIndexOf((byte)'/');
        if (slash < 0) { NameChanged(start, path, DirChangedType.New); return; }
        bool observed = Observer is { Observes: true };
        if ((!observed && !Notices.Any) || slash == 0) return;
        if (Calls.DirLookup(start, Root, path[..slash], OpenFlags.NoTrans, 0, out var lr) != Errno.OK
            || !lr.IsDone || lr.Node is not { } dir) return;
        var name = path[(slash + 1)..];
        if (observed && Calls.Stat(start, dir, out var st) == Errno.OK) Observer!.NameChanged(in st, name);
        Notices.DirChanged(dir, DirChangedType.New, name);
    }

    /// <summary>After a successful write through <paramref name="who"/> of <paramref name="length"/> bytes at
    /// <paramref name="offset"/> (-1: at the file pointer, not known here; length 0: everything from the offset on): the
    /// observer (that range, or the whole file), and FILE_CHANGED_WRITE to the node's ports (-1 for a bound not known).</summary>
    internal void DataChanged(Protid who, long offset, long length)
    {
        if (Observer is { Observes: true } o && Calls.IoStat(who, out var st) == Errno.OK)
            o.DataChanged(in st, offset < 0 ? 0 : offset, offset < 0 ? 0 : length);
        Notices.FileChanged(who.Node, FileChangedType.Write, offset < 0 ? -1 : offset, offset < 0 || length == 0 ? -1 : offset + length);
    }

    /// <summary>After the size of the node open as <paramref name="who"/> went from <paramref name="oldSize"/> (-1: not
    /// known) to <paramref name="newSize"/>: the observer (everything from the new end), and FILE_CHANGED_TRUNCATE or
    /// FILE_CHANGED_EXTEND (0, new size) to the node's ports, as libdiskfs's file_set_size sends them.</summary>
    internal void SizeChanged(Protid who, long oldSize, long newSize)
    {
        if (Observer is { Observes: true } o && Calls.IoStat(who, out var st) == Errno.OK) o.DataChanged(in st, Math.Max(0, newSize), 0);
        if (oldSize >= 0 && oldSize != newSize)
            Notices.FileChanged(who.Node, newSize < oldSize ? FileChangedType.Truncate : FileChangedType.Extend, 0, newSize);
    }

    /// <summary>After a change that may have moved the size (an allocation that may grow the file): the new size is asked
    /// for only when an observer or the node's ports will be told (the FUSE bridge's own fallocate pays no stat).</summary>
    internal void SizeMayHaveChanged(Protid who, long oldSize)
    {
        if (oldSize < 0 && Observer is not { Observes: true }) return;
        if (Calls.IoStat(who, out var st) == Errno.OK) SizeChanged(who, oldSize, st.Size);
    }

    /// <summary>The size of the node open as <paramref name="who"/> when its file_notice_changes ports will want to
    /// know how a size change went (-1 otherwise: no stat is paid).</summary>
    internal long SizeIfWatched(Protid who) =>
        Notices.WatchesFile(who.Node) && Calls.IoStat(who, out var st) == Errno.OK ? st.Size : -1;

    internal DirSnapshot SnapshotOf(OpenFile f) => _snapshots.GetOrAdd(f, static (_, fs) =>
    {
        lock (fs._spareSnapshots)
        {
            if (!fs._spareSnapshots.TryPop(out var s)) return new DirSnapshot();
            fs.SnapshotsReused++;
            return s;
        }
    }, this);

    /// <summary>How many peropens got a closed one's directory snapshot (tests).</summary>
    internal int SnapshotsReused { get; private set; }

    /// <summary>Once <paramref name="f"/> is closed (its last protid gone, so no call can use its snapshot any more), keeps
    /// its snapshot for another peropen, unless enough are kept or it grew past <see cref="SpareSnapshotEntries"/>.</summary>
    private void RecycleSnapshot(OpenFile f)
    {
        // Two of the peropen's ports destroyed at once may both see it closed: only the one whose Remove takes the
        // entry keeps the snapshot (kept twice, two directories would fill one snapshot).
        if (!f.IsClosed || !_snapshots.TryGetValue(f, out var snap) || !_snapshots.Remove(f)) return;
        if (snap.Capacity > SpareSnapshotEntries) return;
        snap.Clear();
        lock (_spareSnapshots)
            if (_spareSnapshots.Count < SpareSnapshots) _spareSnapshots.Push(snap);
    }

    /// <summary>Stops the translators started here and destroys the control port.</summary>
    public void Dispose()
    {
        _disposed = true;
        Interlocked.Exchange(ref _closeTimer, null)?.Dispose();
        DrainClosing();
        Translators.Dispose();
        Control.Dispose();
        DotDot?.Dispose();
        Interlocked.Exchange(ref _auth, null)?.Dispose();
        Notices.Clear();
    }
}

/// <summary>The entries of a directory as a peropen first read them (dir_readdir entry numbers index it), so that
/// entry numbers stay stable while the directory changes (what fuse.md §4 recommends for readdir cookies). The names
/// live back to back in one buffer, reused when the peropen reads from entry 0 again, so a listing of a large
/// directory costs a few arrays rather than one per name. Guarded by <see cref="Lock"/>.</summary>
internal sealed class DirSnapshot : IDirEntrySink
{
    public readonly Lock Lock = new();
    /// <summary>Set once the snapshot holds the directory (after the first read from entry 0).</summary>
    public bool Valid;
    public int Count;
    private byte[] _names = new byte[1024];
    private int _namesLength;
    private int[] _starts = new int[64];
    private ulong[] _inos = new ulong[64];
    private FileMode[] _types = new FileMode[64];

    /// <summary>How many entries the arrays hold before they grow.</summary>
    public int Capacity => _starts.Length;

    /// <summary>Empties the snapshot before the directory is read again (the buffers stay).</summary>
    public void Clear()
    {
        Valid = false;
        Count = 0;
        _namesLength = 0;
    }

    public ReadOnlySpan<byte> Name(int i) => _names.AsSpan(_starts[i], (i + 1 < Count ? _starts[i + 1] : _namesLength) - _starts[i]);
    public ulong Ino(int i) => _inos[i];
    public FileMode Type(int i) => _types[i];

    public bool Add(ReadOnlySpan<byte> name, ulong ino, FileMode type, long nextCookie, Node? node)
    {
        if (Count == _starts.Length)
        {
            Array.Resize(ref _starts, Count * 2);
            Array.Resize(ref _inos, Count * 2);
            Array.Resize(ref _types, Count * 2);
        }
        if (_namesLength + name.Length > _names.Length) Array.Resize(ref _names, Math.Max(_names.Length * 2, _namesLength + name.Length));
        name.CopyTo(_names.AsSpan(_namesLength));
        _starts[Count] = _namesLength;
        _inos[Count] = ino;
        _types[Count] = type;
        _namesLength += name.Length;
        Count++;
        return true;
    }
}

/// <summary>
/// The threads the servers' halves of rendezvous wait on: one per rendezvous in progress (each blocks until the client's
/// half comes or the deadline; <see cref="ServedFilesystem.MaxPendingReauth"/> bounds them per filesystem), kept for
/// two idle seconds and reused, so a burst of reauthentications does not start a thread each.
/// </summary>
internal static class RendezvousThreads
{
    private static readonly ConcurrentQueue<Action> s_work = new();
    private static readonly SemaphoreSlim s_signal = new(0);
    // Idle threads not yet claimed. Run claims one (and signals it) or starts a thread, so every item has a thread of
    // its own: a rendezvous that waits long never holds up another one.
    private static int s_idle;

    public static void Run(Action work)
    {
        s_work.Enqueue(work);
        while (true)
        {
            int v = Volatile.Read(ref s_idle);
            if (v == 0) { new Thread(Loop) { IsBackground = true, Name = "rendezvous" }.Start(); return; }
            if (Interlocked.CompareExchange(ref s_idle, v - 1, v) == v) { s_signal.Release(); return; }
        }
    }

    private static void Loop()
    {
        while (true)
        {
            while (s_work.TryDequeue(out var w)) w();
            Interlocked.Increment(ref s_idle);
            if (s_signal.Wait(2000)) continue;
            // Idle too long: leave, unless a Run claimed this thread meanwhile (its signal is then on its way).
            while (true)
            {
                int v = Volatile.Read(ref s_idle);
                if (v == 0) { s_signal.Wait(); break; }
                if (Interlocked.CompareExchange(ref s_idle, v - 1, v) == v) return;
            }
        }
    }
}

/// <summary>The dispatch functions registered on the ports (one port serves several subsystems).</summary>
internal static class Dispatch
{
    public static Errno Protid(ProtidPort t, ref RpcRequest r)
    {
        if (t.Gate is { } g) g.Wait(ServedFilesystem.ReauthTimeout);
        return FsExtServer.Handles(r.Id) ? FsExtServer.Dispatch(t, ref r) : FileServer.Dispatch(t, ref r);
    }

    public static Errno Control(ControlPort t, ref RpcRequest r) => FsysServer.Dispatch(t, ref r);
}
