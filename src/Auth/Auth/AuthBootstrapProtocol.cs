using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Transport;

namespace Hurd.Auth;

/// <summary>
/// The auth server's "new client" port, published as <c>auth</c> (<see cref="Bootstrap.Publish"/>): one
/// routine, <c>auth_bootstrap_gethandle() → handle</c> (id <see cref="GetHandleId"/>, empty request,
/// reply: code, then the handle as a MAKE_SEND right). The handle carries exactly the caller's OS
/// credentials, taken from the kernel-attested pid/uid/gid of its connection and that pid's
/// <c>/proc/&lt;pid&gt;/status</c> (uid 0 gets the root handle). Nothing in the request is believed.
/// </summary>
public static class AuthBootstrapProtocol
{
    /// <summary>The routine id (outside auth's 25000..25099 range).</summary>
    public const uint GetHandleId = 25100;

    /// <summary>Asks the auth server's published port for the caller's own handle.</summary>
    public static Errno GetHandle(Hurd.Ipc.Ports.SendRight authPort, out Hurd.Ipc.Ports.SendRight? handle)
    {
        handle = null;
        var call = authPort.BeginCall(GetHandleId);
        try
        {
            var e = call.Invoke();
            if (e != Errno.OK) return e;
            var name = call.Reply.ReadOptionalRight(out _);
            if (call.Reply.Error || name.IsNull) return Errno.EBADMSG;
            handle = Hurd.Ipc.Ports.SendRight.FromName(name);
            return handle is null ? Errno.EBADMSG : Errno.OK;
        }
        finally { call.Dispose(); }
    }

    /// <summary>Looks up <c>auth</c> in the runtime directory and returns the caller's handle.</summary>
    public static Errno Connect(out Hurd.Ipc.Ports.SendRight? handle, int timeoutMs = 5000) => Connect("auth", out handle, timeoutMs);

    /// <summary>Looks up the auth server published as <paramref name="name"/> and returns the caller's handle.</summary>
    public static Errno Connect(string name, out Hurd.Ipc.Ports.SendRight? handle, int timeoutMs = 5000)
    {
        handle = null;
        var e = Bootstrap.Lookup(name, out var port, timeoutMs);
        if (e != Errno.OK) return e;
        using (port) return GetHandle(port!, out handle);
    }

    /// <summary>The four id vectors of <paramref name="handle"/> (auth_getids).</summary>
    public static Errno GetIds(Hurd.Ipc.Ports.SendRight handle, out uint[] euids, out uint[] auids, out uint[] egids, out uint[] agids)
    {
        var c = new AuthClient(handle);
        uint[] a = new uint[HurdLimits.IdsMax], b = new uint[HurdLimits.IdsMax], g = new uint[HurdLimits.IdsMax], h = new uint[HurdLimits.IdsMax];
        var e = c.auth_getids(a, out int na, b, out int nb, g, out int ng, h, out int nh);
        euids = a[..na]; auids = b[..nb]; egids = g[..ng]; agids = h[..nh];
        return e;
    }
}
