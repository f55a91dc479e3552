using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Translators.Hosting;

/// <summary>
/// What a parent filesystem hands a translator it starts, besides the bootstrap port itself: the translator's auth
/// handle (the Hurd's <c>INIT_PORT_AUTH</c>, made by the parent with auth_makeauth for the node's owner, as
/// <c>fshelp_fetch_root</c> does). On the Hurd the exec server hands a new program its ports with
/// <c>exec_startup_get_info</c> on the task's bootstrap port; here the child asks the same bootstrap port it sends
/// fsys_startup to, before sending it: routine <see cref="GetInfoId"/> (exec_startup_get_info's id), empty request;
/// reply: code, then the auth handle (a send right, or null when the parent has no auth server).
/// </summary>
public static class TranslatorStartup
{
    /// <summary>exec_startup_get_info (exec_startup.defs, subsystem 30500, routine 0).</summary>
    public const uint GetInfoId = 30500;

    /// <summary>The child's side: asks the parent's bootstrap port for the ports it hands over. <paramref name="auth"/> is
    /// null when the parent has no auth server; MIG_BAD_ID from a parent that hands nothing.</summary>
    public static Errno GetInfo(IRpcTarget bootstrap, out SendRight? auth)
    {
        ArgumentNullException.ThrowIfNull(bootstrap);
        auth = null;
        var call = bootstrap.BeginCall(GetInfoId);
        try
        {
            var e = call.Invoke();
            if (e != Errno.OK) return e;
            var name = call.Reply.ReadOptionalRight(out _);
            if (call.Reply.Error) return Errno.EBADMSG;
            if (!name.IsNull) auth = SendRight.FromName(name);
            return Errno.OK;
        }
        finally { call.Dispose(); }
    }

    /// <summary>The parent's side: answers <see cref="GetInfoId"/> with a copy of <paramref name="auth"/> (which the caller
    /// keeps), or a null port.</summary>
    internal static Errno Answer(ref RpcRequest request, SendRight? auth)
    {
        request.ReplyBody.WriteInt32(0);
        request.ReplyBody.WriteOptionalRight(auth is null || auth.IsDead ? PortName.Null : auth.Name, Disposition.CopySend);
        return Errno.OK;
    }
}
