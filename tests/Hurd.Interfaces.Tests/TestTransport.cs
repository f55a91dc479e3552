using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Interfaces.Tests;

/// <summary>A server's dispatch as the test transport calls it.</summary>
public delegate Errno DispatchFn(ref RpcRequest req);

/// <summary>
/// The tiny in-memory transport of these tests: a client proxy's call is copied into a request
/// buffer, handed to a dispatch, and the reply bytes are handed back, exactly as a real
/// transport would (names are not translated: both sides share one "space"). Records the last
/// request and reply bytes for golden-byte assertions.
/// </summary>
public sealed class TestTransport : IRpcTarget, ICallEngine
{
    private readonly DispatchFn _dispatch;
    private readonly byte[] _request = new byte[128 * 1024];
    private readonly RightDescriptor[] _requestRights = new RightDescriptor[16];
    private readonly byte[] _reply = new byte[128 * 1024];
    private readonly RightDescriptor[] _replyRights = new RightDescriptor[16];
    private byte[] _replyCopy = [];
    private RightDescriptor[] _replyRightsCopy = [];

    public TestTransport(DispatchFn dispatch) => _dispatch = dispatch;

    /// <summary>The reply body room the dispatch gets.</summary>
    public int ReplyCapacity { get; set; } = 64 * 1024;
    /// <summary>If set, Invoke returns this without dispatching (a transport error).</summary>
    public Errno? TransportError { get; set; }
    /// <summary>If set, replaces the reply bytes the client sees (a hostile server).</summary>
    public byte[]? ForcedReply { get; set; }

    public uint LastId { get; private set; }
    public byte[] LastRequest { get; private set; } = [];
    public RightDescriptor[] LastRequestRights { get; private set; } = [];
    public byte[] LastReply { get; private set; } = [];
    public RightDescriptor[] LastReplyRights { get; private set; } = [];
    public Errno LastDispatchResult { get; private set; }
    public bool LastWasOneWay { get; private set; }
    public long LastDeadlineMs { get; private set; }
    public CancellationToken LastCancellation { get; private set; }
    public int Calls { get; private set; }
    public TestContext Context { get; } = new();

    public RpcCall BeginCall(uint id) => new()
    {
        Id = id,
        Request = new MessageWriter(_request, _requestRights),
        DeadlineMs = long.MaxValue,
        Engine = this,
    };

    public Errno Invoke(ref RpcCall call) => Deliver(ref call, oneWay: false);
    public Errno Send(ref RpcCall call) => Deliver(ref call, oneWay: true);
    public void Release(ref RpcCall call) { }

    private Errno Deliver(ref RpcCall call, bool oneWay)
    {
        Calls++;
        LastId = call.Id;
        LastWasOneWay = oneWay;
        LastDeadlineMs = call.DeadlineMs;
        LastCancellation = call.Cancellation;
        LastRequest = call.Request.Written.ToArray();
        LastRequestRights = call.Request.Rights.ToArray();
        if (TransportError is { } te) return te;

        var req = new RpcRequest
        {
            Id = call.Id,
            Body = new MessageReader(LastRequest, LastRequestRights),
            ReplyBody = new MessageWriter(_reply.AsSpan(0, ReplyCapacity), _replyRights),
            Context = Context,
        };
        var prev = CallContext.Current;
        CallContext.Current = Context;
        Errno r;
        try { r = _dispatch(ref req); }
        finally { CallContext.Current = prev; }
        LastDispatchResult = r;
        LastReply = req.ReplyBody.Written.ToArray();
        LastReplyRights = req.ReplyBody.Rights.ToArray();
        if (oneWay) return Errno.OK;
        if (r == Errno.MIG_NO_REPLY) return Errno.ETIMEDOUT; // a real caller would wait for the deferred reply
        if ((r == Errno.MIG_BAD_ID || r == Errno.EBADMSG) && LastReply.Length == 0)
            LastReply = BitConverter.GetBytes((int)r); // the core answers with the code alone

        _replyCopy = ForcedReply ?? LastReply;
        _replyRightsCopy = LastReplyRights;
        call.Reply = new MessageReader(_replyCopy, _replyRightsCopy);
        int code = call.Reply.ReadInt32();
        return call.Reply.Error ? Errno.EBADMSG : (Errno)code;
    }
}

/// <summary>A CallContext whose DeferReply hands out a <see cref="CapturingDeferredReply"/>.</summary>
public sealed class TestContext : CallContext
{
    public CapturingDeferredReply? Deferred { get; private set; }
    public override PeerCredentials Sender => PeerCredentials.Self;
    public override PortName Port => new(1);
    public override object? Target => null;
    public override CancellationToken Cancellation => CancellationToken.None;
    public override DeferredReply? DeferReply() => Deferred = new CapturingDeferredReply(0);
}

/// <summary>A deferred reply that records the body it is asked to send.</summary>
public sealed class CapturingDeferredReply(uint requestId) : DeferredReply
{
    private readonly byte[] _body = new byte[64 * 1024];
    private readonly RightDescriptor[] _rights = new RightDescriptor[16];
    public byte[]? Sent { get; private set; }
    public RightDescriptor[] SentRights { get; private set; } = [];
    public bool Disposed { get; private set; }
    public override uint RequestId => requestId;
    public override bool IsAbandoned => false;
    public override MessageWriter BeginReply() => new(_body, _rights);
    public override Errno Send(ref MessageWriter body)
    {
        Sent = body.Written.ToArray();
        SentRights = body.Rights.ToArray();
        return Errno.OK;
    }
    public override void Dispose() => Disposed = true;
}

/// <summary>Hex helpers for golden bytes: spaces are ignored.</summary>
public static class Hex
{
    public static byte[] Bytes(string hex) => Convert.FromHexString(hex.Replace(" ", "").Replace("\n", ""));
    public static string Of(ReadOnlySpan<byte> b) => Convert.ToHexString(b).ToLowerInvariant();
    public static string Norm(string hex) => hex.Replace(" ", "").Replace("\n", "").ToLowerInvariant();
}

public static class T
{
    /// <summary>Runs a synchronous test body on the pool so xunit's Timeout applies.</summary>
    public static Task Run(Action body) => Task.Run(body);
}
