using System.Collections.Concurrent;
using System.Diagnostics;
using Hurd.Ipc.Interop;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Ipc.Transport;

/// <summary>
/// The process's worker pool (libports' ports_manage_port_operations_multithread): a fixed number of
/// dedicated threads (never the .NET thread pool) serve every connection and every port of the
/// process. Idle workers block in one epoll set holding each connection's doorbell eventfd and socket
/// and each published listening socket; the kernel wakes one worker per event.
/// <para>
/// A worker that takes a connection "owns" its incoming ring until the ring is empty: it serves the
/// calls one by one, handing the connection to another idle worker when more calls wait (so one client's
/// calls run in parallel), up to <see cref="MaxInFlightPerConnection"/> calls of one connection at once:
/// a flooding client is throttled there and the other workers keep serving everyone else. While the peer
/// advertises that it runs on another CPU, the owner spins briefly for the next request instead of
/// sleeping (no syscall on the fast path); otherwise it arms the doorbell (the WAIT bit in the ring's
/// head word) and goes back to epoll.
/// </para>
/// </summary>
public sealed unsafe class Server
{
    private readonly IpcSpace _space;
    private readonly int _epfd, _kick;
    private readonly ConcurrentQueue<Connection> _ready = new();
    private readonly ConcurrentDictionary<long, object> _objects = new();
    private readonly Thread[] _threads;
    private int _idle;
    private static long s_nextObject = 1 << 20;

    internal Server(IpcSpace space)
    {
        _space = space;
        _epfd = Libc.epoll_create1(Libc.EPOLL_CLOEXEC);
        _kick = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        if (_epfd < 0 || _kick < 0) throw new InvalidOperationException($"epoll/eventfd failed: errno {Libc.Errno}");
        var ev = new Libc.epoll_event { events = Libc.EPOLLIN | Libc.EPOLLET, data = 3 };
        Libc.epoll_ctl(_epfd, Libc.EPOLL_CTL_ADD, _kick, &ev);
        int n = DefaultWorkers();
        Workers = n;
        MaxInFlightPerConnection = Math.Max(1, n / 2);
        _threads = new Thread[n];
        for (int i = 0; i < n; i++)
        {
            var w = new Worker(this, i);
            _threads[i] = new Thread(w.Run) { IsBackground = true, Name = $"ipc-worker-{i}" };
            _threads[i].Start();
        }
    }

    private static int DefaultWorkers()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("HURD_IPC_WORKERS"), out int n) && n > 0) return Math.Min(n, 256);
        return Math.Clamp(Environment.ProcessorCount * 2, 4, 16);
    }

    /// <summary>The number of worker threads (environment variable HURD_IPC_WORKERS, default 2 per CPU, 4 to 16).</summary>
    public int Workers { get; }

    /// <summary>At most this many calls of one connection are served at the same time (default Workers/2).</summary>
    public int MaxInFlightPerConnection { get; set; }

    /// <summary>Connections currently open (diagnostics).</summary>
    public int ConnectionCount { get { int n = 0; foreach (var o in _objects.Values) if (o is Connection) n++; return n; } }

    internal void Register(Connection c)
    {
        _objects[c.Id] = c;
        var ev = new Libc.epoll_event { events = Libc.EPOLLIN | Libc.EPOLLET, data = (ulong)c.Id << 2 };
        Libc.epoll_ctl(_epfd, Libc.EPOLL_CTL_ADD, c.Doorbell, &ev);
        ev = new Libc.epoll_event { events = Libc.EPOLLIN | Libc.EPOLLRDHUP | Libc.EPOLLET, data = ((ulong)c.Id << 2) | 1 };
        Libc.epoll_ctl(_epfd, Libc.EPOLL_CTL_ADD, c.Socket, &ev);
        // Anything that arrived before registration is found by the first serve.
        Enqueue(c);
    }

    internal void Unregister(Connection c)
    {
        _objects.TryRemove(c.Id, out _);
        Libc.epoll_ctl(_epfd, Libc.EPOLL_CTL_DEL, c.Doorbell, null);
        Libc.epoll_ctl(_epfd, Libc.EPOLL_CTL_DEL, c.Socket, null);
    }

    /// <summary>Adds a listening socket or a ticket to the epoll set; returns its id.</summary>
    internal long AddSource(IEpollSource src)
    {
        long id = Interlocked.Increment(ref s_nextObject);
        src.Id = id;
        _objects[id] = src;
        var ev = new Libc.epoll_event { events = Libc.EPOLLIN | Libc.EPOLLRDHUP, data = ((ulong)id << 2) | 2 };
        Libc.epoll_ctl(_epfd, Libc.EPOLL_CTL_ADD, src.Fd, &ev);
        return id;
    }

    internal void RemoveSource(IEpollSource src)
    {
        _objects.TryRemove(src.Id, out _);
        Libc.epoll_ctl(_epfd, Libc.EPOLL_CTL_DEL, src.Fd, null);
    }

    /// <summary>An open connection whose peer is process <paramref name="pid"/>, if any.</summary>
    internal Connection? FindConnectionTo(int pid)
    {
        foreach (var o in _objects.Values)
            if (o is Connection c && !c.IsClosed && c.Peer.Pid == pid) return c;
        return null;
    }

    /// <summary>The open connection whose peer is <paramref name="pid"/> and wrote <paramref name="nonce"/> in its merge word.</summary>
    internal Connection? FindConnectionByNonce(int pid, ulong nonce)
    {
        foreach (var o in _objects.Values)
            if (o is Connection c && !c.IsClosed && c.Peer.Pid == pid && c.PeerMergeNonceIs(nonce)) return c;
        return null;
    }

    internal void Enqueue(Connection c)
    {
        if (Interlocked.CompareExchange(ref c.Queued, 1, 0) != 0) return;
        _ready.Enqueue(c);
        if (Volatile.Read(ref _idle) > 0) { long one = 1; Libc.write(_kick, &one, 8); }
    }

    internal void WorkerLoop(Worker w)
    {
        Libc.epoll_event ev;
        while (true)
        {
            if (_ready.TryDequeue(out var rc)) { Volatile.Write(ref rc.Queued, 0); Serve(w, rc); continue; }
            Interlocked.Increment(ref _idle);
            if (!_ready.IsEmpty) { Interlocked.Decrement(ref _idle); continue; }
            int n = Libc.epoll_wait(_epfd, &ev, 1, 1000);
            Interlocked.Decrement(ref _idle);
            if (n <= 0) continue;
            ulong kind = ev.data & 3;
            long id = (long)(ev.data >> 2);
            if (kind == 3) continue;
            if (!_objects.TryGetValue(id, out var o)) continue;
            try
            {
                if (kind == 0) Serve(w, (Connection)o);
                else if (kind == 1) ((Connection)o).OnSocketEvent(ev.events);
                else if (kind == 2) ((IEpollSource)o).OnEvent(ev.events);
            }
            catch (Exception e) { Trace.WriteLine($"ipc worker: {e}"); }
        }
    }

    private void Serve(Worker w, Connection c)
    {
        if (!c.TryAddRef()) return;
        try
        {
            while (Interlocked.CompareExchange(ref c.Owned, 1, 0) == 0)
            {
                int r;
                do r = ServeOwned(w, c); while (r == StillOwned);
                if (r == Done) return;
            }
        }
        finally { c.Release(); }
    }

    private const int Done = 0, TryAgain = 1, StillOwned = 2;

    /// <summary>Serves <paramref name="c"/>, which this worker owns. Returns <see cref="StillOwned"/> when it served a
    /// call and took the ring back before replying (serve on); otherwise it gave up ownership, and returns
    /// <see cref="TryAgain"/> when the caller should try to own it again, <see cref="Done"/> when not.</summary>
    private int ServeOwned(Worker w, Connection c)
    {
        c.SetRunning(true);
        c.Disarm();
        c.LearnGap();
        while (true)
        {
            if (c.IsClosed) { Volatile.Write(ref c.Owned, 0); return Done; }
            int max = MaxInFlightPerConnection;
            if (Volatile.Read(ref c.InFlight) >= max)
            {
                // Throttled: the worker that finishes one of this connection's calls picks it up again.
                Volatile.Write(ref c.Owned, 0);
                return Volatile.Read(ref c.InFlight) < max && c.HasRecords ? TryAgain : Done;
            }
            int k = c.TakeNext(w, out int slot, out ulong seq);
            if (k < 0) { Volatile.Write(ref c.Owned, 0); c.Close(); return Done; }
            if (k == 0)
            {
                if (SpinForWork(c)) continue;
                c.SetRunning(false);
                if (!c.ArmDoorbell()) { c.SetRunning(true); continue; }
                c.NoteIdle(c.LastSpinStart);
                Volatile.Write(ref c.Owned, 0);
                return c.HasRecords ? TryAgain : Done;
            }
            if (k == 1) continue;
            Interlocked.Increment(ref c.InFlight);
            // Let go of the ring while the call runs, so that its interrupt and other calls are seen:
            // hand it to another worker if records wait, else arm the doorbell.
            bool more = c.HasRecords || !c.ArmDoorbell();
            Volatile.Write(ref c.Owned, 0);
            if (more) Enqueue(c);
            bool owned = c.ServeCall(w, slot, seq);
            Interlocked.Decrement(ref c.InFlight);
            return owned ? StillOwned : TryAgain;
        }
    }

    /// <summary>Grace period after a reply during which the worker waits for the peer (woken on another CPU) to come back.</summary>
    private static readonly long GraceTicks = Stopwatch.Frequency * 30 / 1_000_000;

    /// <summary>Spins for the next record while the peer runs on another CPU, up to the connection's adaptive
    /// budget (<see cref="Connection.SpinBudget"/>). If the peer is asleep but last ran on another CPU, waits a
    /// short grace period for it to wake and call again (adaptive: after repeated misses, only every 64th time).</summary>
    private static bool SpinForWork(Connection c)
    {
        long start = Stopwatch.GetTimestamp();
        c.LastSpinStart = start;
        bool running = c.PeerRunsElsewhere();
        if (!running)
        {
            if (!c.PeerLastRanElsewhere()) return false;
            int misses = c.GraceMisses;
            if (misses > 8 && (misses & 63) != 0) { c.GraceMisses = misses + 1; return false; }
        }
        long graceEnd = start + GraceTicks, until = start + c.SpinBudget;
        while (true)
        {
            for (int i = 0; i < 32; i++)
            {
                if (c.HasRecords) { c.GraceMisses = 0; return true; }
                Thread.SpinWait(1);
            }
            long now = Stopwatch.GetTimestamp();
            if (now > until) break;
            if (!c.PeerRunsElsewhere() && now > graceEnd) break;
        }
        if (c.HasRecords) { c.GraceMisses = 0; return true; }
        c.GraceMisses++;
        c.SpinMissed();
        return false;
    }
}

/// <summary>Something besides a connection in the worker pool's epoll set (a listening socket, a ticket).</summary>
internal interface IEpollSource
{
    long Id { get; set; }
    int Fd { get; }
    void OnEvent(uint events);
}

/// <summary>
/// A ticket: a socket that stands for one send right to <see cref="Port"/>. Two kinds: a socket accepted on a
/// published endpoint (bootstrap), or our end of a socket pair minted for a third-party transfer (then it counts
/// as a sender while it exists: its other end was handed to a client, which passes it on). The process on the
/// other end redeems it by sending Attach: "new" (set up a connection on this very socket, granting the port), or
/// "merge" with a nonce it wrote into an existing connection's shared page (we grant the port on that
/// connection, after checking that its peer is the process on the other end of the ticket; if there is none,
/// we say so and accept one more Attach "new"). A ticket is used once; if its other end is closed unused, the
/// send right it stood for is dropped.
/// </summary>
internal sealed unsafe class Ticket(IpcSpace space, int fd, ReceivePort port, bool holdsSend) : IEpollSource
{
    private const uint OpAttach = 4, OpGranted = 5;
    private int _done;
    public long Id { get; set; }
    public int Fd { get; } = fd;
    public ReceivePort Port { get; } = port;

    public void OnEvent(uint events)
    {
        if (Interlocked.Exchange(ref _done, 1) != 0) return;
        space.Server.RemoveSource(this);
        try
        {
            // Who redeems: for a bootstrap socket, who connected (SO_PEERCRED); for a minted socket pair, the sender
            // of this datagram (SCM_CREDENTIALS), since the pair's SO_PEERCRED names this very process.
            Connection.Control c;
            Libc.ucred cred = default;
            bool ok = holdsSend ? Connection.RecvControlWithCred(Fd, 0, out c, out cred)
                                : Connection.RecvControl(Fd, 0, out c) && Libc.PeerCred(Fd, out cred);
            if (!ok || c.Op != OpAttach || Port.IsDestroyed)
            {
                Connection.SendControl(Fd, OpGranted, 0, Connection.GrantDead);
                Libc.close(Fd);
                return;
            }
            if (c.A == 1)
            {
                var conn = space.Server.FindConnectionByNonce(cred.pid, c.B);
                // The redeemer's connection may have finished its handshake on the redeemer's side before this side
                // registered it (the second of two quick lookups): give registration a moment before answering that
                // there is no such connection, so the lookup merges instead of opening a second connection.
                for (int i = 0; conn is null && i < 40; i++)
                {
                    Thread.Sleep(5);
                    conn = space.Server.FindConnectionByNonce(cred.pid, c.B);
                }
                uint handle = 0;
                if (conn is not null)
                    lock (space.Lock) { if (!conn.IsClosed && !Port.IsDestroyed) handle = conn.GrantUnlocked(Port).Handle; }
                if (handle != 0 || conn is not null)
                {
                    Connection.SendControl(Fd, OpGranted, handle, handle != 0 ? 0 : Connection.GrantDead);
                    Libc.close(Fd);
                    return;
                }
                // No connection carries that nonce: let the redeemer ask for a new one instead.
                bool again = Connection.SendControl(Fd, OpGranted, 0, Connection.GrantNoConnection)
                    && (holdsSend ? Connection.RecvControlWithCred(Fd, 2000, out c, out cred)
                                  : Connection.RecvControl(Fd, 2000, out c));
                if (!again || c.Op != OpAttach || c.A != 0)
                {
                    Libc.close(Fd);
                    return;
                }
            }
            Connection.Accept(space, Fd, Port, new PeerCredentials(cred.pid, cred.uid, cred.gid));
        }
        finally { if (holdsSend) Port.DropSend(1); }
    }
}

/// <summary>Per-worker-thread state: buffers for inline messages and the context of one-way messages.</summary>
internal sealed class Worker(Server server, int index)
{
    public readonly int Index = index;
    public readonly byte[] Buffer = new byte[Layout.InlineMax + 64];
    public readonly RightDescriptor[] Rights = new RightDescriptor[Layout.MaxRights];
    public readonly MessageContext Context = new();

    public void Run() => server.WorkerLoop(this);
}

/// <summary>The context of a one-way message (no reply to defer, no interruption).</summary>
internal sealed class MessageContext : CallContext
{
    private Connection? _conn;
    private ReceivePort? _port;
    public void Set(Connection? c, ReceivePort? p) { _conn = c; _port = p; }
    public override PeerCredentials Sender => _conn?.Peer ?? PeerCredentials.Self;
    public override PortName Port => _port?.Name ?? default;
    public override object? Target => _port?.Dispatcher is not null ? _port.HandlerTarget : _port?.Set?.HandlerTarget;
    public override CancellationToken Cancellation => CancellationToken.None;
    public override DeferredReply? DeferReply() => null;
}

/// <summary>An engine for calls that cannot start (dead port, no slot): Invoke and Send return the error.</summary>
internal sealed class FailedEngine : ICallEngine
{
    private static readonly FailedEngine s_instance = new();

    public static RpcCall Make(uint id, Abi.Errno e) => new()
    {
        Id = id,
        // Arguments are accepted and dropped, so a stub reaches Invoke/Send and returns e (not EMSGSIZE).
        Request = MessageWriter.Discarding(),
        DeadlineMs = long.MaxValue,
        Engine = s_instance,
        StateId = (long)e,
    };

    public Abi.Errno Invoke(ref RpcCall call) => (Abi.Errno)call.StateId;
    public Abi.Errno Send(ref RpcCall call) => (Abi.Errno)call.StateId;
    public void Release(ref RpcCall call) { }
}
