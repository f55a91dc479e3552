using Hurd.Ipc.Abi;

namespace Hurd.Ipc.Rpc;

/// <summary>
/// One request as a server's dispatch sees it: the body to read and the reply body to
/// write, both views into transport buffers (no allocation).
/// Contract of a generated <c>FooServer.Dispatch(impl, ref req)</c>, by its return value R:
/// <list type="bullet">
/// <item>R == MIG_BAD_ID: unknown routine; the core replies with that code.</item>
/// <item>R == EBADMSG with nothing written: malformed arguments; the core replies with EBADMSG.</item>
/// <item>R == MIG_NO_REPLY: the routine deferred its reply (<see cref="CallContext.DeferReply"/>); nothing is sent now.</item>
/// <item>otherwise: <see cref="ReplyBody"/> holds the whole reply body: the i32 return code, then (only if it is OK) the out parameters.</item>
/// </list>
/// </summary>
public ref struct RpcRequest
{
    public uint Id;
    public MessageReader Body;
    public MessageWriter ReplyBody;
    /// <summary>Who sent it, its cancellation, deferral. Also in <see cref="CallContext.Current"/> during dispatch.</summary>
    public CallContext Context;
}
