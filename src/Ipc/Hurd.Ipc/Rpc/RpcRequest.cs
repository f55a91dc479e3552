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
    /// <summary>
    /// In process only: the caller's buffer for the routine's out byte array (<see cref="RpcCall.Lent"/>), empty
    /// otherwise. A generated dispatch of a <c>[CallerBuffer]</c> routine gives it to the routine as the array instead
    /// of a region of the reply, then writes an empty array into the reply and sets <see cref="LentUsed"/> and
    /// <see cref="LentLength"/>. Valid only until the dispatch returns (the caller's stack may hold it).
    /// </summary>
    public Span<byte> Lent;
    /// <summary>Set by the dispatch when the routine's out array went into <see cref="Lent"/>.</summary>
    public bool LentUsed;
    /// <summary>The length of what the routine wrote into <see cref="Lent"/>.</summary>
    public int LentLength;
    /// <summary>
    /// In process only: the caller's bytes for the routine's <c>[CallerBuffer]</c> in array (<see cref="RpcCall.LentIn"/>),
    /// which the body then carries as an empty array; a generated dispatch reads them from here. Empty otherwise.
    /// Valid only until the dispatch returns.
    /// </summary>
    public ReadOnlySpan<byte> LentIn;
}
