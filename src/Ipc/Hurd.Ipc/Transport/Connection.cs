using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Interop;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Ipc.Transport;

/// <summary>
/// A connection between this process and one peer process: a SOCK_SEQPACKET socket (set-up,
/// death detection) and one shared memfd holding a ring per direction and the call slots (see
/// <see cref="Layout"/>). Rights the peer may use are the handles in <see cref="Grants"/>: every
/// incoming destination and every incoming right naming one of our ports is checked against that
/// table, so a peer reaches only what it was given, and bytes replayed on another connection mean
/// nothing there. Symmetric: each side can call ports of the other.
/// </summary>
internal sealed unsafe class Connection : ICallEngine
{
    private static long s_nextId;

    public readonly long Id = Interlocked.Increment(ref s_nextId);
    private readonly IpcSpace _space;
    private readonly byte* _base;
    private readonly int _side, _peer;
    private readonly int _sock, _doorbellMine, _doorbellPeer;
    public readonly PeerCredentials Peer;
    private volatile bool _closed;
    private int _closing;
    private int _refs = 1;

    /// <summary>Rights this process granted to the peer: handle to grant. Read lock-free, written under IpcSpace.Lock.</summary>
    public readonly ConcurrentDictionary<uint, Grant> Grants = new();
    /// <summary>Handles of our ports destroyed while granted (calls to them answer EDIED).</summary>
    public readonly ConcurrentDictionary<uint, byte> DeadHandles = new();
    /// <summary>Send rights the peer granted to us, by the peer's handle (guarded by IpcSpace.Lock).</summary>
    public readonly Dictionary<uint, SendEntry> Remote = new();
    /// <summary>Send-once rights the peer granted to us (never merged into <see cref="Remote"/>; guarded by IpcSpace.Lock).</summary>
    public readonly HashSet<SendEntry> RemoteOnce = new();

    // Outgoing ring (we produce).
    /// <summary>Producers of this process serialise on this word (0 free, 1 held): one CAS to take, a plain store to
    /// give back (a Monitor cost ~45 ns per message more). Held only to reserve and publish a record, or while
    /// waiting for room in a full ring; a contender spins, then yields and sleeps (SpinWait).</summary>
    private int _prodLock;
    private uint _head, _cachedTail;
    private int _pendingLen;
    private int _rewindCheck = Layout.RewindStep;
    private readonly int* _outHead, _outTail;
    private readonly byte* _outRing;
    // Incoming ring (the owning worker consumes).
    private uint _tail;
    private uint _curLen;
    private readonly int* _inHead, _inTail;
    private readonly byte* _inRing;
    /// <summary>1 while a worker owns consumption of the incoming ring.</summary>
    public int Owned;
    /// <summary>Calls of the peer being served (dispatched and not yet returned).</summary>
    public int InFlight;
    /// <summary>1 while queued in the server's ready queue.</summary>
    public int Queued;

    private readonly ClientSlot[] _slots = new ClientSlot[Layout.SlotCount];
    private ulong _freeSlots = ulong.MaxValue;
    private ulong _quarantine;
    private readonly object _slotLock = new();
    private readonly ServerSlot[] _served = new ServerSlot[Layout.SlotCount];

    private readonly int* _myRunning, _peerRunning, _peerAlive, _myAlive;

    /// <summary>How long a worker spins for the next request while the peer runs on another CPU.</summary>
    internal static readonly long SpinTicks = Stopwatch.Frequency * 50 / 1_000_000;
    /// <summary>How long a caller spins for its reply while the server runs on another CPU: longer than the
    /// worker's, because blocking across CPUs costs 13-22 us (reference/ipc.md) and a call being served is likely to end soon.</summary>
    internal static readonly long ReplySpinTicks = Stopwatch.Frequency * 200 / 1_000_000;

    private Connection(IpcSpace space, int sock, byte* mem, int side, int doorbellMine, int doorbellPeer, PeerCredentials peer)
    {
        _space = space; _sock = sock; _base = mem; _side = side; _peer = 1 - side;
        _doorbellMine = doorbellMine; _doorbellPeer = doorbellPeer; Peer = peer;
        _outHead = (int*)(mem + Layout.RingHeader(side)); _outTail = (int*)(mem + Layout.RingHeader(side) + 64);
        _inHead = (int*)(mem + Layout.RingHeader(_peer)); _inTail = (int*)(mem + Layout.RingHeader(_peer) + 64);
        _outRing = mem + Layout.RingData(side); _inRing = mem + Layout.RingData(_peer);
        _head = (uint)(*_outHead & Layout.PosMask); _cachedTail = _head;
        _tail = (uint)(*_inHead & Layout.PosMask);
        _knownHead = _publishedTail = _tail;
        _myRunning = (int*)(mem + Layout.SideInfoOffset(side) + 8);
        _peerRunning = (int*)(mem + Layout.SideInfoOffset(_peer) + 8);
        _myAlive = (int*)(mem + Layout.SideInfoOffset(side) + 4);
        _peerAlive = (int*)(mem + Layout.SideInfoOffset(_peer) + 4);
        _myMergeNonce = (long*)(mem + Layout.SideInfoOffset(side) + 16);
        _peerMergeNonce = (long*)(mem + Layout.SideInfoOffset(_peer) + 16);
        *(int*)(mem + Layout.SideInfoOffset(side)) = Environment.ProcessId;
        Volatile.Write(ref *_myAlive, 1);
        for (int i = 0; i < Layout.SlotCount; i++)
        {
            _slots[i] = new ClientSlot(i, mem + Layout.RequestArea(side, i), mem + Layout.ReplyArea(side, i),
                (int*)(mem + Layout.SlotControl(side) + i * 64));
            _served[i] = new ServerSlot(this, i, mem + Layout.RequestArea(_peer, i), mem + Layout.ReplyArea(_peer, i),
                (int*)(mem + Layout.SlotControl(_peer) + i * 64));
        }
    }

    public bool IsClosed => _closed;
    public int Side => _side;
    /// <summary>Test hooks (the hostile peer writes garbage through them).</summary>
    internal byte* DebugBase => _base;
    internal int DebugPeerDoorbell => _doorbellPeer;

    // ------------------------------------------------------------------ set-up

    /// <summary>Accepting side: creates the shared memory, grants <paramref name="port"/>, sends the hello.</summary>
    public static Connection? Accept(IpcSpace space, int sock, ReceivePort port, PeerCredentials? attested = null)
    {
        Libc.ucred cred;
        if (attested is { } a) cred = new Libc.ucred { pid = a.Pid, uid = a.Uid, gid = a.Gid };
        else if (!Libc.PeerCred(sock, out cred)) { Libc.close(sock); return null; }
        int memfd = Libc.memfd_create("hurd-ipc", Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING);
        if (memfd < 0) { Libc.close(sock); return null; }
        int db0 = -1, db1 = -1;
        try
        {
            if (Libc.ftruncate(memfd, Layout.TotalBytes) != 0) { Libc.close(sock); return null; }
            Libc.fcntl(memfd, Libc.F_ADD_SEALS, Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW | Libc.F_SEAL_SEAL);
            void* mem = Libc.mmap(null, (nuint)Layout.TotalBytes, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, memfd, 0);
            if (mem == (void*)-1) { Libc.close(sock); return null; }
            *(ulong*)mem = Layout.Magic;
            *(int*)((byte*)mem + 8) = Layout.Version;
            db0 = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
            db1 = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
            var conn = new Connection(space, sock, (byte*)mem, 0, db0, db1, new PeerCredentials(cred.pid, cred.uid, cred.gid));
            uint handle;
            lock (space.Lock) handle = conn.GrantUnlocked(port).Handle;
            Span<byte> hello = stackalloc byte[16];
            MemoryMarshal.Write(hello, (uint)0x48555244);
            MemoryMarshal.Write(hello[4..], (uint)Layout.Version);
            MemoryMarshal.Write(hello[8..], handle);
            MemoryMarshal.Write(hello[12..], 0u);
            ReadOnlySpan<int> fds = [memfd, db0, db1];
            if (Libc.SendWithFds(sock, hello, fds) != 16) { conn.Close(); return null; }
            space.Server.Register(conn);
            return conn;
        }
        finally { Libc.close(memfd); }
    }

    /// <summary>Connecting side: connects to <paramref name="path"/>, maps the server's memory, returns the
    /// connection and the handle of the published port.</summary>
    public static Errno Connect(IpcSpace space, string path, int timeoutMs, out Connection? conn, out uint handle)
    {
        conn = null; handle = 0;
        if (Libc.MakeAddress(path, out var addr) == uint.MaxValue) return Errno.ENAMETOOLONG;
        int sock = Libc.socket(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC, 0);
        if (sock < 0) return (Errno)Libc.Errno;
        uint alen = Libc.MakeAddress(path, out addr);
        if (Libc.connect(sock, &addr, alen) != 0)
        {
            int e = Libc.Errno; Libc.close(sock);
            return e == Libc.ECONNREFUSED || e == Libc.ENOENT ? Errno.ENOENT : (Errno)e;
        }
        conn = Redeem(space, sock, timeoutMs, out handle);
        return conn is null ? Errno.ECONNREFUSED : Errno.OK;
    }

    /// <summary>The connecting side's half of the set-up on a connected socket (takes ownership of it):
    /// receives the memfd, the doorbells and the handle of the granted port.</summary>
    public static Errno Handshake(IpcSpace space, int sock, int timeoutMs, out Connection? conn, out uint handle)
    {
        conn = null; handle = 0;
        Libc.pollfd pfd = new() { fd = sock, events = Libc.POLLIN };
        int pr;
        do pr = Libc.poll(&pfd, 1, timeoutMs); while (pr < 0 && Libc.Errno == Libc.EINTR);
        if (pr <= 0) { Libc.close(sock); return Errno.ETIMEDOUT; }
        Span<byte> hello = stackalloc byte[64];
        Span<int> fds = stackalloc int[4];
        int n = Libc.RecvWithFds(sock, hello, fds, out int nfds);
        bool ok = n == 16 && nfds == 3 && MemoryMarshal.Read<uint>(hello) == 0x48555244 && MemoryMarshal.Read<uint>(hello[4..]) == Layout.Version;
        if (ok) ok = (Libc.fcntl(fds[0], Libc.F_GET_SEALS, 0) & (Libc.F_SEAL_SHRINK | Libc.F_SEAL_SEAL)) == (Libc.F_SEAL_SHRINK | Libc.F_SEAL_SEAL);
        void* mem = (void*)-1;
        if (ok) mem = Libc.mmap(null, (nuint)Layout.TotalBytes, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fds[0], 0);
        if (nfds > 0) Libc.close(fds[0]);
        if (!ok || mem == (void*)-1 || *(ulong*)mem != Layout.Magic || !Libc.PeerCred(sock, out var cred))
        {
            if (mem != (void*)-1) Libc.munmap(mem, (nuint)Layout.TotalBytes);
            for (int i = 1; i < nfds; i++) Libc.close(fds[i]);
            Libc.close(sock);
            return Errno.EPROTO;
        }
        handle = MemoryMarshal.Read<uint>(hello[8..]);
        conn = new Connection(space, sock, (byte*)mem, 1, fds[2], fds[1], new PeerCredentials(cred.pid, cred.uid, cred.gid));
        space.Server.Register(conn);
        return Errno.OK;
    }

    public int Socket => _sock;
    public int Doorbell => _doorbellMine;

    // ------------------------------------------------------------------ lifetime

    public bool TryAddRef()
    {
        int r = Volatile.Read(ref _refs);
        while (r > 0)
        {
            int seen = Interlocked.CompareExchange(ref _refs, r + 1, r);
            if (seen == r) return true;
            r = seen;
        }
        return false;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) != 0) return;
        Libc.munmap(_base, (nuint)Layout.TotalBytes);
        Libc.close(_sock); Libc.close(_doorbellMine); Libc.close(_doorbellPeer);
    }

    /// <summary>Tears the connection down (peer died, hung up, or sent garbage): drops every grant the peer
    /// held (no-senders), turns every right we got from it into a dead name, wakes and fails waiting
    /// calls, cancels calls being served for it.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0) return;
        _closed = true;
        Volatile.Write(ref *_myAlive, 0);
        var drops = new List<(ReceivePort, int)>();
        List<SendEntry> kill;
        lock (_space.Lock)
        {
            foreach (var g in Grants.Values)
            {
                g.Port.Grants.Remove(this);
                drops.Add((g.Port, g.Count));
            }
            Grants.Clear();
            kill = new List<SendEntry>(Remote.Values);
            kill.AddRange(RemoteOnce);
            Remote.Clear();
            RemoteOnce.Clear();
        }
        foreach (var (p, n) in drops) p.DropSend(n);
        _space.KillEntries(kill);
        foreach (var s in _slots) Libc.FutexWake(s.Word, int.MaxValue);
        Libc.FutexWake(_outTail, int.MaxValue);
        foreach (var s in _served) s.Interrupt(s.Seq, force: true);
        lock (_sockLock)
        {
            foreach (var fd in _tickets.Values) Libc.close(fd);
            _tickets.Clear();
            foreach (var (_, fd) in _mintReplies.Values) if (fd >= 0) Libc.close(fd);
            _mintReplies.Clear();
            Monitor.PulseAll(_sockLock);
        }
        if (_space.HasServer) _space.Server.Unregister(this);
        Release();
    }

    /// <summary>Backstop for a peer that died without us seeing the hang-up yet: the socket and the liveness word.</summary>
    public bool CheckAlive()
    {
        if (_closed) return false;
        if (Volatile.Read(ref *_peerAlive) == 0) return false;
        Libc.pollfd p = new() { fd = _sock, events = Libc.POLLIN | Libc.POLLRDHUP };
        if (Libc.poll(&p, 1, 0) > 0 && (p.revents & (Libc.POLLHUP | Libc.POLLRDHUP | Libc.POLLERR | Libc.POLLNVAL)) != 0) return false;
        return true;
    }

    // ------------------------------------------------------------------ control datagrams on the socket

    private const uint OpMintRequest = 1, OpMintReply = 2, OpTicket = 3, OpAttach = 4, OpGranted = 5;
    private static long s_nonce;
    private uint _nextTag;
    private readonly object _sockLock = new();
    private readonly Dictionary<ulong, (int err, int fd)> _mintReplies = new();
    private readonly Dictionary<uint, int> _tickets = new();
    /// <summary>Serialises merges of third-party rights into this connection (they use the merge nonce word).</summary>
    public readonly object MergeLock = new();

    [StructLayout(LayoutKind.Sequential)]
    internal struct Control { public uint Op; public uint A; public ulong B; }

    internal static bool SendControl(int sock, uint op, uint a, ulong b, int fd = -1)
    {
        var c = new Control { Op = op, A = a, B = b };
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<Control>(ref c));
        return fd >= 0 ? Libc.SendWithFds(sock, bytes, [fd]) == 16 : Libc.SendWithFds(sock, bytes, default) == 16;
    }

    /// <summary>Reads every queued control datagram (caller holds _sockLock). False on hang-up.</summary>
    private bool PumpSocket()
    {
        Span<byte> buf = stackalloc byte[64];
        Span<int> fds = stackalloc int[4];
        while (true)
        {
            int n = Libc.RecvWithFds(_sock, buf, fds, out int nfds, Libc.MSG_DONTWAIT);
            if (n == 0) { for (int i = 0; i < nfds; i++) Libc.close(fds[i]); return false; }
            if (n < 0) { for (int i = 0; i < nfds; i++) Libc.close(fds[i]); return Libc.Errno == Libc.EAGAIN; }
            int fd = nfds > 0 ? fds[0] : -1;
            for (int i = 1; i < nfds; i++) Libc.close(fds[i]);
            if (n != 16) { if (fd >= 0) Libc.close(fd); continue; }
            var c = MemoryMarshal.Read<Control>(buf);
            switch (c.Op)
            {
                case OpMintRequest:
                    if (fd >= 0) Libc.close(fd);
                    ServeMint(c.A, c.B);
                    break;
                case OpMintReply:
                    if (_mintReplies.Remove(c.B, out var old) && old.fd >= 0) Libc.close(old.fd);
                    _mintReplies[c.B] = ((int)c.A, fd);
                    Monitor.PulseAll(_sockLock);
                    break;
                case OpTicket:
                    if (fd < 0) break;
                    if (_tickets.Remove(c.A, out int oldFd)) Libc.close(oldFd);
                    if (_tickets.Count >= 1024) { Libc.close(fd); break; }
                    _tickets[c.A] = fd;
                    Monitor.PulseAll(_sockLock);
                    break;
                default:
                    if (fd >= 0) Libc.close(fd);
                    break;
            }
        }
    }

    /// <summary>A socket event from the worker pool's epoll: control datagrams, or hang-up (closes the connection).</summary>
    public void OnSocketEvent(uint events)
    {
        bool alive;
        lock (_sockLock) alive = PumpSocket();
        if (!alive || (events & (Libc.EPOLLHUP | Libc.EPOLLRDHUP | Libc.EPOLLERR)) != 0) Close();
    }

    /// <summary>Waits (holding _sockLock) until <paramref name="take"/> succeeds, pumping the socket.</summary>
    private bool WaitControl(Func<bool> take, long deadlineMs)
    {
        lock (_sockLock)
        {
            while (true)
            {
                if (take()) return true;
                if (!PumpSocket()) return false;
                if (take()) return true;
                if (_closed || Environment.TickCount64 >= deadlineMs) return false;
                Monitor.Wait(_sockLock, 2);
            }
        }
    }

    /// <summary>Asks the peer (which owns the port we know as <paramref name="handle"/>) for a ticket: one end of a
    /// fresh socket pair that stands for one send right to that port, which any process may redeem with the peer.
    /// Returns the fd, or a negative Errno.</summary>
    public Errno MintTicket(uint handle, long deadlineMs, out int fd)
    {
        fd = -1;
        ulong nonce = (ulong)Interlocked.Increment(ref s_nonce);
        if (_closed || !SendControl(_sock, OpMintRequest, handle, nonce)) return Errno.EDIED;
        (int err, int fd) r = default;
        if (!WaitControl(() => _mintReplies.Remove(nonce, out r), deadlineMs)) return _closed ? Errno.EDIED : Errno.ETIMEDOUT;
        if (r.err != 0 || r.fd < 0)
        {
            if (r.fd >= 0) Libc.close(r.fd);
            return (uint)r.err == MintDead ? Errno.EDIED : (uint)r.err == MintBadHandle ? Errno.EBADF : Errno.EMFILE;
        }
        fd = r.fd;
        return Errno.OK;
    }

    private const uint MintDead = 1, MintBadHandle = 2, MintNoResources = 3;

    private void ServeMint(uint handle, ulong nonce)
    {
        ReceivePort? port = null;
        lock (_space.Lock)
        {
            if (Grants.TryGetValue(handle, out var g) && !g.Port.IsDestroyed) { port = g.Port; port.AddSend(1); }
        }
        if (port is null) { SendControl(_sock, OpMintReply, DeadHandles.ContainsKey(handle) ? MintDead : MintBadHandle, nonce); return; }
        int* sv = stackalloc int[2];
        if (Libc.socketpair(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC, 0, sv) != 0)
        {
            port.DropSend(1);
            SendControl(_sock, OpMintReply, MintNoResources, nonce);
            return;
        }
        // A socket pair's SO_PEERCRED names us (its creator): whoever redeems the ticket is identified by the
        // credentials the kernel attaches to each datagram it sends (SO_PASSCRED, set before anyone holds the other end).
        int one = 1;
        Libc.setsockopt(sv[0], Libc.SOL_SOCKET, Libc.SO_PASSCRED, &one, 4);
        _space.Server.AddSource(new Ticket(_space, sv[0], port, holdsSend: true));
        SendControl(_sock, OpMintReply, 0, nonce, sv[1]);
        Libc.close(sv[1]);
    }

    /// <summary>Passes a ticket fd to the peer under a fresh tag (before the message naming the tag is published).</summary>
    public uint SendTicket(int fd)
    {
        uint tag = Interlocked.Increment(ref _nextTag);
        if (tag == 0) tag = Interlocked.Increment(ref _nextTag);
        return SendControl(_sock, OpTicket, tag, 0, fd) ? tag : 0;
    }

    private int TakeTicket(uint tag, long deadlineMs)
    {
        int fd = -1;
        return WaitControl(() => _tickets.Remove(tag, out fd), deadlineMs) ? fd : -1;
    }

    /// <summary>Redeems a ticket or a freshly accepted bootstrap socket (takes ownership of <paramref name="fd"/>):
    /// merges the right into an open connection to the port's process if there is one (proved to the owner by a
    /// nonce written into that connection's shared page), else sets up a new connection on this socket. If the
    /// owner finds no such connection (it died and its pid was reused, say), falls back to a new connection.
    /// Returns the connection and the granted handle; null means the port is gone (a dead name) or the owner
    /// did not answer within <paramref name="timeoutMs"/>.</summary>
    internal static Connection? Redeem(IpcSpace space, int fd, int timeoutMs, out uint handle)
    {
        handle = 0;
        if (!Libc.PeerCred(fd, out var cred)) { Libc.close(fd); return null; }
        var existing = space.Server.FindConnectionTo(cred.pid);
        if (existing is not null && existing.TryAddRef())
        {
            try
            {
                lock (existing.MergeLock)
                {
                    ulong nonce = (ulong)RandomNumberGenerator.GetInt32(1, int.MaxValue) << 32 | (uint)RandomNumberGenerator.GetInt32(1, int.MaxValue);
                    Volatile.Write(ref *existing._myMergeNonce, (long)nonce);
                    if (!SendControl(fd, OpAttach, 1, nonce) || !RecvControl(fd, timeoutMs, out var c) || c.Op != OpGranted)
                    {
                        Libc.close(fd);
                        return null;
                    }
                    if (c.B == 0) { handle = c.A; Libc.close(fd); return existing; }
                    if (c.B != GrantNoConnection) { Libc.close(fd); return null; }
                }
            }
            finally { existing.Release(); }
        }
        if (!SendControl(fd, OpAttach, 0, 0)) { Libc.close(fd); return null; }
        return Handshake(space, fd, timeoutMs, out var conn, out handle) == Errno.OK ? conn : null;
    }

    /// <summary>Answer to a merge: no connection with that nonce; the redeemer may still ask for a new one.</summary>
    internal const ulong GrantDead = 1, GrantNoConnection = 2;

    /// <summary>Like <see cref="RecvControl"/>, with the sender's kernel-attested credentials (SO_PASSCRED sockets).</summary>
    internal static bool RecvControlWithCred(int fd, int timeoutMs, out Control c, out Libc.ucred cred)
    {
        c = default; cred = default;
        Libc.pollfd p = new() { fd = fd, events = Libc.POLLIN };
        int r;
        do r = Libc.poll(&p, 1, timeoutMs); while (r < 0 && Libc.Errno == Libc.EINTR);
        if (r <= 0) return false;
        Span<byte> buf = stackalloc byte[64];
        int n = Libc.RecvWithCred(fd, buf, out cred, out bool has);
        if (n != 16 || !has) return false;
        c = MemoryMarshal.Read<Control>(buf);
        return true;
    }

    internal static bool RecvControl(int fd, int timeoutMs, out Control c)
    {
        c = default;
        Libc.pollfd p = new() { fd = fd, events = Libc.POLLIN };
        int r;
        do r = Libc.poll(&p, 1, timeoutMs); while (r < 0 && Libc.Errno == Libc.EINTR);
        if (r <= 0) return false;
        Span<byte> buf = stackalloc byte[64];
        Span<int> fds = stackalloc int[4];
        int n = Libc.RecvWithFds(fd, buf, fds, out int nfds, Libc.MSG_DONTWAIT);
        for (int i = 0; i < nfds; i++) Libc.close(fds[i]);
        if (n != 16) return false;
        c = MemoryMarshal.Read<Control>(buf);
        return true;
    }

    /// <summary>True if the peer wrote <paramref name="nonce"/> into its merge word of this connection's shared page.</summary>
    public bool PeerMergeNonceIs(ulong nonce) => nonce != 0 && (ulong)Volatile.Read(ref *_peerMergeNonce) == nonce;

    private readonly long* _myMergeNonce, _peerMergeNonce;

    // ------------------------------------------------------------------ running flags

    /// <summary>Advertises in the shared page whether one of our threads runs on this connection now:
    /// cpu+1 while running, -(cpu+1) (the last CPU) once it goes to sleep.</summary>
    public void SetRunning(bool on)
    {
        int cpu = Libc.sched_getcpu() + 1;
        _lastCpu = cpu;
        int v = on ? cpu : -cpu;
        // Write only on change: the peer polls this line while it spins.
        if (Volatile.Read(ref *_myRunning) != v) Volatile.Write(ref *_myRunning, v);
    }

    private int _lastCpu;

    /// <summary>True when the peer last ran on another CPU than the one we last advertised (no system call): large
    /// bodies written for it then go to memory with non-temporal stores (<see cref="BulkCopy"/>).</summary>
    private bool PeerCpuDiffers
    {
        get { int p = Volatile.Read(ref *_peerRunning); return p != 0 && Math.Abs(p) != _lastCpu; }
    }

    /// <summary>True when the peer says one of its threads runs on another CPU than ours: spinning may pay.</summary>
    public bool PeerRunsElsewhere()
    {
        int p = Volatile.Read(ref *_peerRunning);
        return p > 0 && p != Libc.sched_getcpu() + 1;
    }

    /// <summary>True when the peer last ran on another CPU (it may be about to run again there).</summary>
    public bool PeerLastRanElsewhere()
    {
        int p = Volatile.Read(ref *_peerRunning);
        return p != 0 && Math.Abs(p) != Libc.sched_getcpu() + 1;
    }

    /// <summary>How often in a row the post-reply grace spin found nothing (adaptive: stop trying when it never pays).</summary>
    public int GraceMisses;

    /// <summary>How long (Stopwatch ticks) the owning worker spins for the next record while the peer runs on another
    /// CPU. Adaptive, like an adaptive mutex: a worker that slept and was woken by this peer after a gap the spin could
    /// have bridged (the peer was running elsewhere all along, e.g. writing a large request) raises the budget to
    /// cover that gap next time, up to <see cref="MaxSpinTicks"/>; a spin that finds nothing shrinks it again, down to
    /// <see cref="SpinTicks"/>. Only the owner touches it (a lost update between owners is harmless).</summary>
    public long SpinBudget = SpinTicks;
    private long _idleSince;

    /// <summary>Upper bound of <see cref="SpinBudget"/>: a wake-up across CPUs costs 15-40 us here, and a 1 MiB
    /// request takes 60-150 us to write; longer gaps are the peer's own work, not worth a CPU.</summary>
    internal static readonly long MaxSpinTicks = Stopwatch.Frequency * 300 / 1_000_000;

    /// <summary>The owner goes to sleep with the doorbell armed after a spin that began at <paramref name="spinStart"/>
    /// (Stopwatch ticks): if the peer was running elsewhere (a spin was allowed), remember when the connection went
    /// idle, to learn from the whole gap (the spin included).</summary>
    public void NoteIdle(long spinStart) => _idleSince = PeerRunsElsewhere() ? spinStart : 0;

    /// <summary>A worker takes the connection: if it slept since <see cref="NoteIdle"/>, and the whole idle gap was
    /// short enough to spin through, raise the spin budget to cover it (with a margin of a half).</summary>
    public void LearnGap()
    {
        long since = _idleSince;
        if (since == 0) return;
        _idleSince = 0;
        long gap = Stopwatch.GetTimestamp() - since;
        if (gap > MaxSpinTicks) return;
        long want = Math.Min(MaxSpinTicks, gap + gap / 2);
        if (want > SpinBudget) SpinBudget = want;
    }

    /// <summary>When the owner's last spin for work began (set by the worker pool; see <see cref="NoteIdle"/>).</summary>
    public long LastSpinStart;

    /// <summary>A spin found nothing: shrink the budget by a quarter (not below <see cref="SpinTicks"/>), so one slow
    /// request does not undo what was learnt, while a peer that stopped coming back soon costs less and less.</summary>
    public void SpinMissed() => SpinBudget = Math.Max(SpinTicks, SpinBudget - SpinBudget / 4);

    // ------------------------------------------------------------------ outgoing ring

    private byte* Reserve(int kind, int payloadLen, long deadlineMs, out Errno err)
    {
        int len = (8 + payloadLen + 7) & ~7;
        if (Interlocked.CompareExchange(ref _prodLock, 1, 0) != 0) EnterProducerSlow();
        if (_closed) { Volatile.Write(ref _prodLock, 0); err = Errno.EDIED; return null; }
        int idx = (int)(_head & Layout.RingMask);
        // Early rewind: each time the head crosses another RewindStep, look whether the consumer has caught up; if
        // so, pad to the end and start again at the ring's start. A connection that is never far behind (calls,
        // short bursts) keeps using the first RewindStep of its ring (hot in cache, few pages touched); only a
        // producer that runs ahead (streaming while the consumer is off its CPU) spreads over the whole ring.
        bool rewind = false;
        if (idx >= _rewindCheck)
        {
            _cachedTail = (uint)(Volatile.Read(ref *_outTail) & Layout.PosMask);
            // (Only when the pad and the record fit together: idx >= len, else need would exceed the ring.)
            if (_cachedTail == _head && idx >= len) rewind = true;
            else _rewindCheck = idx + Layout.RewindStep;
        }
        int toEnd = Layout.RingBytes - idx;
        int need = len <= toEnd && !rewind ? len : toEnd + len;
        err = WaitRoom(need, deadlineMs);
        if (err != Errno.OK) { Volatile.Write(ref _prodLock, 0); return null; }
        if (len > toEnd || rewind)
        {
            byte* pad = _outRing + idx;
            *(uint*)pad = (uint)toEnd; *(ushort*)(pad + 4) = Layout.RecPad; *(ushort*)(pad + 6) = 0;
            _head = (uint)((_head + toEnd) & Layout.PosMask);
            idx = 0;
            _rewindCheck = Layout.RewindStep;
        }
        byte* rec = _outRing + idx;
        *(uint*)rec = (uint)len; *(ushort*)(rec + 4) = (ushort)kind; *(ushort*)(rec + 6) = 0;
        _pendingLen = len;
        return rec + 8;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnterProducerSlow()
    {
        var spin = new SpinWait();
        while (Volatile.Read(ref _prodLock) != 0 || Interlocked.CompareExchange(ref _prodLock, 1, 0) != 0) spin.SpinOnce();
    }

    private Errno WaitRoom(int need, long deadlineMs)
    {
        long spinUntil = 0;
        while (true)
        {
            uint used = (_head - _cachedTail) & Layout.PosMask;
            if (used > Layout.RingBytes) { ThreadPool.UnsafeQueueUserWorkItem(static c => c.Close(), this, false); return Errno.EPROTO; }
            if (Layout.RingBytes - used >= need) return Errno.OK;
            int t = Volatile.Read(ref *_outTail);
            if ((uint)(t & Layout.PosMask) != _cachedTail) { _cachedTail = (uint)(t & Layout.PosMask); continue; }
            if (_closed) return Errno.EDIED;
            // Spin (bounded) while the consumer runs elsewhere; then sleep until it gives room back.
            if (PeerRunsElsewhere())
            {
                long ts = Stopwatch.GetTimestamp();
                if (spinUntil == 0) spinUntil = ts + SpinTicks;
                if (ts < spinUntil) { Thread.SpinWait(20); continue; }
            }
            long now = Environment.TickCount64;
            if (now >= deadlineMs) return Errno.ETIMEDOUT;
            if ((t & Layout.WaitBit) == 0 && Interlocked.CompareExchange(ref *_outTail, t | Layout.WaitBit, t) != t) continue;
            SetRunning(false);
            int r = Libc.FutexWait(_outTail, t | Layout.WaitBit, (int)Math.Min(deadlineMs - now, 200));
            SetRunning(true);
            if (r != 0 && Libc.Errno == Libc.ETIMEDOUT && !CheckAlive()) { Close(); return Errno.EDIED; }
        }
    }

    private void Publish()
    {
        _head = (uint)((_head + _pendingLen) & Layout.PosMask);
        int prev = Interlocked.Exchange(ref *_outHead, (int)_head);
        Volatile.Write(ref _prodLock, 0);
        if ((prev & Layout.WaitBit) != 0) RingDoorbell();
    }

    private void RingDoorbell()
    {
        long one = 1;
        Libc.write(_doorbellPeer, &one, 8);
    }

    private Errno PostSlotRecord(int kind, int slot, ulong seq, long deadlineMs)
    {
        byte* p = Reserve(kind, 16, deadlineMs, out var err);
        if (p is null) return err;
        *(int*)p = slot; *(int*)(p + 4) = 0; *(ulong*)(p + 8) = seq;
        Publish();
        return Errno.OK;
    }

    /// <summary>Tells the peer we dropped <paramref name="count"/> grants of its handle (the last local reference went).</summary>
    public void PostRelease(uint handle, int count)
    {
        if (!TryAddRef()) return;
        try
        {
            byte* p = Reserve(Layout.RecRelease, 8, Environment.TickCount64 + 5000, out _);
            if (p is null) return;
            *(uint*)p = handle; *(int*)(p + 4) = count;
            Publish();
        }
        finally { Release(); }
    }

    /// <summary>Tells the peer the port it knew as <paramref name="handle"/> was destroyed.</summary>
    public void PostDead(uint handle)
    {
        if (!TryAddRef()) return;
        try
        {
            byte* p = Reserve(Layout.RecDead, 8, Environment.TickCount64 + 5000, out _);
            if (p is null) return;
            *(uint*)p = handle; *(int*)(p + 4) = 0;
            Publish();
        }
        finally { Release(); }
    }

    // ------------------------------------------------------------------ incoming ring (owner only)

    /// <summary>True when the incoming ring holds unread records.</summary>
    public bool HasRecords => _knownHead != _tail || (uint)(Volatile.Read(ref *_inHead) & Layout.PosMask) != _tail;

    private uint _knownHead, _publishedTail;

    private int Peek(out byte* payload, out int payloadLen)
    {
        payload = null; payloadLen = 0;
        while (true)
        {
            // Re-read the shared head word only when the records known so far are used up (fewer cache-line trips).
            if (_tail == _knownHead)
            {
                _knownHead = (uint)(Volatile.Read(ref *_inHead) & Layout.PosMask);
                if (_knownHead == _tail) { if (_publishedTail != _tail) PublishTail(); return 0; }
            }
            uint head = _knownHead;
            uint used = (head - _tail) & Layout.PosMask;
            if (used > Layout.RingBytes) return -1;
            uint idx = _tail & Layout.RingMask;
            byte* rec = _inRing + idx;
            uint len = Volatile.Read(ref *(uint*)rec);
            int kind = *(ushort*)(rec + 4);
            if (len < 8 || (len & 7) != 0 || len > used || idx + len > Layout.RingBytes) return -1;
            if (kind == Layout.RecPad) { _tail = (_tail + len) & Layout.PosMask; PublishTail(); continue; }
            _curLen = len;
            payload = rec + 8; payloadLen = (int)len - 8;
            return kind;
        }
    }

    private void Advance()
    {
        _tail = (_tail + _curLen) & Layout.PosMask;
        // Give room back in batches of 64 KiB (the producer reads the tail only when it runs out of room), and at
        // once when the known records are used up. A producer waiting for room is woken by those same publications
        // (batched wake-ups: one FUTEX_WAKE per 64 KiB at most, not one per record it could not wait for); it
        // always gets room in the end, since an idle consumer has published everything.
        if (_tail == _knownHead || ((_tail - _publishedTail) & Layout.PosMask) >= 64 * 1024) PublishTail();
    }

    private void PublishTail()
    {
        _publishedTail = _tail;
        int prev = Interlocked.Exchange(ref *_inTail, (int)_tail);
        if ((prev & Layout.WaitBit) != 0) Libc.FutexWake(_inTail, 1);
    }

    /// <summary>Before the owner lets go: sets WAIT in the head word so the next producer rings the doorbell.
    /// False if records arrived meanwhile (keep serving).</summary>
    public bool ArmDoorbell()
    {
        while (true)
        {
            int v = Volatile.Read(ref *_inHead);
            if ((uint)(v & Layout.PosMask) != _tail) return false;
            if ((v & Layout.WaitBit) != 0) return true;
            if (Interlocked.CompareExchange(ref *_inHead, v | Layout.WaitBit, v) == v) return true;
        }
    }

    /// <summary>The owner clears WAIT again: while it serves, producers need not ring the doorbell.</summary>
    public void Disarm()
    {
        int v = Volatile.Read(ref *_inHead);
        if ((v & Layout.WaitBit) != 0) Interlocked.CompareExchange(ref *_inHead, v & ~Layout.WaitBit, v);
    }

    /// <summary>
    /// Takes the next record. Returns 0 when the ring is empty, -1 when it is corrupt (the caller closes the
    /// connection), 1 when a record was handled here (interrupt, release, dead, an inline one-way message),
    /// 2 when a call was taken: serve it with <see cref="ServeCall"/>.
    /// </summary>
    public int TakeNext(Worker w, out int slot, out ulong seq)
    {
        slot = 0; seq = 0;
        int kind = Peek(out byte* p, out int plen);
        if (kind <= 0) return kind;
        switch (kind)
        {
            case Layout.RecCall:
                if (plen < 16) return -1;
                slot = *(int*)p; seq = *(ulong*)(p + 8);
                Advance();
                return (uint)slot < Layout.SlotCount ? 2 : 1;
            case Layout.RecInterrupt:
                if (plen < 16) return -1;
                slot = *(int*)p; seq = *(ulong*)(p + 8);
                Advance();
                if ((uint)slot < Layout.SlotCount) _served[slot].Interrupt(seq, force: false);
                return 1;
            case Layout.RecRelease:
            {
                if (plen < 8) return -1;
                uint h = *(uint*)p; int n = *(int*)(p + 4);
                Advance();
                OnRelease(h, n);
                return 1;
            }
            case Layout.RecDead:
            {
                if (plen < 8) return -1;
                uint h = *(uint*)p;
                Advance();
                OnDead(h);
                return 1;
            }
            case Layout.RecMessage:
            {
                int n = Math.Min(plen, w.Buffer.Length);
                new ReadOnlySpan<byte>(p, n).CopyTo(w.Buffer);
                Advance();
                DispatchInline(w, n);
                return 1;
            }
            default:
                Advance();
                return 1;
        }
    }

    private void OnRelease(uint handle, int count)
    {
        if (count <= 0) return;
        ReceivePort? port = null; int take = 0;
        lock (_space.Lock)
        {
            if (!Grants.TryGetValue(handle, out var g)) return;
            take = Math.Min(count, g.Count);
            g.Count -= take;
            if (g.Count == 0) { Grants.TryRemove(handle, out _); g.Port.Grants.Remove(this); }
            port = g.Port;
        }
        port.DropSend(take);
    }

    private void OnDead(uint handle)
    {
        var kill = new List<SendEntry>();
        lock (_space.Lock)
        {
            if (Remote.Remove(handle, out var s)) kill.Add(s);
            foreach (var o in RemoteOnce) if (o.Handle == handle) kill.Add(o);
            foreach (var o in kill) if (o.SendOnce) RemoteOnce.Remove(o);
        }
        if (kill.Count > 0) _space.KillEntries(kill);
    }

    /// <summary>A message came through a send-once right to our port <paramref name="handle"/> (header flag
    /// <see cref="MessageFlags.SendOnce"/>): it carries that right's grant, which the message consumes. Carried in
    /// the message rather than as a Release record, which could overtake a call taken from the ring but not yet
    /// resolved by its worker. A peer setting the flag falsely only gives up its own rights.</summary>
    private void ConsumeGrant(uint handle)
    {
        ReceivePort? port = null;
        lock (_space.Lock)
        {
            if (!Grants.TryGetValue(handle, out var g) || g.Count <= 0) return;
            if (--g.Count == 0) { Grants.TryRemove(handle, out _); g.Port.Grants.Remove(this); }
            port = g.Port;
        }
        port.DropSend(1);
    }

    /// <summary>The grant most recently used as a destination (one reference: read and written atomically; its
    /// handle is readonly, so a hit always names the grant the handle was given for).</summary>
    private Grant? _lastDest;

    private bool ResolveDest(uint handle, out ReceivePort? port, out Errno err)
    {
        var last = _lastDest;
        if (last is not null && last.Handle == handle && Volatile.Read(ref last.Count) > 0 && !last.Port.IsDestroyed)
        {
            port = last.Port; err = Errno.OK; return true;
        }
        if (Grants.TryGetValue(handle, out var g) && !g.Port.IsDestroyed) { _lastDest = g; port = g.Port; err = Errno.OK; return true; }
        port = null;
        err = DeadHandles.ContainsKey(handle) || (g is not null && g.Port.IsDestroyed) ? Errno.EDIED : Errno.EBADF;
        return false;
    }

    private static RpcDispatcher? DispatcherOf(ReceivePort port, out object? target)
    {
        if (port.Dispatcher is { } d) { target = port.HandlerTarget; return d; }
        var set = port.Set;
        target = set?.HandlerTarget;
        return set?.Dispatcher;
    }

    private void DispatchInline(Worker w, int len)
    {
        if (len < MessageHeader.Length) return;
        var h = MemoryMarshal.Read<MessageHeader>(w.Buffer);
        int body = h.BodyLength, nr = h.RightCount;
        if (body < 0 || nr > Layout.MaxRights || MessageHeader.Length + body + nr * 8 > len) return;
        if (!ResolveDest(h.Dest, out var port, out _)) return;
        if ((h.Flags & MessageFlags.SendOnce) != 0) ConsumeGrant(h.Dest);
        fixed (byte* b = w.Buffer)
        {
            if (DecodeRights((RightDescriptor*)(b + MessageHeader.Length + body), nr, w.Rights) != Errno.OK) return;
        }
        var disp = DispatcherOf(port!, out var target);
        if (disp is null || target is null) return;
        w.Context.Set(this, port!);
        var req = new RpcRequest
        {
            Id = h.Id,
            Body = new MessageReader(w.Buffer.AsSpan(MessageHeader.Length, body), w.Rights.AsSpan(0, nr)),
            ReplyBody = default,
            Context = w.Context,
        };
        var prev = CallContext.Current;
        CallContext.Current = w.Context;
        try { disp(target, ref req); } catch { }
        finally { CallContext.Current = prev; w.Context.Set(null, null); }
    }

    /// <summary>Serves the call the peer put in its slot <paramref name="slot"/>: validates, dispatches, replies
    /// (or leaves the reply to a deferred reply). Never throws. Returns true when it took ownership of the incoming
    /// ring again (<see cref="RetakeRing"/>) before publishing the reply.</summary>
    public bool ServeCall(Worker w, int slot, ulong seq)
    {
        var ss = _served[slot];
        if (Interlocked.CompareExchange(ref ss.State, 1, 0) != 0) return false;
        var h = *(MessageHeader*)ss.Request;
        ss.Begin(seq, h.Id, h.ReplyPort == 0);
        int body = h.BodyLength, nr = h.RightCount;
        Errno err = Errno.OK;
        ReceivePort? port = null;
        if (h.Seq != seq || body < 0 || body > Layout.MaxBody || nr > Layout.MaxRights) err = Errno.EBADMSG;
        else if (!ResolveDest(h.Dest, out port, out err)) { }
        else
        {
            if ((h.Flags & MessageFlags.SendOnce) != 0) ConsumeGrant(h.Dest);
            err = DecodeRights((RightDescriptor*)(ss.Request + MessageHeader.Length + body), nr, ss.InRights);
        }
        var writer = new MessageWriter(new Span<byte>(ss.Reply + MessageHeader.Length, Layout.MaxBody), ss.OutRights, PeerCpuDiffers);
        if (err != Errno.OK) { bool own = RetakeRing(); CompleteCall(ss, seq, err, ref writer, disarm: own); return own; }
        ss.DestPort = port;
        var disp = DispatcherOf(port!, out var target);
        var req = new RpcRequest
        {
            Id = h.Id,
            Body = new MessageReader(new ReadOnlySpan<byte>(ss.Request + MessageHeader.Length, body), ss.InRights.AsSpan(0, nr)),
            ReplyBody = writer,
            Context = ss,
        };
        Errno r;
        if (disp is null || target is null) r = Errno.MIG_BAD_ID;
        else
        {
            var prev = CallContext.Current;
            CallContext.Current = ss;
            try { r = disp(target, ref req); }
            catch { r = Errno.EIO; req.ReplyBody = new MessageWriter(new Span<byte>(ss.Reply + MessageHeader.Length, Layout.MaxBody), ss.OutRights); }
            finally { CallContext.Current = prev; }
        }
        if (ss.Deferred) return false;
        if (r == Errno.MIG_NO_REPLY) r = Errno.EIO;
        bool owned = RetakeRing();
        CompleteCall(ss, seq, r, ref req.ReplyBody, disarm: owned);
        return owned;
    }

    /// <summary>
    /// After a handler, before its reply is published: takes ownership of the incoming ring again if no other worker
    /// has it. <see cref="CompleteCall"/> then clears the doorbell's WAIT bit (armed while the handler ran, so
    /// interrupts were seen) right after publishing the reply and before waking a sleeping caller: the caller's next
    /// request, which the reply may trigger at once, finds a consumer that is coming back anyway and rings no
    /// doorbell (no eventfd write on its side, no second worker woken on ours: on a shared CPU that was two extra
    /// context switches per call), while a spinning caller does not wait for that clearing.
    /// </summary>
    private bool RetakeRing() => Interlocked.CompareExchange(ref Owned, 1, 0) == 0;

    /// <summary>Writes the reply into the caller's reply area and wakes it. <paramref name="body"/> holds the
    /// whole reply body, or nothing (then the body is just <paramref name="code"/>).</summary>
    public Errno CompleteCall(ServerSlot ss, ulong seq, Errno code, ref MessageWriter body, bool disarm = false)
    {
        if (ss.Seq != seq || Volatile.Read(ref ss.State) == 0) return Errno.EINVAL;
        Errno result = Errno.OK;
        if (!ss.OneWay && !_closed)
        {
            byte* rep = ss.Reply;
            int bodyLen; int nr = 0;
            List<SendEntry>? moves = null;
            if (body.Overflow) code = Errno.EMSGSIZE;
            if (body.Position == 0 || body.Overflow || code == Errno.MIG_BAD_ID)
            {
                *(int*)(rep + 32) = (int)code; *(int*)(rep + 36) = 0; bodyLen = 8;
            }
            else
            {
                bodyLen = body.PaddedLength;
                new Span<byte>(rep + 32 + body.Position, bodyLen - body.Position).Clear();
                var rights = body.Rights;
                if (rights.Length > 0)
                {
                    var e = EncodeRights(rights, (RightDescriptor*)(rep + 32 + bodyLen), ref moves);
                    if (e != Errno.OK) { *(int*)(rep + 32) = (int)e; *(int*)(rep + 36) = 0; bodyLen = 8; result = e; }
                    else nr = rights.Length;
                }
            }
            var h = new MessageHeader
            {
                Size = (uint)(32 + bodyLen + nr * 8),
                Id = ss.ReqId + MessageHeader.ReplyIdOffset,
                Flags = MessageFlags.Reply | (nr > 0 ? MessageFlags.Complex : 0) | (bodyLen > Layout.InlineMax ? MessageFlags.Bulk : 0),
                RightCount = (ushort)nr,
                BodySize8 = MessageHeader.EncodeBodySize(bodyLen),
                Seq = seq,
            };
            *(MessageHeader*)rep = h;
            ss.Finish();
            int prev = Interlocked.Exchange(ref *ss.Word, 1);
            if (disarm) Disarm();
            if ((prev & Layout.WaitBit) != 0) Libc.FutexWake(ss.Word, 1);
            if (moves is not null) foreach (var m in moves) _space.ReleaseRef(m);
            return result;
        }
        ss.Finish();
        if (!_closed)
        {
            int prev = Interlocked.Exchange(ref *ss.Word, 1);
            if (disarm) Disarm();
            if ((prev & Layout.WaitBit) != 0) Libc.FutexWake(ss.Word, 1);
        }
        else if (disarm) Disarm();
        return _closed ? Errno.EDIED : Errno.OK;
    }

    // ------------------------------------------------------------------ rights on the wire

    /// <summary>Grants the peer one send right to <paramref name="port"/>. Caller holds IpcSpace.Lock.</summary>
    public Grant GrantUnlocked(ReceivePort port)
    {
        if (!port.Grants.TryGetValue(this, out var g))
        {
            uint h;
            do h = (uint)RandomNumberGenerator.GetInt32(1, int.MaxValue) ^ ((uint)RandomNumberGenerator.GetInt32(0, 2) << 31);
            while (Grants.ContainsKey(h) || DeadHandles.ContainsKey(h));
            g = new Grant(port, h);
            Grants[h] = g;
            port.Grants[this] = g;
        }
        g.Count++;
        port.AddSend(1);
        return g;
    }

    /// <summary>Translates rights the sender names in its space into wire descriptors for this connection.
    /// Moved rights are added to <paramref name="moves"/>; the caller deallocates them after publishing.</summary>
    public Errno EncodeRights(ReadOnlySpan<RightDescriptor> local, RightDescriptor* wire, ref List<SendEntry>? moves)
    {
        Span<uint> tags = stackalloc uint[local.Length];
        tags.Clear();
        var e = PrepareThirdParty(local, tags);
        if (e != Errno.OK) return e;
        return EncodeRights(local, tags, wire, ref moves);
    }

    /// <summary>For each right to a port of a third process: gets a ticket from that process and passes it to our
    /// peer by SCM_RIGHTS under a tag (before the message is published, so the peer finds it when it reads the message).</summary>
    private Errno PrepareThirdParty(ReadOnlySpan<RightDescriptor> local, Span<uint> tags)
    {
        for (int i = 0; i < local.Length; i++)
        {
            if (local[i].Disposition is not (Disposition.CopySend or Disposition.MoveSend or Disposition.MoveSendOnce)) continue;
            Connection? other; uint h;
            lock (_space.Lock)
            {
                if (_space.Lookup(new PortName(local[i].Name)) is not SendEntry s || s.Dead || s.Local is not null || s.Conn is null || ReferenceEquals(s.Conn, this)) continue;
                other = s.Conn; h = s.Handle;
            }
            var me = other.MintTicket(h, Environment.TickCount64 + 5000, out int fd);
            if (me != Errno.OK) return me;
            tags[i] = SendTicket(fd);
            Libc.close(fd);
            if (tags[i] == 0) return Errno.EDIED;
        }
        return Errno.OK;
    }

    private Errno EncodeRights(ReadOnlySpan<RightDescriptor> local, ReadOnlySpan<uint> tags, RightDescriptor* wire, ref List<SendEntry>? moves)
    {
        lock (_space.Lock)
        {
            if (_closed) return Errno.EDIED;
            // Validate everything first, so a failure changes nothing.
            for (int i = 0; i < local.Length; i++)
            {
                var e = _space.Lookup(new PortName(local[i].Name));
                switch (local[i].Disposition)
                {
                    case Disposition.MakeSend:
                    case Disposition.MakeSendOnce:
                        if (e is not ReceiveEntry r || r.Port.IsDestroyed) return Errno.EINVAL;
                        break;
                    case Disposition.CopySend:
                    case Disposition.MoveSend:
                    case Disposition.MoveSendOnce:
                        if (e is not SendEntry s || s.URefs <= 0) return Errno.EINVAL;
                        // A send-once right moves only as MoveSendOnce (never copied), and only while unused.
                        if (s.SendOnce != (local[i].Disposition == Disposition.MoveSendOnce) || (s.SendOnce && Volatile.Read(ref s.Used) != 0)) return Errno.EINVAL;
                        if (!s.Dead && s.Local is null && !ReferenceEquals(s.Conn, this) && tags[i] == 0) return Errno.EXDEV;
                        break;
                    default:
                        return Errno.EINVAL;
                }
            }
            // Moving a send-once right uses it up (a racing call through it then fails, and so would this).
            for (int i = 0; i < local.Length; i++)
                if (local[i].Disposition == Disposition.MoveSendOnce
                    && Interlocked.Exchange(ref ((SendEntry)_space.Lookup(new PortName(local[i].Name))!).Used, 1) != 0)
                    return Errno.EINVAL;
            for (int i = 0; i < local.Length; i++)
            {
                var e = _space.Lookup(new PortName(local[i].Name))!;
                RightDescriptor d = default;
                bool once = local[i].Disposition is Disposition.MakeSendOnce or Disposition.MoveSendOnce;
                if (e is ReceiveEntry r) { d.Name = GrantUnlocked(r.Port).Handle; d.Reserved0 = (byte)WireKind.SendersPort; }
                else
                {
                    var s = (SendEntry)e;
                    if (s.Dead) d.Reserved0 = (byte)WireKind.Dead;
                    else if (s.Local is not null) { d.Name = GrantUnlocked(s.Local).Handle; d.Reserved0 = (byte)WireKind.SendersPort; }
                    else if (tags[i] != 0) { d.Name = tags[i]; d.Reserved0 = (byte)WireKind.ThirdParty; }
                    else
                    {
                        d.Name = s.Handle; d.Reserved0 = (byte)WireKind.ReceiversPort;
                        // Handing the owner back its own port: a move carries one of our grants in the message
                        // itself (wire MOVE_SEND; the owner turns it into a local send right), instead of a
                        // Release record, which travels through the ring and could overtake a message read from
                        // a call slot (a reply, or a call served after the ring was let go), so the owner would
                        // no longer know the handle. Possible when nothing keeps the handle alive on our side:
                        // this is the last reference, or other grants remain. Otherwise wire COPY_SEND.
                        // A send-once right always carries its one grant (wire MOVE_SEND_ONCE).
                        bool carries = local[i].Disposition != Disposition.CopySend && s.Received > 0 && (s.URefs == 1 || s.Received > 1);
                        if (carries) s.Received--;
                        d.Disposition = once ? Disposition.MoveSendOnce : carries ? Disposition.MoveSend : Disposition.CopySend;
                    }
                    if (local[i].Disposition != Disposition.CopySend) (moves ??= new()).Add(s);
                }
                if (d.Disposition == 0) d.Disposition = once ? Disposition.MoveSendOnce : Disposition.MoveSend;
                wire[i] = d;
            }
        }
        return Errno.OK;
    }

    /// <summary>Translates wire descriptors from the peer into names in our space (each with one user
    /// reference, disposition MoveSend). A descriptor naming one of our ports must carry a handle we granted on
    /// this very connection; anything else makes the whole message invalid (EBADMSG) and changes nothing.</summary>
    public Errno DecodeRights(RightDescriptor* wireIn, int n, RightDescriptor[] local)
    {
        if (n == 0) return Errno.OK;
        if (n > Layout.MaxRights) return Errno.EBADMSG;
        RightDescriptor* wire = stackalloc RightDescriptor[n];
        Buffer.MemoryCopy(wireIn, wire, n * 8, n * 8);
        Connection?[]? thirdConn = null;
        List<ReceivePort>? returned = null;
        uint* thirdHandle = stackalloc uint[n];
        for (int i = 0; i < n; i++)
        {
            if ((WireKind)wire[i].Reserved0 != WireKind.ThirdParty) continue;
            thirdConn ??= new Connection?[n];
            int fd = TakeTicket(wire[i].Name, Environment.TickCount64 + 5000);
            if (fd < 0) return Errno.EBADMSG;
            thirdConn[i] = Redeem(_space, fd, 5000, out thirdHandle[i]);
        }
        lock (_space.Lock)
        {
            if (_closed) return Errno.EDIED;
            for (int i = 0; i < n; i++)
            {
                switch ((WireKind)wire[i].Reserved0)
                {
                    case WireKind.SendersPort:
                    case WireKind.Dead:
                    case WireKind.ThirdParty:
                        break;
                    case WireKind.ReceiversPort:
                        if (!Grants.ContainsKey(wire[i].Name) && !DeadHandles.ContainsKey(wire[i].Name)) return Errno.EBADMSG;
                        break;
                    default:
                        return Errno.EBADMSG;
                }
            }
            for (int i = 0; i < n; i++)
            {
                SendEntry s;
                // Wire MOVE_SEND_ONCE: a send-once right (kept apart from send rights to the same port); one of our
                // own ports comes back with its grant, like MOVE_SEND.
                bool once = wire[i].Disposition == Disposition.MoveSendOnce;
                switch ((WireKind)wire[i].Reserved0)
                {
                    case WireKind.SendersPort:
                        s = once ? _space.ReceiveRemoteSendOnce(this, wire[i].Name) : _space.ReceiveRemoteSend(this, wire[i].Name);
                        break;
                    case WireKind.ReceiversPort:
                        if (Grants.TryGetValue(wire[i].Name, out var g) && !g.Port.IsDestroyed)
                        {
                            s = once ? _space.MakeLocalSendOnce(g.Port) : _space.MakeLocalSend(g.Port);
                            if (wire[i].Disposition is Disposition.MoveSend or Disposition.MoveSendOnce && g.Count > 0)
                            {
                                // The message carries one of the peer's grants back (see EncodeRights).
                                if (--g.Count == 0) { Grants.TryRemove(wire[i].Name, out _); g.Port.Grants.Remove(this); }
                                (returned ??= new()).Add(g.Port);
                            }
                        }
                        else s = _space.MakeDeadName();
                        break;
                    case WireKind.ThirdParty:
                        s = thirdConn![i] is not { } tc || tc.IsClosed ? _space.MakeDeadName()
                            : once ? _space.ReceiveRemoteSendOnce(tc, thirdHandle[i]) : _space.ReceiveRemoteSend(tc, thirdHandle[i]);
                        break;
                    default: s = _space.MakeDeadName(); break;
                }
                local[i] = new RightDescriptor(s.Name, once ? Disposition.MoveSendOnce : Disposition.MoveSend);
            }
        }
        // Outside the lock, as OnRelease does; never the last count (the new local send right holds one).
        if (returned is not null) foreach (var port in returned) port.DropSend(1);
        return Errno.OK;
    }

    // ------------------------------------------------------------------ client side (ICallEngine)

    private ClientSlot? AcquireSlot()
    {
        var spin = new SpinWait();
        long giveUp = 0;
        while (true)
        {
            ulong f = Volatile.Read(ref _freeSlots);
            if (f != 0)
            {
                int i = BitOperations.TrailingZeroCount(f);
                if (Interlocked.CompareExchange(ref _freeSlots, f & ~(1UL << i), f) == f) return _slots[i];
                continue;
            }
            if (Reclaim()) continue;
            if (_closed) return null;
            if (giveUp == 0) giveUp = Environment.TickCount64 + 30_000;
            else if (Environment.TickCount64 > giveUp) return null;
            // All 64 slots are in flight: spin briefly, then sleep (never a sched_yield loop that burns the CPU the
            // server needs to finish those calls).
            if (spin.Count < 10) spin.SpinOnce(sleep1Threshold: -1);
            else Thread.Sleep(1);
        }
    }

    private bool Reclaim()
    {
        lock (_slotLock)
        {
            ulong q = _quarantine, freed = 0;
            while (q != 0)
            {
                int i = BitOperations.TrailingZeroCount(q);
                q &= q - 1;
                var s = _slots[i];
                if ((Volatile.Read(ref *s.Word) & 1) != 0) { s.Abandoned = false; s.AwaitAck = false; freed |= 1UL << i; }
            }
            if (freed == 0) return false;
            _quarantine &= ~freed;
            Interlocked.Or(ref _freeSlots, freed);
            return true;
        }
    }

    /// <summary>Starts a call to the peer's port <paramref name="handle"/>: the request is written straight into
    /// a call slot in shared memory (no copy). <paramref name="once"/>: the send-once right the call goes through;
    /// the request carries its grant (<see cref="MessageFlags.SendOnce"/>) and the right is deallocated here once
    /// the request is published (or when the call is disposed unsent).</summary>
    public RpcCall BeginCall(uint handle, uint id, SendEntry? once = null)
    {
        if (_closed || !TryAddRef()) return FailedEngine.Make(id, Errno.EDIED);
        var slot = AcquireSlot();
        if (slot is null) { Release(); return FailedEngine.Make(id, _closed ? Errno.EDIED : Errno.EAGAIN); }
        slot.Once = once;
        return new RpcCall
        {
            Id = id,
            Request = new MessageWriter(new Span<byte>(slot.Request + MessageHeader.Length, Layout.MaxBody), slot.RequestRights, PeerCpuDiffers),
            DeadlineMs = long.MaxValue,
            Engine = this,
            State = slot,
            StateId = handle,
        };
    }

    private Errno PrepareRequest(ref RpcCall call, ClientSlot slot, bool oneWay, out int total, out ulong seq, ref List<SendEntry>? moves)
    {
        total = 0; seq = 0;
        if (_closed) return Errno.EDIED;
        if (call.Request.Overflow) return Errno.EMSGSIZE;
        int pos = call.Request.Position, body = call.Request.PaddedLength;
        new Span<byte>(slot.Request + 32 + pos, body - pos).Clear();
        var rights = call.Request.Rights;
        if (rights.Length > 0)
        {
            var e = EncodeRights(rights, (RightDescriptor*)(slot.Request + 32 + body), ref moves);
            if (e != Errno.OK) return e;
        }
        // Unique per connection without a shared counter: the slot's own count, and the slot index.
        seq = (++slot.Calls << 6) | (uint)slot.Index;
        total = 32 + body + rights.Length * 8;
        *(MessageHeader*)slot.Request = new MessageHeader
        {
            Size = (uint)total,
            Id = call.Id,
            Flags = (rights.Length > 0 ? MessageFlags.Complex : MessageFlags.None) | (total > Layout.InlineMax ? MessageFlags.Bulk : 0)
                | (slot.Once is not null ? MessageFlags.SendOnce : 0),
            Dest = (uint)call.StateId,
            ReplyPort = oneWay ? 0u : (uint)slot.Index + 1,
            RightCount = (ushort)rights.Length,
            BodySize8 = MessageHeader.EncodeBodySize(body),
            Seq = seq,
        };
        return Errno.OK;
    }

    public Errno Invoke(ref RpcCall call)
    {
        if (call.State is not ClientSlot slot) return Errno.EBADF;
        SetRunning(true);
        List<SendEntry>? moves = null;
        var err = PrepareRequest(ref call, slot, false, out _, out ulong seq, ref moves);
        if (err != Errno.OK) return err;
        Volatile.Write(ref *slot.Word, 0);
        slot.Cancelled = 0;
        err = PostSlotRecord(Layout.RecCall, slot.Index, seq, call.DeadlineMs);
        if (err != Errno.OK) { Volatile.Write(ref *slot.Word, 1); return err; }
        if (moves is not null) foreach (var m in moves) _space.ReleaseRef(m);
        ConsumeOnce(slot, sent: true);
        err = WaitReply(slot, call.DeadlineMs, call.Cancellation);
        if (err != Errno.OK)
        {
            slot.Abandoned = true;
            if (err != Errno.EDIED) PostSlotRecord(Layout.RecInterrupt, slot.Index, seq, Environment.TickCount64 + 1000);
            return err;
        }
        var h = *(MessageHeader*)slot.Reply;
        int body = h.BodyLength, nr = h.RightCount;
        if (h.Seq != seq || (h.Flags & MessageFlags.Reply) == 0 || body < 4 || body > Layout.MaxBody || nr > Layout.MaxRights)
            return Errno.EBADMSG;
        err = DecodeRights((RightDescriptor*)(slot.Reply + 32 + body), nr, slot.ReplyRights);
        if (err != Errno.OK) return err == Errno.EDIED ? err : Errno.EBADMSG;
        call.Reply = new MessageReader(new ReadOnlySpan<byte>(slot.Reply + 32, body), slot.ReplyRights.AsSpan(0, nr));
        return (Errno)call.Reply.ReadInt32();
    }

    private Errno WaitReply(ClientSlot slot, long deadlineMs, CancellationToken ct)
    {
        int* w = slot.Word;
        if ((Volatile.Read(ref *w) & 1) != 0) return Errno.OK;
        var e = WaitReplySlow(slot, deadlineMs, ct);
        if (e == Errno.OK) SetRunning(true);
        return e;
    }

    private Errno WaitReplySlow(ClientSlot slot, long deadlineMs, CancellationToken ct)
    {
        int* w = slot.Word;
        if (PeerRunsElsewhere())
        {
            SetRunning(true);
            long until = Stopwatch.GetTimestamp() + ReplySpinTicks;
            while (true)
            {
                for (int i = 0; i < 32; i++)
                {
                    if ((Volatile.Read(ref *w) & 1) != 0) return Errno.OK;
                    Thread.SpinWait(1);
                }
                if (Stopwatch.GetTimestamp() > until || Volatile.Read(ref *_peerRunning) <= 0) break;
            }
        }
        SetRunning(false);
        CancellationTokenRegistration reg = default;
        if (ct.CanBeCanceled)
            reg = ct.UnsafeRegister(static s => { var sl = (ClientSlot)s!; sl.Cancelled = 1; Libc.FutexWake(sl.Word, 1); }, slot);
        try
        {
            while (true)
            {
                int v = Volatile.Read(ref *w);
                if ((v & 1) != 0) return Errno.OK;
                if (slot.Cancelled != 0) return Errno.EINTR;
                if (_closed) return Errno.EDIED;
                long now = Environment.TickCount64;
                if (now >= deadlineMs) return Errno.ETIMEDOUT;
                if ((v & Layout.WaitBit) == 0 && Interlocked.CompareExchange(ref *w, v | Layout.WaitBit, v) != v) continue;
                int r = Libc.FutexWait(w, v | Layout.WaitBit, (int)Math.Min(deadlineMs - now, 200));
                if (r != 0 && Libc.Errno == Libc.ETIMEDOUT && !CheckAlive()) { Close(); return Errno.EDIED; }
            }
        }
        finally { reg.Dispose(); }
    }

    public Errno Send(ref RpcCall call)
    {
        if (call.State is not ClientSlot slot) return Errno.EBADF;
        // A streaming sender is already marked running: skip sched_getcpu (~10 ns of a ~56 ns message).
        if (Volatile.Read(ref *_myRunning) <= 0) SetRunning(true);
        List<SendEntry>? moves = null;
        var err = PrepareRequest(ref call, slot, true, out int total, out ulong seq, ref moves);
        if (err != Errno.OK) return err;
        if (total <= Layout.InlineMax)
        {
            byte* p = Reserve(Layout.RecMessage, total, call.DeadlineMs, out err);
            if (p is null) return err;
            Buffer.MemoryCopy(slot.Request, p, total, total);
            Publish();
        }
        else
        {
            Volatile.Write(ref *slot.Word, 0);
            err = PostSlotRecord(Layout.RecCall, slot.Index, seq, call.DeadlineMs);
            if (err != Errno.OK) { Volatile.Write(ref *slot.Word, 1); return err; }
            slot.AwaitAck = true;
        }
        if (moves is not null) foreach (var m in moves) _space.ReleaseRef(m);
        ConsumeOnce(slot, sent: true);
        return Errno.OK;
    }

    /// <summary>Deallocates the send-once right the call went through. Sent: its grant travelled in the request
    /// (the peer drops it), so no Release record follows; unsent: the grant is given back with a Release record.</summary>
    private void ConsumeOnce(ClientSlot slot, bool sent)
    {
        if (slot.Once is not { } once) return;
        slot.Once = null;
        if (sent) lock (_space.Lock) once.Received = 0;
        _space.ReleaseRef(once);
    }

    public void Release(ref RpcCall call)
    {
        if (call.State is not ClientSlot slot) return;
        call.State = null;
        ConsumeOnce(slot, sent: false);
        if (slot.Abandoned || slot.AwaitAck) { lock (_slotLock) _quarantine |= 1UL << slot.Index; }
        else Interlocked.Or(ref _freeSlots, 1UL << slot.Index);
        Release();
    }
}

/// <summary>One of our call slots on a connection (the caller's side).</summary>
internal sealed unsafe class ClientSlot(int index, byte* request, byte* reply, int* word)
{
    public readonly int Index = index;
    public readonly byte* Request = request;
    public readonly byte* Reply = reply;
    public readonly int* Word = word;
    public readonly RightDescriptor[] RequestRights = new RightDescriptor[Layout.MaxRights];
    public readonly RightDescriptor[] ReplyRights = new RightDescriptor[Layout.MaxRights];
    public volatile int Cancelled;
    public bool Abandoned;
    public bool AwaitAck;
    /// <summary>The send-once right the current call goes through (consumed when the request is published).</summary>
    public SendEntry? Once;
    /// <summary>Calls made through this slot (only its current holder touches it).</summary>
    public ulong Calls;
}

/// <summary>One of the peer's call slots as the server sees it; also the <see cref="CallContext"/> of the call in it.</summary>
internal sealed unsafe class ServerSlot(Connection conn, int index, byte* request, byte* reply, int* word) : CallContext
{
    public readonly Connection Conn = conn;
    public readonly int Index = index;
    public readonly byte* Request = request;
    public readonly byte* Reply = reply;
    public readonly int* Word = word;
    public readonly RightDescriptor[] InRights = new RightDescriptor[Layout.MaxRights];
    public readonly RightDescriptor[] OutRights = new RightDescriptor[Layout.MaxRights];
    /// <summary>0 idle, 1 a call is being served (or its reply is deferred).</summary>
    public int State;
    public ulong Seq;
    public uint ReqId;
    public bool OneWay;
    public bool Deferred;
    public ReceivePort? DestPort;
    private readonly object _sync = new();
    private CancellationTokenSource? _cts;
    private bool _interrupted;

    public void Begin(ulong seq, uint id, bool oneWay)
    {
        lock (_sync) { Seq = seq; _interrupted = false; _cts = null; }
        ReqId = id; OneWay = oneWay; Deferred = false; DestPort = null;
    }

    public void Finish()
    {
        CancellationTokenSource? c;
        lock (_sync) { c = _cts; _cts = null; }
        DestPort = null;
        Volatile.Write(ref State, 0);
        c?.Dispose();
    }

    public bool IsInterrupted(ulong seq) { lock (_sync) return Seq != seq || _interrupted || Volatile.Read(ref State) == 0; }

    public void Interrupt(ulong seq, bool force)
    {
        CancellationTokenSource? c;
        lock (_sync)
        {
            if (Volatile.Read(ref State) == 0 || (!force && Seq != seq)) return;
            _interrupted = true;
            c = _cts;
        }
        try { c?.Cancel(); } catch (ObjectDisposedException) { } catch (AggregateException) { }
    }

    public override PeerCredentials Sender => Conn.Peer;
    public override PortName Port => DestPort?.Name ?? default;
    public override object? Target => DestPort?.Dispatcher is not null ? DestPort.HandlerTarget : DestPort?.Set?.HandlerTarget;
    public override CancellationToken Cancellation
    {
        get
        {
            lock (_sync)
            {
                if (_cts is null)
                {
                    _cts = new CancellationTokenSource();
                    if (_interrupted || Conn.IsClosed) _cts.Cancel();
                }
                return _cts.Token;
            }
        }
    }

    public override DeferredReply? DeferReply()
    {
        if (OneWay || Deferred || Volatile.Read(ref State) == 0) return null;
        if (!Conn.TryAddRef()) return null;
        Deferred = true;
        return new SlotDeferredReply(this, Seq);
    }
}

/// <summary>A deferred reply to a call from another process: writes into the caller's reply area later.</summary>
internal sealed unsafe class SlotDeferredReply(ServerSlot slot, ulong seq) : DeferredReply
{
    private int _done;
    public override uint RequestId => slot.ReqId;
    public override bool IsAbandoned => slot.Conn.IsClosed || slot.IsInterrupted(seq);

    public override MessageWriter BeginReply() =>
        new(new Span<byte>(slot.Reply + MessageHeader.Length, Layout.MaxBody), slot.OutRights);

    public override Errno Send(ref MessageWriter body)
    {
        if (Interlocked.Exchange(ref _done, 1) != 0) return Errno.EINVAL;
        try { return slot.Conn.CompleteCall(slot, seq, Errno.OK, ref body); }
        finally { slot.Conn.Release(); }
    }

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _done, 1) != 0) return;
        var w = default(MessageWriter);
        try { slot.Conn.CompleteCall(slot, seq, Errno.ECANCELED, ref w); }
        finally { slot.Conn.Release(); }
    }
}
