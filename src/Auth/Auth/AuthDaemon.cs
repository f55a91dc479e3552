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
        public DeferredReply Reply = null!;
        public AuthIds? UserIds;
        public PortName NewPort;
        public CancellationTokenRegistration Cancel;
    }

    internal Errno UserAuthenticate(AuthHandle h, PortName rendezvous, out PortName newport)
    {
        newport = default;
        var r = IpcSpace.Current.TakeSendRight(rendezvous);
        if (r is null) return Errno.EINVAL;
        return Arrive(new Pending { IsUser = true, Rendezvous = rendezvous, RendezvousRight = r, UserIds = h.Ids });
    }

    internal Errno ServerAuthenticate(PortName rendezvous, PortRight newport, Span<uint> euids, out int euidsCount, Span<uint> auids, out int auidsCount,
        Span<uint> egids, out int egidsCount, Span<uint> agids, out int agidsCount)
    {
        euidsCount = auidsCount = egidsCount = agidsCount = 0;
        var r = IpcSpace.Current.TakeSendRight(rendezvous);
        if (r is null) { Drop(newport.Name); return Errno.EINVAL; }
        return Arrive(new Pending { IsUser = false, Rendezvous = rendezvous, RendezvousRight = r, NewPort = newport.Name });
    }

    private static void Drop(PortName name) { if (!name.IsNull) IpcSpace.Current.Deallocate(name); }

    /// <summary>
    /// One half arrives. Its reply is always deferred; then, in one step under the lock, it either meets the other
    /// half waiting on the same rendezvous port (both are answered now) or waits for it. The wait ends when the other
    /// half comes, the call is interrupted (or its caller dies), or the rendezvous port dies. A second half of the
    /// same kind on a port that already has one waiting gets EBUSY. Checking and waiting in one step matters: two
    /// halves arriving at the same moment must meet, not both wait (or take each other for a duplicate).
    /// </summary>
    private Errno Arrive(Pending p)
    {
        var ctx = CallContext.Current;
        var d = ctx?.DeferReply();
        if (d is null) { p.RendezvousRight.Dispose(); Drop(p.NewPort); return Errno.EINVAL; }
        p.Reply = d;
        // Registered before the half is visible: a callback that fires first finds nothing pending and does nothing,
        // and the checks after the insert below catch what it missed.
        var token = ctx!.Cancellation;
        p.RendezvousRight.OnDeadName(_ => Abort(p, Errno.EDIED));
        p.Cancel = token.Register(() => Abort(p, Errno.EINTR));
        Pending? other = null;
        bool duplicate = false;
        lock (_lock)
        {
            if (_pending.TryGetValue(p.Rendezvous, out var w))
            {
                if (w.IsUser == p.IsUser) duplicate = true;
                else { _pending.Remove(p.Rendezvous); other = w; }
            }
            else _pending[p.Rendezvous] = p;
        }
        if (duplicate) { p.Cancel.Dispose(); Fail(p, Errno.EBUSY); return Errno.MIG_NO_REPLY; }
        if (other is not null)
        {
            p.Cancel.Dispose();
            other.Cancel.Dispose();
            if (p.IsUser) Meet(p, other); else Meet(other, p);
            return Errno.MIG_NO_REPLY;
        }
        if (p.RendezvousRight.IsDead) Abort(p, Errno.EDIED);
        else if (token.IsCancellationRequested) Abort(p, Errno.EINTR);
        return Errno.MIG_NO_REPLY;
    }

    /// <summary>Completes a rendezvous: the server learns the user handle's ids, the user gets the server's new port (moved).</summary>
    private static void Meet(Pending user, Pending server)
    {
        var ids = user.UserIds!;
        if (server.Reply.IsAbandoned) server.Reply.Dispose();
        else AuthServer.Reply_auth_server_authenticate(server.Reply, Errno.OK, ids.EUids, ids.AUids, ids.EGids, ids.AGids);
        if (user.Reply.IsAbandoned) { user.Reply.Dispose(); Drop(server.NewPort); }
        else if (AuthServer.Reply_auth_user_authenticate(user.Reply, Errno.OK, server.NewPort) != Errno.OK) Drop(server.NewPort);
        user.RendezvousRight.Dispose();
        server.RendezvousRight.Dispose();
    }

    private void Abort(Pending p, Errno e)
    {
        lock (_lock)
        {
            if (!_pending.TryGetValue(p.Rendezvous, out var cur) || !ReferenceEquals(cur, p)) return;
            _pending.Remove(p.Rendezvous);
        }
        p.Cancel.Dispose();
        Fail(p, e);
    }

    /// <summary>Answers a half that did not meet its other half with <paramref name="e"/> and drops what it brought.</summary>
    private static void Fail(Pending p, Errno e)
    {
        if (p.Reply.IsAbandoned) p.Reply.Dispose();
        else if (p.IsUser) AuthServer.Reply_auth_user_authenticate(p.Reply, e, default);
        else AuthServer.Reply_auth_server_authenticate(p.Reply, e, default, default, default, default);
        p.RendezvousRight.Dispose();
        Drop(p.NewPort);
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
