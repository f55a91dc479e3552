using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Auth;

/// <summary>
/// The auth server's state: the live auth handles and the pending halves of rendezvous.
/// Each handle is a <see cref="ReceivePort"/> served by an <see cref="AuthHandle"/>; a handle the last
/// client dropped is destroyed (no-senders), except the root handle, which the daemon keeps.
/// </summary>
public sealed class AuthDaemon : IDisposable
{
    private readonly object _lock = new();
    private readonly HashSet<AuthHandle> _handles = new();
    private readonly Dictionary<PortName, Pending> _pending = new();
    private ReceivePort? _bootstrap;
    private long _lastNumber = -1;

    /// <summary>Creates the daemon and its root handle (euids {0}, auids {0, 0}, likewise gids).</summary>
    public AuthDaemon() { Root = MakeHandle(AuthIds.Root, keep: true); }

    /// <summary>The root handle; every identity descends from it.</summary>
    public AuthHandle Root { get; }

    /// <summary>Live handles (root included), a snapshot.</summary>
    public IReadOnlyList<AuthHandle> Handles { get { lock (_lock) return _handles.ToArray(); } }

    /// <summary>Pending rendezvous halves (for tests and inspection).</summary>
    public int PendingCount { get { lock (_lock) return _pending.Count; } }

    /// <summary>The "new client" port (see <see cref="AuthBootstrapProtocol"/>), created on first use.</summary>
    public ReceivePort BootstrapPort
    {
        get
        {
            lock (_lock)
                return _bootstrap ??= ReceivePort.Create(this, static (AuthDaemon d, ref RpcRequest r) => d.DispatchBootstrap(ref r));
        }
    }

    /// <summary>A new handle for <paramref name="ids"/>; unless <paramref name="keep"/>, it is destroyed when its last send right goes.</summary>
    public AuthHandle MakeHandle(AuthIds ids, bool keep = false)
    {
        var h = new AuthHandle(this, ids, Interlocked.Increment(ref _lastNumber));
        var port = ReceivePort.Create<IAuth>(h, AuthServer.Dispatch);
        h.Port = port;
        if (!keep)
            port.NoSenders += p =>
            {
                lock (_lock) _handles.Remove(h);
                p.Dispose();
            };
        lock (_lock) _handles.Add(h);
        return h;
    }

    /// <summary>The auth handle served on the port <paramref name="name"/> names in this process, or null.</summary>
    public static AuthHandle? HandleOf(PortName name) => IpcSpace.Current.LocalTarget(name) as AuthHandle;

    private Errno DispatchBootstrap(ref RpcRequest req)
    {
        if (req.Id != AuthBootstrapProtocol.GetHandleId) return Errno.MIG_BAD_ID;
        var who = req.Context.Sender;
        AuthHandle h;
        if (who.Uid == 0) h = Root;
        else
        {
            var e = AuthIds.FromProcess(who.Pid, who.Uid, who.Gid, out var ids);
            if (e != Errno.OK) { req.ReplyBody.WriteInt32((int)e); return e; }
            h = MakeHandle(ids!);
        }
        req.ReplyBody.WriteInt32(0);
        req.ReplyBody.WriteOptionalRight(h.Port.Name, Disposition.MakeSend);
        return Errno.OK;
    }

    // ---- the rendezvous ----

    private sealed class Pending
    {
        public required bool IsUser;
        public required PortName Rendezvous;
        public required SendRight RendezvousRight;
        public required DeferredReply Reply;
        public AuthIds? UserIds;
        public PortName NewPort;
        public CancellationTokenRegistration Cancel;
    }

    internal Errno UserAuthenticate(AuthHandle h, PortName rendezvous, out PortName newport)
    {
        newport = default;
        var r = IpcSpace.Current.TakeSendRight(rendezvous);
        if (r is null) return Errno.EINVAL;
        Pending? server = null;
        lock (_lock)
        {
            if (_pending.TryGetValue(rendezvous, out var p))
            {
                if (p.IsUser) { r.Dispose(); return Errno.EBUSY; }
                _pending.Remove(rendezvous);
                server = p;
            }
        }
        if (server is not null)
        {
            server.Cancel.Dispose();
            var ids = h.Ids;
            AuthServer.Reply_auth_server_authenticate(server.Reply, Errno.OK, ids.EUids, ids.AUids, ids.EGids, ids.AGids);
            server.RendezvousRight.Dispose();
            r.Dispose();
            newport = server.NewPort; // moved to the user by the reply
            return Errno.OK;
        }
        return Wait(new Pending
        {
            IsUser = true, Rendezvous = rendezvous, RendezvousRight = r, UserIds = h.Ids,
            Reply = null!,
        });
    }

    internal Errno ServerAuthenticate(PortName rendezvous, PortRight newport, Span<uint> euids, out int euidsCount, Span<uint> auids, out int auidsCount,
        Span<uint> egids, out int egidsCount, Span<uint> agids, out int agidsCount)
    {
        euidsCount = auidsCount = egidsCount = agidsCount = 0;
        var r = IpcSpace.Current.TakeSendRight(rendezvous);
        if (r is null) { Drop(newport.Name); return Errno.EINVAL; }
        Pending? user = null;
        lock (_lock)
        {
            if (_pending.TryGetValue(rendezvous, out var p))
            {
                if (!p.IsUser) { r.Dispose(); Drop(newport.Name); return Errno.EBUSY; }
                _pending.Remove(rendezvous);
                user = p;
            }
        }
        if (user is not null)
        {
            user.Cancel.Dispose();
            if (AuthServer.Reply_auth_user_authenticate(user.Reply, Errno.OK, newport.Name) != Errno.OK) Drop(newport.Name);
            user.RendezvousRight.Dispose();
            r.Dispose();
            var ids = user.UserIds!;
            ids.EUids.CopyTo(euids); euidsCount = ids.EUids.Length;
            ids.AUids.CopyTo(auids); auidsCount = ids.AUids.Length;
            ids.EGids.CopyTo(egids); egidsCount = ids.EGids.Length;
            ids.AGids.CopyTo(agids); agidsCount = ids.AGids.Length;
            return Errno.OK;
        }
        return Wait(new Pending { IsUser = false, Rendezvous = rendezvous, RendezvousRight = r, NewPort = newport.Name, Reply = null! });
    }

    private static void Drop(PortName name) { if (!name.IsNull) IpcSpace.Current.Deallocate(name); }

    /// <summary>The first arrival waits: its reply is deferred until the other half comes, the call is
    /// interrupted (or its caller dies), or the rendezvous port dies.</summary>
    private Errno Wait(Pending p)
    {
        var ctx = CallContext.Current;
        var d = ctx?.DeferReply();
        if (d is null) { p.RendezvousRight.Dispose(); Drop(p.NewPort); return Errno.EINVAL; }
        p.Reply = d;
        if (p.RendezvousRight.IsDead) { p.RendezvousRight.Dispose(); Drop(p.NewPort); d.Dispose(); return Errno.MIG_NO_REPLY; }
        lock (_lock)
        {
            if (_pending.ContainsKey(p.Rendezvous)) { p.RendezvousRight.Dispose(); Drop(p.NewPort); FailReply(p, Errno.EBUSY); return Errno.MIG_NO_REPLY; }
            _pending[p.Rendezvous] = p;
        }
        p.RendezvousRight.OnDeadName(_ => Abort(p, Errno.EDIED));
        p.Cancel = ctx!.Cancellation.Register(() => Abort(p, Errno.EINTR));
        return Errno.MIG_NO_REPLY;
    }

    private void Abort(Pending p, Errno e)
    {
        lock (_lock)
        {
            if (!_pending.TryGetValue(p.Rendezvous, out var cur) || !ReferenceEquals(cur, p)) return;
            _pending.Remove(p.Rendezvous);
        }
        FailReply(p, e);
        p.RendezvousRight.Dispose();
        Drop(p.NewPort);
    }

    private static void FailReply(Pending p, Errno e)
    {
        if (p.Reply.IsAbandoned) { p.Reply.Dispose(); return; }
        if (p.IsUser) AuthServer.Reply_auth_user_authenticate(p.Reply, e, default);
        else AuthServer.Reply_auth_server_authenticate(p.Reply, e, default, default, default, default);
    }

    /// <summary>Fails every pending rendezvous and destroys every handle and the bootstrap port.</summary>
    public void Dispose()
    {
        Pending[] ps;
        AuthHandle[] hs;
        lock (_lock) { ps = _pending.Values.ToArray(); hs = _handles.ToArray(); _handles.Clear(); }
        foreach (var p in ps) Abort(p, Errno.EDIED);
        foreach (var h in hs) h.Port.Dispose();
        _bootstrap?.Dispose();
    }
}
