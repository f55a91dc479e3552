using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;
using Hurd.Ipc.Transport;

namespace Hurd.Translators.Serving;

/// <summary>
/// The SDK's client side of the auth server (<c>/hurd/auth</c>, protocol <see cref="IAuth"/>): finding it, asking it
/// for this process's own handle, reading and making handles, and the client's half of reauthentication
/// (<see cref="Reauthenticate"/>), as glibc's <c>_hurd_setauth</c> does it for each port.
/// </summary>
/// <remarks>
/// <para><b>Finding auth.</b> The auth daemon publishes its "new client" port as <c>auth</c> in the bootstrap directory
/// (<see cref="Bootstrap.ServersDirectory"/>: <c>$HURD_RUNTIME_DIR/servers/auth</c>, <c>/run/hurd/servers/auth</c> for
/// root). Its one routine, <c>auth_bootstrap_gethandle</c> (id <see cref="BootstrapGetHandleId"/>, empty request; reply:
/// code, then the handle), answers with a handle for exactly the caller's kernel-attested OS credentials (root gets the
/// root handle). A translator started by a parent filesystem gets its handle from the parent instead
/// (<see cref="Hosting.TranslatorStartup"/>).</para>
/// <para><b>Refusal notice.</b> io_reauthenticate is one-way, so a server that cannot take part in the rendezvous (it
/// has no auth server, or too many are pending) tells the client by sending one message to the rendezvous port: id
/// <see cref="ReauthRefusedId"/> (io_reauthenticate's reply id) with the error code. <see cref="Reauthenticate"/> listens
/// for it and ends its wait with that code, so a client never waits for a server that will not come. Hurd clients that
/// do not listen lose nothing: the message goes to a port that only names the rendezvous.</para>
/// </remarks>
public static class AuthPorts
{
    /// <summary>The auth server's bootstrap routine: the caller's own handle (outside auth's 25000..25099 range).</summary>
    public const uint BootstrapGetHandleId = 25100;

    /// <summary>The refusal notice a server sends to a rendezvous port it will not use: io_reauthenticate's reply id,
    /// body one i32 error code.</summary>
    public const uint ReauthRefusedId = IoServer.Ids.io_reauthenticate + 100;

    /// <summary>Looks up <c>auth</c> in the bootstrap directory and returns this process's own handle. ENOENT (or
    /// ECONNREFUSED) when no auth server runs.</summary>
    public static Errno Connect(out SendRight? handle, int timeoutMs = 5000) =>
        ConnectAt(Bootstrap.PathOf("auth"), out handle, timeoutMs);

    /// <summary>Like <see cref="Connect"/> with the socket path of the auth server's published port.</summary>
    public static Errno ConnectAt(string socketPath, out SendRight? handle, int timeoutMs = 5000)
    {
        handle = null;
        if (!File.Exists(socketPath)) return Errno.ENOENT;
        var e = Bootstrap.Connect(socketPath, out var port, timeoutMs);
        if (e != Errno.OK) return e;
        using (port)
        {
            port!.Timeout = TimeSpan.FromMilliseconds(timeoutMs);
            return GetHandle(port, out handle);
        }
    }

    /// <summary>auth_bootstrap_gethandle on the auth server's published port: this process's own handle.</summary>
    public static Errno GetHandle(SendRight authBootstrapPort, out SendRight? handle)
    {
        ArgumentNullException.ThrowIfNull(authBootstrapPort);
        handle = null;
        var call = authBootstrapPort.BeginCall(BootstrapGetHandleId);
        try
        {
            var e = call.Invoke();
            if (e != Errno.OK) return e;
            var name = call.Reply.ReadOptionalRight(out _);
            if (call.Reply.Error || name.IsNull) return Errno.EBADMSG;
            handle = SendRight.FromName(name);
            return handle is null ? Errno.EBADMSG : Errno.OK;
        }
        finally { call.Dispose(); }
    }

    /// <summary>auth_getids: the four id vectors of <paramref name="handle"/> as an <see cref="Identity"/>.</summary>
    public static Errno GetIds(IRpcTarget handle, out Identity? ids, int timeoutMs = 30_000)
    {
        ids = null;
        Span<uint> eu = stackalloc uint[HurdLimits.IdsMax], au = stackalloc uint[HurdLimits.IdsMax];
        Span<uint> eg = stackalloc uint[HurdLimits.IdsMax], ag = stackalloc uint[HurdLimits.IdsMax];
        var e = new AuthClient(handle) { TimeoutMs = timeoutMs }.auth_getids(eu, out int neu, au, out int nau, eg, out int neg, ag, out int nag);
        if (e != Errno.OK) return e;
        ids = new Identity(eu[..neu], eg[..neg], au[..nau], ag[..nag]);
        return Errno.OK;
    }

    /// <summary>auth_makeauth on <paramref name="handle"/> alone: a new handle with exactly <paramref name="ids"/>'s four
    /// vectors. EPERM unless <paramref name="handle"/> holds uid 0 or every requested id.</summary>
    public static Errno MakeAuth(IRpcTarget handle, Identity ids, out SendRight? newHandle, int timeoutMs = 30_000)
    {
        ArgumentNullException.ThrowIfNull(ids);
        newHandle = null;
        var e = new AuthClient(handle) { TimeoutMs = timeoutMs }.auth_makeauth([], ids.Uids, ids.AvailableUids, ids.Gids, ids.AvailableGids, out var n);
        if (e != Errno.OK) return e;
        newHandle = SendRight.FromName(n);
        return newHandle is null ? Errno.EBADMSG : Errno.OK;
    }

    /// <summary>
    /// The client's half of reauthentication: makes a rendezvous port R, sends <c>io_reauthenticate(R)</c> to
    /// <paramref name="file"/>, then calls <c>auth_user_authenticate(R)</c> on <paramref name="authHandle"/>, which
    /// returns the new port the server made for exactly <paramref name="authHandle"/>'s ids (same peropen as
    /// <paramref name="file"/>). The wait ends at <paramref name="timeout"/> (ETIMEDOUT), on <paramref name="cancellation"/>
    /// (EINTR), when auth dies (EDIED), or at once with the server's refusal notice (EOPNOTSUPP when the server has no auth
    /// server).
    /// </summary>
    public static Errno Reauthenticate(IRpcTarget file, IRpcTarget authHandle, TimeSpan timeout, CancellationToken cancellation, out SendRight? newPort)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(authHandle);
        // EBUSY: the two halves reached auth at the same moment and it took them for two of one kind (either side may
        // see it); a fresh rendezvous port starts over.
        Errno e = Errno.EBUSY;
        newPort = null;
        for (int attempt = 0; attempt < 4 && e == Errno.EBUSY; attempt++)
            e = ReauthenticateOnce(file, authHandle, timeout, cancellation, out newPort);
        return e;
    }

    private static Errno ReauthenticateOnce(IRpcTarget file, IRpcTarget authHandle, TimeSpan timeout, CancellationToken cancellation, out SendRight? newPort)
    {
        newPort = null;
        int ms = (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var notice = new RefusalNotice(cts);
        using var rendezvous = ReceivePort.Create(notice, static (RefusalNotice n, ref RpcRequest r) =>
        {
            if (r.Id == ReauthRefusedId) n.Refuse((Errno)r.Body.ReadInt32());
            return Errno.MIG_NO_REPLY;
        });
        var e = new IoClient(file) { TimeoutMs = ms }.io_reauthenticate(rendezvous.Name);
        if (e != Errno.OK) return e;
        e = new AuthClient(authHandle) { TimeoutMs = ms, Cancellation = cts.Token }.auth_user_authenticate(rendezvous.Name, out var np);
        if (e != Errno.OK) return notice.Code != Errno.OK ? notice.Code : e;
        newPort = SendRight.FromName(np);
        return newPort is null ? Errno.EBADMSG : Errno.OK;
    }

    /// <summary>Sends the refusal notice to a rendezvous port and drops the right (the server's side).</summary>
    internal static void Refuse(SendRight rendezvous, Errno code)
    {
        try
        {
            var call = rendezvous.BeginCall(ReauthRefusedId);
            try
            {
                call.Request.WriteInt32((int)code);
                call.Send();
            }
            finally { call.Dispose(); }
        }
        finally { rendezvous.Dispose(); }
    }

    private sealed class RefusalNotice(CancellationTokenSource cts)
    {
        private int _code;
        public Errno Code => (Errno)Volatile.Read(ref _code);
        public void Refuse(Errno code)
        {
            if (code == Errno.OK) code = Errno.EOPNOTSUPP;
            if (Interlocked.CompareExchange(ref _code, (int)code, 0) != 0) return;
            try { cts.Cancel(); } catch (ObjectDisposedException) { }
        }
    }
}
