using Hurd.Ipc.Abi;
using Hurd.Ipc.Rpc;
using Hurd.Ipc.Transport;

namespace Hurd.Ipc.Ports;

/// <summary>A server routine dispatcher for targets of type <typeparamref name="T"/>:
/// the generated <c>FooServer.Dispatch</c> has this shape.</summary>
public delegate Errno RpcDispatch<in T>(T target, ref RpcRequest request) where T : class;

/// <summary>An entry of the name table (one right, or a port set).</summary>
internal abstract class Entry
{
    public PortName Name;
}

internal sealed class ReceiveEntry(ReceivePort port) : Entry
{
    public readonly ReceivePort Port = port;
}

/// <summary>
/// A send right held in this space: to a local port (<see cref="Local"/>) or to a port of the
/// peer of <see cref="Conn"/>, where the peer granted it under <see cref="Handle"/>. One entry per
/// distinct port (Mach merges send rights to one port under one name); <see cref="URefs"/> counts them.
/// A send-once right (<see cref="SendOnce"/>) is never merged: it has its own name, exactly one user
/// reference, and the first call or message sent through it consumes it (<see cref="Used"/>).
/// All mutable fields are guarded by <see cref="IpcSpace.Lock"/>, except <see cref="Used"/> (atomic).
/// </summary>
internal sealed class SendEntry : Entry
{
    public ReceivePort? Local;
    public Connection? Conn;
    public uint Handle;
    public int URefs;
    /// <summary>A send-once right (Mach MACH_PORT_RIGHT_SEND_ONCE).</summary>
    public bool SendOnce;
    /// <summary>1 once a send-once right was used as a destination (or moved away): it cannot be used again.</summary>
    public int Used;
    /// <summary>How many grants of <see cref="Handle"/> came over <see cref="Conn"/> (returned in one release).</summary>
    public int Received;
    public volatile bool Dead;
    public List<Action<PortName>>? DeadNameCallbacks;
}

internal sealed class PortSetEntry(PortSet set) : Entry
{
    public readonly PortSet Set = set;
}

/// <summary>
/// A process's IPC space (Mach's ipc_space): the table from <see cref="PortName"/>s to rights.
/// Names are per process, allocated increasing and never reused while the process lives
/// (2^32 of them), so a stale name cannot silently alias a newer right. There is one space per
/// process: <see cref="Current"/>.
/// </summary>
public sealed class IpcSpace
{
    /// <summary>The space of this process.</summary>
    public static IpcSpace Current { get; } = new();

    /// <summary>Guards the name table, every entry's counts, every port's grants and every connection's tables.</summary>
    internal readonly object Lock = new();
    private readonly Dictionary<uint, Entry> _names = new();
    private uint _nextName = 0x100;
    private Server? _server;

    private IpcSpace() { }

    /// <summary>The process's worker pool, which serves every port and connection (started on first use).</summary>
    public Server Server
    {
        get
        {
            var s = Volatile.Read(ref _server);
            if (s is not null) return s;
            lock (Lock) { return _server ??= new Server(this); }
        }
    }

    internal bool HasServer => Volatile.Read(ref _server) is not null;

    /// <summary>Number of names in use (for tests and diagnostics).</summary>
    public int NameCount { get { lock (Lock) return _names.Count; } }

    /// <summary>What kind of right <paramref name="name"/> denotes, or None.</summary>
    public RightKind KindOf(PortName name)
    {
        lock (Lock)
        {
            if (!_names.TryGetValue(name.Value, out var e)) return RightKind.None;
            return e switch
            {
                ReceiveEntry => RightKind.Receive,
                SendEntry s => s.Dead ? RightKind.DeadName : s.SendOnce ? RightKind.SendOnce : RightKind.Send,
                PortSetEntry => RightKind.PortSet,
                _ => RightKind.None,
            };
        }
    }

    /// <summary>User references of the send right or dead name <paramref name="name"/> (0 if none).</summary>
    public int RefCount(PortName name)
    {
        lock (Lock) return _names.TryGetValue(name.Value, out var e) && e is SendEntry s ? s.URefs : 0;
    }

    /// <summary>Drops one user reference of a send right or dead name (mach_port_deallocate).</summary>
    public Errno Deallocate(PortName name)
    {
        SendEntry? s;
        lock (Lock)
        {
            if (!_names.TryGetValue(name.Value, out var e) || e is not SendEntry se) return Errno.EINVAL;
            s = se;
        }
        ReleaseRef(s);
        return Errno.OK;
    }

    /// <summary>Takes over one user reference of the send right <paramref name="name"/> (for example one
    /// received in a message) as an object; disposing it deallocates the reference.</summary>
    public SendRight? TakeSendRight(PortName name)
    {
        lock (Lock)
        {
            if (!_names.TryGetValue(name.Value, out var e) || e is not SendEntry s) return null;
            return new SendRight(s);
        }
    }

    /// <summary>
    /// The object served on the port that <paramref name="name"/> names, when that port lives in this
    /// process (a receive right, or a send right to one of our own ports, as a right received in a
    /// message to us is): libports' "intran". Null for a remote port, a dead name or no right.
    /// </summary>
    public object? LocalTarget(PortName name)
    {
        lock (Lock)
        {
            return Lookup(name) switch
            {
                ReceiveEntry r => r.Port.HandlerTarget,
                SendEntry { Local: { } local } => local.HandlerTarget,
                _ => null,
            };
        }
    }

    /// <summary>Adds a user reference to <paramref name="name"/> and returns it as an object (null if it is not a send
    /// right, or is a send-once right, which cannot be copied).</summary>
    public SendRight? CopySendRight(PortName name)
    {
        lock (Lock)
        {
            if (!_names.TryGetValue(name.Value, out var e) || e is not SendEntry s || s.SendOnce) return null;
            s.URefs++;
            if (s.Local is not null && !s.Dead) s.Local.AddSend(1);
            return new SendRight(s);
        }
    }

    internal Entry? Lookup(PortName name)
    {
        lock (Lock) return _names.TryGetValue(name.Value, out var e) ? e : null;
    }

    // ---- under Lock ----

    internal void AddName(Entry e)
    {
        uint n;
        do { n = _nextName++; if (n == 0) n = _nextName++; } while (_names.ContainsKey(n));
        e.Name = new PortName(n);
        _names[n] = e;
    }

    internal void RemoveName(Entry e) => _names.Remove(e.Name.Value);

    /// <summary>The local send entry of <paramref name="port"/>, one more uref (port.LocalSend). Caller holds Lock.</summary>
    internal SendEntry MakeLocalSend(ReceivePort port)
    {
        var s = port.LocalSend;
        if (s is null || s.URefs == 0)
        {
            s = new SendEntry { Local = port };
            if (port.IsDestroyed) s.Dead = true;
            AddName(s);
            port.LocalSend = s;
        }
        s.URefs++;
        if (!s.Dead) port.AddSend(1);
        return s;
    }

    /// <summary>A new send-once right to <paramref name="port"/> (its own name, one uref, counted as a sender until it
    /// is used or deallocated). Caller holds Lock.</summary>
    internal SendEntry MakeLocalSendOnce(ReceivePort port)
    {
        var s = new SendEntry { Local = port, SendOnce = true, URefs = 1 };
        if (port.IsDestroyed) s.Dead = true;
        AddName(s);
        if (!s.Dead) { port.AddSend(1); port.LocalSendOnce.Add(s); }
        return s;
    }

    /// <summary>A new send-once right to the port the peer of <paramref name="conn"/> granted under
    /// <paramref name="handle"/> (never merged with a send right to the same port). Caller holds Lock.</summary>
    internal SendEntry ReceiveRemoteSendOnce(Connection conn, uint handle)
    {
        var s = new SendEntry { Conn = conn, Handle = handle, SendOnce = true, URefs = 1, Received = 1 };
        if (conn.IsClosed) s.Dead = true;
        AddName(s);
        if (!s.Dead) conn.RemoteOnce.Add(s);
        return s;
    }

    /// <summary>A send entry for handle <paramref name="handle"/> granted by the peer of <paramref name="conn"/>, one more uref. Caller holds Lock.</summary>
    internal SendEntry ReceiveRemoteSend(Connection conn, uint handle)
    {
        if (!conn.Remote.TryGetValue(handle, out var s))
        {
            s = new SendEntry { Conn = conn, Handle = handle };
            if (conn.IsClosed) s.Dead = true;
            AddName(s);
            if (!s.Dead) conn.Remote[handle] = s;
        }
        s.URefs++;
        s.Received++;
        return s;
    }

    /// <summary>A fresh dead name (a right whose port was already gone when it arrived). Caller holds Lock.</summary>
    internal SendEntry MakeDeadName()
    {
        var s = new SendEntry { Dead = true, URefs = 1 };
        AddName(s);
        return s;
    }

    /// <summary>Drops one uref; the last one frees the name and tells the owner (release record or local count).</summary>
    internal void ReleaseRef(SendEntry s)
    {
        Connection? conn = null; uint handle = 0; int received = 0; ReceivePort? local = null;
        lock (Lock)
        {
            if (s.URefs <= 0) return;
            s.URefs--;
            if (s.Local is not null && !s.Dead) local = s.Local;
            if (s.URefs == 0)
            {
                RemoveName(s);
                if (s.Local is not null && ReferenceEquals(s.Local.LocalSend, s)) s.Local.LocalSend = null;
                if (s.SendOnce && s.Local is not null) s.Local.LocalSendOnce.Remove(s);
                if (s.Conn is not null && !s.Dead)
                {
                    if (s.SendOnce) s.Conn.RemoteOnce.Remove(s);
                    else if (s.Conn.Remote.TryGetValue(s.Handle, out var cur) && ReferenceEquals(cur, s)) s.Conn.Remote.Remove(s.Handle);
                    conn = s.Conn; handle = s.Handle; received = s.Received;
                }
            }
        }
        local?.DropSend(1);
        if (conn is not null && received > 0) conn.PostRelease(handle, received);
    }

    /// <summary>Marks a send entry dead and runs its dead-name callbacks (outside the lock).</summary>
    internal void KillEntries(List<SendEntry> entries)
    {
        var todo = new List<(Action<PortName>, PortName)>();
        lock (Lock)
        {
            foreach (var s in entries)
            {
                if (s.Dead) continue;
                s.Dead = true;
                if (s.DeadNameCallbacks is { } cbs) foreach (var cb in cbs) todo.Add((cb, s.Name));
                s.DeadNameCallbacks = null;
            }
        }
        foreach (var (cb, n) in todo) RunNotification(() => cb(n));
    }

    /// <summary>
    /// Runs a notification (dead name, no senders) on a thread-pool thread, never on the thread that caused it, which
    /// may hold locks the handler takes. Notifications are batched: the first of a burst arms a one-shot timer of about a
    /// millisecond, whose callback runs every notification queued by then. A sequential client that releases one port
    /// per request (every FUSE RELEASE and FORGET does) so costs one thread wake-up per millisecond instead of one per
    /// release: on a 2-CPU machine each wake-up is a context switch on the client's path or an IPI to an idle CPU.
    /// A handler that blocks delays only the notifications behind it in its batch: the next one queued arms a new drain.
    /// </summary>
    internal static void RunNotification(Action a)
    {
        s_notifications.Enqueue(a);
        if (Interlocked.CompareExchange(ref s_drainArmed, 1, 0) == 0) s_drainTimer.Change(1, Timeout.Infinite);
    }

    private static readonly System.Collections.Concurrent.ConcurrentQueue<Action> s_notifications = new();
    private static int s_drainArmed;
    private static readonly Timer s_drainTimer = new(static _ => DrainNotifications(), null, Timeout.Infinite, Timeout.Infinite);

    private static void DrainNotifications()
    {
        // Disarm first: a notification queued from here on arms the next drain, so none is left behind.
        Volatile.Write(ref s_drainArmed, 0);
        while (s_notifications.TryDequeue(out var a))
        {
            try { a(); } catch { }
        }
    }
}

/// <summary>
/// A receive right: a port that lives in this process. Register what serves it with
/// <see cref="SetHandler{T}"/>; the process's <see cref="Server"/> dispatches every request that
/// arrives for it (from this process or any other) on its worker pool. Hand out access with
/// <see cref="MakeSend"/>. Disposing destroys the port: every send right to it becomes a dead name
/// (calls fail with <see cref="Errno.EDIED"/>).
/// </summary>
public sealed class ReceivePort : IDisposable
{
    private readonly IpcSpace _space;
    private readonly ReceiveEntry _entry;
    private int _sendCount;
    private volatile bool _destroyed;
    internal object? HandlerTarget;
    internal RpcDispatcher? Dispatcher;
    internal SendEntry? LocalSend;
    /// <summary>Send-once rights to this port held in this process (guarded by IpcSpace.Lock): dead names when it dies.</summary>
    internal readonly HashSet<SendEntry> LocalSendOnce = new();
    /// <summary>Grants of this port per connection (guarded by IpcSpace.Lock).</summary>
    internal readonly Dictionary<Connection, Grant> Grants = new();
    internal PortSet? Set;

    /// <summary>Creates a port in the current process's space.</summary>
    public ReceivePort() : this(IpcSpace.Current) { }

    internal ReceivePort(IpcSpace space)
    {
        _space = space;
        _entry = new ReceiveEntry(this);
        lock (space.Lock) space.AddName(_entry);
    }

    /// <summary>Creates a port served by <paramref name="dispatch"/> on <paramref name="target"/>.</summary>
    public static ReceivePort Create<T>(T target, RpcDispatch<T> dispatch) where T : class
    {
        var p = new ReceivePort();
        p.SetHandler(target, dispatch);
        return p;
    }

    /// <summary>The receive right's name.</summary>
    public PortName Name => _entry.Name;
    /// <summary>The object registered with the handler (libports' intran result).</summary>
    public object? Target => HandlerTarget;
    /// <summary>True once destroyed.</summary>
    public bool IsDestroyed => _destroyed;
    /// <summary>Send rights to this port that exist anywhere (local user refs plus rights granted to peers).</summary>
    public int SendRightCount => Volatile.Read(ref _sendCount);

    /// <summary>Raised (on a thread-pool thread) each time the number of send rights drops to zero,
    /// including when a client holding the last one dies (Mach's no-senders notification).</summary>
    public event Action<ReceivePort>? NoSenders;

    /// <summary>Registers what serves requests to this port. The dispatcher runs on a worker thread with
    /// <see cref="CallContext.Current"/> set; it must not throw (an exception is answered with EIO).</summary>
    public void SetHandler<T>(T target, RpcDispatch<T> dispatch) where T : class
    {
        HandlerTarget = target;
        Dispatcher = Dispatchers<T>.Untyped(dispatch);
    }

    /// <summary>Makes a new send right to this port (MAKE_SEND), as an object owning one user reference.</summary>
    public SendRight MakeSend()
    {
        lock (_space.Lock)
        {
            var s = _space.MakeLocalSend(this);
            return new SendRight(s);
        }
    }

    /// <summary>Makes a new send-once right to this port (MAKE_SEND_ONCE): a right with its own name that carries
    /// exactly one call or message; the first use consumes it and a second use fails with <see cref="Errno.EBADF"/>.
    /// It cannot be copied (only moved, with <see cref="Disposition.MoveSendOnce"/>). Until it is used or disposed it
    /// counts as a sender of this port.</summary>
    public SendRight MakeSendOnce()
    {
        lock (_space.Lock) return new SendRight(_space.MakeLocalSendOnce(this));
    }

    internal void AddSend(int n) => Interlocked.Add(ref _sendCount, n);

    internal void DropSend(int n)
    {
        if (n <= 0) return;
        if (Interlocked.Add(ref _sendCount, -n) == 0 && !_destroyed)
        {
            var h = NoSenders;
            if (h is not null) IpcSpace.RunNotification(() => h(this));
        }
    }

    /// <summary>Destroys the port (mach_port_destroy of the receive right).</summary>
    public void Dispose()
    {
        List<(Connection, uint)> dead = new();
        List<SendEntry> kill = new();
        lock (_space.Lock)
        {
            if (_destroyed) return;
            _destroyed = true;
            _space.RemoveName(_entry);
            foreach (var (conn, g) in Grants)
            {
                conn.Grants.TryRemove(g.Handle, out _);
                conn.DeadHandles[g.Handle] = 0;
                dead.Add((conn, g.Handle));
            }
            Grants.Clear();
            if (LocalSend is not null) kill.Add(LocalSend);
            kill.AddRange(LocalSendOnce);
            LocalSendOnce.Clear();
            Set?.RemoveUnlocked(this);
        }
        _space.KillEntries(kill);
        foreach (var (c, h) in dead) c.PostDead(h);
    }
}

/// <summary>The non-generic form of a registered dispatcher.</summary>
internal delegate Errno RpcDispatcher(object target, ref RpcRequest request);

/// <summary>
/// The untyped form of a typed dispatcher, made once per dispatcher rather than once per port: a server that makes a
/// port per open file (a protid port per dir_lookup) registers the same static method group each time, which C#
/// caches as one delegate, so the last one made is nearly always the one asked for.
/// </summary>
internal static class Dispatchers<T> where T : class
{
    private sealed class Pair(RpcDispatch<T> typed, RpcDispatcher untyped)
    {
        public readonly RpcDispatch<T> Typed = typed;
        public readonly RpcDispatcher Untyped = untyped;
    }

    private static Pair? s_last;

    public static RpcDispatcher Untyped(RpcDispatch<T> dispatch)
    {
        var last = Volatile.Read(ref s_last);
        if (last is not null && ReferenceEquals(last.Typed, dispatch)) return last.Untyped;
        RpcDispatcher u = (object t, ref RpcRequest r) => dispatch((T)t, ref r);
        Volatile.Write(ref s_last, new Pair(dispatch, u));
        return u;
    }
}

/// <summary>A grant: this process gave the peer of a connection send rights to <see cref="Port"/> under
/// <see cref="Handle"/>; <see cref="Count"/> of them are still outstanding. Guarded by IpcSpace.Lock.</summary>
internal sealed class Grant(ReceivePort port, uint handle)
{
    public readonly ReceivePort Port = port;
    public readonly uint Handle = handle;
    public int Count;
}

/// <summary>
/// A send right (one user reference of a name) as an object: the thing generated client proxies
/// call through (<see cref="IRpcTarget"/>). Disposing deallocates the reference. Calls to a port
/// that is gone fail with <see cref="Errno.EDIED"/>, never hang.
/// </summary>
public sealed class SendRight : IRpcTarget, IDisposable
{
    internal readonly SendEntry Entry;
    private int _disposed;

    internal SendRight(SendEntry entry) { Entry = entry; }

    /// <summary>Takes over one user reference of <paramref name="name"/> in the current space (null if it is not a send right).</summary>
    public static SendRight? FromName(PortName name) => IpcSpace.Current.TakeSendRight(name);

    /// <summary>The right's name in this process's space.</summary>
    public PortName Name => Entry.Name;
    /// <summary>True once the port is known to be gone (a dead name).</summary>
    public bool IsDead => Entry.Dead;
    /// <summary>True for a send-once right: the first call or message through it consumes it; later ones fail with
    /// <see cref="Errno.EBADF"/>.</summary>
    public bool IsSendOnce => Entry.SendOnce;
    /// <summary>True when the port lives in this process (calls use the in-process transport).</summary>
    public bool IsLocal => Entry.Local is not null;
    /// <summary>A timeout applied to every call begun on this right (sets <see cref="RpcCall.DeadlineMs"/>); infinite by default.</summary>
    public TimeSpan Timeout
    {
        get => _timeout;
        set { _timeout = value; _hasTimeout = value != System.Threading.Timeout.InfiniteTimeSpan; }
    }
    private TimeSpan _timeout = System.Threading.Timeout.InfiniteTimeSpan;
    private bool _hasTimeout;
    /// <summary>The credentials of the process holding the receive right (kernel-attested), or null if unknown.</summary>
    public PeerCredentials? Peer => Entry.Local is not null ? PeerCredentials.Self : Entry.Conn?.Peer;

    /// <summary>Registers <paramref name="callback"/> to run once when the port dies (dead-name notification).
    /// Runs at once (on a thread-pool thread) if it is already dead.</summary>
    public void OnDeadName(Action<PortName> callback)
    {
        var space = IpcSpace.Current;
        lock (space.Lock)
        {
            if (!Entry.Dead) { (Entry.DeadNameCallbacks ??= new()).Add(callback); return; }
        }
        var n = Name;
        IpcSpace.RunNotification(() => callback(n));
    }

    /// <summary>Another reference to the same right (COPY_SEND in the local space). A send-once right cannot be copied
    /// (InvalidOperationException).</summary>
    public SendRight Copy() => IpcSpace.Current.CopySendRight(Name) ?? throw (Entry.SendOnce
        ? new InvalidOperationException("a send-once right cannot be copied")
        : new ObjectDisposedException(nameof(SendRight)));

    /// <inheritdoc/>
    /// <remarks>On a send-once right this consumes it: the call (or one-way message) is the one use, sent or not;
    /// the right is deallocated once the message is published (or the call disposed). A second call gets EBADF.</remarks>
    public RpcCall BeginCall(uint id)
    {
        var e = Entry;
        // The common in-process call (a send right to a port of this process, no timeout): the call is built straight
        // into the caller's, without a copy through a local here.
        if (e.Local is { } local && !_hasTimeout && !e.SendOnce && !e.Dead && Volatile.Read(ref _disposed) == 0)
            return Loopback.BeginCall(local, id);
        return BeginCallSlow(id);
    }

    /// <summary><see cref="BeginCall(uint)"/> with <see cref="RpcCall.Cancellation"/> set to <paramref name="cancellation"/>
    /// (an <see cref="IRpcTarget"/> wrapping a right returns this directly, with no copy of the call of its own).</summary>
    public RpcCall BeginCall(uint id, CancellationToken cancellation)
    {
        var e = Entry;
        if (e.Local is { } local && !_hasTimeout && !e.SendOnce && !e.Dead && Volatile.Read(ref _disposed) == 0)
            return Loopback.BeginCall(local, id, null, cancellation);
        var call = BeginCallSlow(id);
        call.Cancellation = cancellation;
        return call;
    }

    private RpcCall BeginCallSlow(uint id)
    {
        var e = Entry;
        if (!_hasTimeout && Volatile.Read(ref _disposed) == 0 && !e.Dead && !e.SendOnce && e.Conn is { } conn)
            return conn.BeginCall(e.Handle, id, null); // a remote call without timeout: built in place too
        RpcCall call;
        if (Volatile.Read(ref _disposed) != 0) call = FailedEngine.Make(id, Errno.EBADF);
        else if (e.Dead) call = FailedEngine.Make(id, Errno.EDIED);
        else if (e.SendOnce && Interlocked.Exchange(ref e.Used, 1) != 0) call = FailedEngine.Make(id, Errno.EBADF);
        else if (e.Local is { } port) call = Loopback.BeginCall(port, id, e.SendOnce ? e : null);
        else call = e.Conn!.BeginCall(e.Handle, id, e.SendOnce ? e : null);
        var t = Timeout;
        if (t != System.Threading.Timeout.InfiniteTimeSpan) call.DeadlineMs = Environment.TickCount64 + (long)t.TotalMilliseconds;
        return call;
    }

    /// <summary>Deallocates this reference.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        GC.SuppressFinalize(this);
        IpcSpace.Current.ReleaseRef(Entry);
    }

    /// <summary>A right dropped without Dispose is still given back (later), so no-senders stays exact.</summary>
    ~SendRight()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        var e = Entry;
        ThreadPool.UnsafeQueueUserWorkItem(static s => { try { IpcSpace.Current.ReleaseRef((SendEntry)s!); } catch { } }, e);
    }

    /// <inheritdoc/>
    public override string ToString() => $"send right {Name}{(IsDead ? " (dead)" : "")}";
}

/// <summary>
/// A port set: a group of receive rights served together (one receive loop over many ports).
/// Every port in the set that has no handler of its own is dispatched to the set's handler.
/// Destroying the set destroys no ports; it only removes them from the set.
/// </summary>
public sealed class PortSet : IDisposable
{
    private readonly IpcSpace _space = IpcSpace.Current;
    private readonly PortSetEntry _entry;
    private readonly List<ReceivePort> _members = new();
    internal object? HandlerTarget;
    internal RpcDispatcher? Dispatcher;

    /// <summary>Creates an empty set.</summary>
    public PortSet()
    {
        _entry = new PortSetEntry(this);
        lock (_space.Lock) _space.AddName(_entry);
    }

    /// <summary>The set's name.</summary>
    public PortName Name => _entry.Name;

    /// <summary>The members (a snapshot).</summary>
    public IReadOnlyList<ReceivePort> Members { get { lock (_space.Lock) return _members.ToArray(); } }

    /// <summary>The handler for members without their own.</summary>
    public void SetHandler<T>(T target, RpcDispatch<T> dispatch) where T : class
    {
        HandlerTarget = target;
        Dispatcher = Dispatchers<T>.Untyped(dispatch);
    }

    /// <summary>Moves <paramref name="port"/> into this set (out of any other).</summary>
    public void Add(ReceivePort port)
    {
        lock (_space.Lock)
        {
            port.Set?.RemoveUnlocked(port);
            port.Set = this;
            _members.Add(port);
        }
    }

    /// <summary>Takes <paramref name="port"/> out of this set.</summary>
    public void Remove(ReceivePort port) { lock (_space.Lock) RemoveUnlocked(port); }

    internal void RemoveUnlocked(ReceivePort port)
    {
        if (_members.Remove(port)) port.Set = null;
    }

    /// <summary>Destroys the set (the ports stay).</summary>
    public void Dispose()
    {
        lock (_space.Lock)
        {
            foreach (var p in _members) p.Set = null;
            _members.Clear();
            _space.RemoveName(_entry);
        }
    }
}
