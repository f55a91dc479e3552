using Hurd.Ipc.Abi;

namespace Hurd.Ipc.Rpc;

/// <summary>
/// What a generated client proxy talks to: something that can start a call to a port
/// (a send right in this process's space, on any transport).
/// </summary>
public interface IRpcTarget
{
    /// <summary>
    /// Starts a call of routine <paramref name="id"/>: rents a request buffer and returns a
    /// call whose <see cref="RpcCall.Request"/> writer the proxy fills in. The caller must
    /// <see cref="RpcCall.Dispose"/> it.
    /// </summary>
    RpcCall BeginCall(uint id);
}

/// <summary>The transport behind an <see cref="RpcCall"/>. Implemented by the core's transports.</summary>
public interface ICallEngine
{
    /// <summary>Sends the request and waits for the reply (deadline and cancellation from the call's options).</summary>
    Errno Invoke(ref RpcCall call);
    /// <summary>Sends the request as a one-way message (no reply right).</summary>
    Errno Send(ref RpcCall call);
    /// <summary>Returns the call's buffers.</summary>
    void Release(ref RpcCall call);
}

/// <summary>
/// One client call in flight. Usage by generated code:
/// <code>
/// var call = target.BeginCall(21001);
/// try {
///     call.Request.WriteInt64(offset); ...
///     Errno e = call.Invoke();          // e is the server's return code, or a transport error
///     if (e == Errno.OK) { ... = call.Reply.ReadInt32(); ... }
///     return e;
/// } finally { call.Dispose(); }
/// </code>
/// After <see cref="Invoke"/> returns OK the <see cref="Reply"/> reader is positioned just
/// after the return code. If the reply is malformed (reader Error), the proxy returns EBADMSG.
/// </summary>
public ref struct RpcCall
{
    public uint Id;
    public MessageWriter Request;
    public MessageReader Reply;
    /// <summary>Absolute deadline (Environment.TickCount64 milliseconds), or long.MaxValue for none.</summary>
    public long DeadlineMs;
    public CancellationToken Cancellation;
    /// <summary>Transport-private state (the engine's buffer handle and connection).</summary>
    public ICallEngine? Engine;
    public object? State;
    public long StateId;
    /// <summary>
    /// The caller's own buffer for the reply's out byte array, set by a generated stub for a routine whose array is
    /// marked <c>[CallerBuffer]</c>. The in-process transport lends it to the server (<see cref="RpcRequest.Lent"/>),
    /// which then writes the array straight into it: no copy through the reply. Other transports ignore it.
    /// </summary>
    public Span<byte> Lent;
    /// <summary>Set by the in-process transport when the server wrote the out array into <see cref="Lent"/>; its
    /// length is then <see cref="LentLength"/> (the reply body carries an empty array in its place).</summary>
    public bool LentUsed;
    /// <summary>The bytes the server wrote into <see cref="Lent"/> (valid when <see cref="LentUsed"/>).</summary>
    public int LentLength;
    /// <summary>
    /// In process only: the caller's own bytes for the request's <c>[CallerBuffer]</c> in array, which the generated
    /// stub then leaves out of the request (an empty array in its place); the server reads them where they are
    /// (<see cref="RpcRequest.LentIn"/>). Set only when <see cref="InProcess"/>.
    /// </summary>
    public ReadOnlySpan<byte> LentIn;
    /// <summary>True when the call runs in this process (the in-process transport): a stub may lend its in array.</summary>
    public readonly bool InProcess => Engine is Transport.Loopback;

    // The in-process engine is called directly: a type test instead of an interface dispatch per call (a call site
    // that sees both transports would otherwise go through the runtime's polymorphic resolve stub).
    public Errno Invoke() => Engine is Transport.Loopback ? Transport.Loopback.Run(ref this, oneWay: false) : Engine is null ? Errno.EBADF : Engine.Invoke(ref this);
    public Errno Send() => Engine is Transport.Loopback ? Transport.Loopback.Run(ref this, oneWay: true) : Engine is null ? Errno.EBADF : Engine.Send(ref this);
    public void Dispose()
    {
        if (Engine is Transport.Loopback) Transport.Loopback.ReleaseFrame(ref this);
        else Engine?.Release(ref this);
        Engine = null;
    }
}
