using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Auth;

/// <summary>
/// One auth handle: a port of the auth server naming fixed <see cref="AuthIds"/>. Serves the auth protocol
/// (<see cref="IAuth"/>). Every right received in a request is consumed (deallocated or passed on).
/// </summary>
public sealed class AuthHandle : IAuth
{
    private readonly AuthDaemon _daemon;

    internal AuthHandle(AuthDaemon daemon, AuthIds ids, long number) { _daemon = daemon; Ids = ids; Number = number; }

    /// <summary>The handle's ids (immutable).</summary>
    public AuthIds Ids { get; }

    /// <summary>The handle's number in this server (the root handle is 0; never reused): its name in the filesystem view.</summary>
    public long Number { get; }

    /// <summary>When the handle was made.</summary>
    public Hurd.Ipc.Abi.TimeSpec Created { get; } = Hurd.Ipc.Abi.TimeSpec.Now();

    /// <summary>The port this handle is served on.</summary>
    public ReceivePort Port { get; internal set; } = null!;

    /// <inheritdoc/>
    public Errno auth_getids(Span<uint> euids, out int euidsCount, Span<uint> auids, out int auidsCount, Span<uint> egids, out int egidsCount, Span<uint> agids, out int agidsCount)
    {
        euidsCount = auidsCount = egidsCount = agidsCount = 0;
        if (euids.Length < Ids.EUids.Length || auids.Length < Ids.AUids.Length || egids.Length < Ids.EGids.Length || agids.Length < Ids.AGids.Length) return Errno.EMSGSIZE;
        Ids.EUids.CopyTo(euids); euidsCount = Ids.EUids.Length;
        Ids.AUids.CopyTo(auids); auidsCount = Ids.AUids.Length;
        Ids.EGids.CopyTo(egids); egidsCount = Ids.EGids.Length;
        Ids.AGids.CopyTo(agids); agidsCount = Ids.AGids.Length;
        return Errno.OK;
    }

    /// <inheritdoc/>
    public Errno auth_makeauth(ReadOnlySpan<PortName> otherHandles, ReadOnlySpan<uint> euids, ReadOnlySpan<uint> auids, ReadOnlySpan<uint> egids, ReadOnlySpan<uint> agids, out PortName newhandle)
    {
        newhandle = default;
        var held = new List<AuthIds>(1 + otherHandles.Length) { Ids };
        bool bad = false;
        foreach (var n in otherHandles)
        {
            if (n.IsNull) continue;
            var h = AuthDaemon.HandleOf(n);
            if (h is null) bad = true; else held.Add(h.Ids);
        }
        foreach (var n in otherHandles) if (!n.IsNull) IpcSpace.Current.Deallocate(n);
        if (bad) return Errno.EINVAL;
        if (!AuthIds.WithinLimits(euids, auids, egids, agids)) return Errno.E2BIG;
        if (!AuthIds.MayMake(held, euids, auids, egids, agids)) return Errno.EPERM;
        newhandle = _daemon.MakeHandle(new AuthIds(euids, auids, egids, agids)).Port.Name;
        return Errno.OK;
    }

    /// <inheritdoc/>
    public Errno auth_user_authenticate(PortName rendezvous, out PortName newport) => _daemon.UserAuthenticate(this, rendezvous, out newport);

    /// <inheritdoc/>
    public Errno auth_server_authenticate(PortName rendezvous, PortRight newport, Span<uint> euids, out int euidsCount, Span<uint> auids, out int auidsCount, Span<uint> egids, out int egidsCount, Span<uint> agids, out int agidsCount) =>
        _daemon.ServerAuthenticate(rendezvous, newport, euids, out euidsCount, auids, out auidsCount, egids, out egidsCount, agids, out agidsCount);

    /// <inheritdoc/>
    public override string ToString() => $"auth handle {Port?.Name}: {Ids}";
}
