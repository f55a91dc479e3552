using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Ipc.Transport;

/// <summary>
/// The in-process transport: a call to a port of this process runs its handler directly on the
/// calling thread (no hop, no copy of the request), with the same contract as across processes:
/// rights are translated (MAKE_SEND mints, COPY_SEND adds a reference, MOVE_SEND moves), the handler
/// sees <see cref="CallContext.Current"/> with this process as the sender, it may defer its reply to
/// another thread, and a deadline or a cancellation interrupts the call (the handler's
/// <see cref="CallContext.Cancellation"/> fires; the caller gets ETIMEDOUT or EINTR).
/// A handler that ignores its cancellation delays the caller until it returns.
/// </summary>
internal sealed class Loopback : ICallEngine
{
    private static readonly Loopback s_instance = new();

    // The thread's frames, a chain (calls nest when a handler calls another local port): one thread-static read per
    // call, and the first frame is nearly always the free one.
    [ThreadStatic] private static Frame? t_frames;

    /// <summary>Buffers of one call level on one thread (calls nest when a handler calls another local port).</summary>
    internal sealed class Frame
    {
        public readonly byte[] Request = GC.AllocateUninitializedArray<byte>(Layout.MaxBody);
        public readonly byte[] Reply = GC.AllocateUninitializedArray<byte>(Layout.MaxBody);
        public readonly RightDescriptor[] RequestRights = new RightDescriptor[Layout.MaxRights];
        public readonly RightDescriptor[] ReplyRights = new RightDescriptor[Layout.MaxRights];
        public readonly LoopbackContext Context = new();
        public ReceivePort? Port;
        /// <summary>The send-once right the call goes through, deallocated when the call is disposed.</summary>
        public SendEntry? Once;
        public bool InUse;
        /// <summary>The thread's next frame (owned by that thread only).</summary>
        public Frame? Next;
    }

    public static RpcCall BeginCall(ReceivePort port, uint id, SendEntry? once = null, CancellationToken cancellation = default)
    {
        var f = t_frames;
        while (f is not null && f.InUse) f = f.Next;
        if (f is null)
        {
            f = new Frame();
            // Appended last, so that the outermost level keeps using the first frame.
            ref Frame? tail = ref t_frames;
            while (tail is not null) tail = ref tail.Next;
            tail = f;
        }
        f.InUse = true;
        f.Port = port;
        f.Once = once;
        return new RpcCall
        {
            Id = id,
            Request = new MessageWriter(f.Request, f.RequestRights),
            DeadlineMs = long.MaxValue,
            Cancellation = cancellation,
            Engine = s_instance,
            State = f,
        };
    }

    public void Release(ref RpcCall call) => ReleaseFrame(ref call);

    internal static void ReleaseFrame(ref RpcCall call)
    {
        if (call.State is Frame f)
        {
            f.Port = null; f.InUse = false;
            if (f.Once is { } once) { f.Once = null; IpcSpace.Current.ReleaseRef(once); }
        }
        call.State = null;
    }

    /// <summary>Translates rights within this space; the receiver gets each with one user reference.</summary>
    internal static Errno TranslateLocal(ReadOnlySpan<RightDescriptor> rights, Span<RightDescriptor> outRights)
    {
        if (rights.Length == 0) return Errno.OK;
        var space = IpcSpace.Current;
        lock (space.Lock)
        {
            for (int i = 0; i < rights.Length; i++)
            {
                var e = space.Lookup(new PortName(rights[i].Name));
                switch (rights[i].Disposition)
                {
                    case Disposition.MakeSend:
                    case Disposition.MakeSendOnce:
                        if (e is not ReceiveEntry r || r.Port.IsDestroyed) return Errno.EINVAL;
                        break;
                    case Disposition.CopySend:
                    case Disposition.MoveSend:
                    case Disposition.MoveSendOnce:
                        if (e is not SendEntry s || s.URefs <= 0) return Errno.EINVAL;
                        // A send-once right moves only as MoveSendOnce (never copied), and only while unused.
                        if (s.SendOnce != (rights[i].Disposition == Disposition.MoveSendOnce) || (s.SendOnce && Volatile.Read(ref s.Used) != 0)) return Errno.EINVAL;
                        break;
                    default: return Errno.EINVAL;
                }
            }
            for (int i = 0; i < rights.Length; i++)
            {
                var e = space.Lookup(new PortName(rights[i].Name))!;
                PortName n;
                if (rights[i].Disposition == Disposition.MakeSendOnce) n = space.MakeLocalSendOnce(((ReceiveEntry)e).Port).Name;
                else if (e is ReceiveEntry r) n = space.MakeLocalSend(r.Port).Name;
                else
                {
                    var s = (SendEntry)e;
                    if (rights[i].Disposition == Disposition.CopySend)
                    {
                        s.URefs++;
                        if (s.Local is not null && !s.Dead) s.Local.AddSend(1);
                    }
                    n = s.Name;
                }
                bool once = rights[i].Disposition is Disposition.MakeSendOnce or Disposition.MoveSendOnce;
                outRights[i] = new RightDescriptor(n, once ? Disposition.MoveSendOnce : Disposition.MoveSend);
            }
        }
        return Errno.OK;
    }

    public Errno Invoke(ref RpcCall call) => Run(ref call, oneWay: false);

    public Errno Send(ref RpcCall call) => Run(ref call, oneWay: true);

    internal static Errno Run(ref RpcCall call, bool oneWay)
    {
        if (call.State is not Frame f || f.Port is null) return Errno.EBADF;
        var port = f.Port;
        if (port.IsDestroyed) return Errno.EDIED;
        // A lent in array counts as part of the request, as if it had been copied into it.
        if (call.Request.Overflow || call.LentIn.Length > Layout.MaxBody - call.Request.PaddedLength) return Errno.EMSGSIZE;
        int nr = call.Request.RightCount;
        var e = TranslateLocal(call.Request.Rights, f.RequestRights);
        if (e != Errno.OK) return e;
        RpcDispatcher? disp = port.Dispatcher;
        object? target = port.HandlerTarget;
        if (disp is null && port.Set is { } set) { disp = set.Dispatcher; target = set.HandlerTarget; }
        if (disp is null || target is null) return oneWay ? Errno.OK : Errno.MIG_BAD_ID;

        var ctx = f.Context;
        ctx.Begin(port, call.Id, oneWay, call.DeadlineMs, call.Cancellation);
        var req = new RpcRequest
        {
            Id = call.Id,
            Body = new MessageReader(f.Request.AsSpan(0, call.Request.PaddedLength), f.RequestRights.AsSpan(0, nr)),
            ReplyBody = oneWay ? default : new MessageWriter(f.Reply, f.ReplyRights),
            Context = ctx,
            Lent = oneWay ? default : call.Lent,
            LentIn = call.LentIn,
        };
        call.LentUsed = false;
        Errno r;
        var prev = CallContext.Current;
        CallContext.Current = ctx;
        try { r = disp(target, ref req); }
        catch { r = Errno.EIO; req.ReplyBody = oneWay ? default : new MessageWriter(f.Reply, f.ReplyRights); req.LentUsed = false; }
        finally { CallContext.Current = prev; }
        if (oneWay) { ctx.End(); return Errno.OK; }

        int bodyLen, rights;
        if (ctx.IsDeferred)
        {
            var w = ctx.WaitDeferred(f, out bodyLen, out rights);
            if (w != Errno.OK) { ctx.End(); return w; }
        }
        else
        {
            var timedOut = ctx.CheckExpired();
            if (timedOut != Errno.OK) { ctx.End(); return timedOut; }
            if (r == Errno.MIG_NO_REPLY) r = Errno.EIO;
            var rb = req.ReplyBody;
            if (rb.Overflow) r = Errno.EMSGSIZE;
            if (rb.Position == 0 || rb.Overflow || r == Errno.MIG_BAD_ID)
            {
                BitConverterWrite(f.Reply, (int)r); bodyLen = 4; rights = 0;
            }
            else
            {
                bodyLen = rb.Position; rights = rb.RightCount;
                e = TranslateLocal(rb.Rights, f.ReplyRights);
                if (e != Errno.OK) { BitConverterWrite(f.Reply, (int)e); bodyLen = 4; rights = 0; }
                else if (req.LentUsed) { call.LentUsed = true; call.LentLength = req.LentLength; }
            }
        }
        ctx.End();
        call.Reply = new MessageReader(f.Reply.AsSpan(0, bodyLen), f.ReplyRights.AsSpan(0, rights));
        return (Errno)call.Reply.ReadInt32();
    }

    private static void BitConverterWrite(byte[] b, int v) => System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(b, v);
}

/// <summary>The context of an in-process call.</summary>
internal sealed class LoopbackContext : CallContext
{
    private readonly object _sync = new();
    private ReceivePort? _port;
    private uint _id;
    private bool _oneWay;
    private long _deadline;
    private CancellationToken _callerToken;
    private CancellationTokenSource? _cts;
    private LoopbackDeferred? _deferred;
    private bool _interrupted;

    public bool IsDeferred => _deferred is not null;

    public void Begin(ReceivePort port, uint id, bool oneWay, long deadline, CancellationToken token)
    {
        _port = port; _id = id; _oneWay = oneWay; _deadline = deadline; _callerToken = token;
        _cts = null; _deferred = null; _interrupted = false;
    }

    public void End()
    {
        // The common call: its handler neither asked for its cancellation token nor deferred. Both are made only by the
        // handler while it runs (on this thread, or by a thread it waited for), so no lock is needed to see that.
        if (Volatile.Read(ref _cts) is null && Volatile.Read(ref _deferred) is null) { _port = null; return; }
        CancellationTokenSource? c;
        lock (_sync) { c = _cts; _cts = null; _port = null; if (_deferred is { } d) d.Abandon(); _deferred = null; }
        c?.Dispose();
    }

    public Errno CheckExpired()
    {
        if (_callerToken.IsCancellationRequested) return Errno.EINTR;
        if (_deadline != long.MaxValue && Environment.TickCount64 >= _deadline) return Errno.ETIMEDOUT;
        return Errno.OK;
    }

    public override PeerCredentials Sender => PeerCredentials.Self;
    public override PortName Port => _port?.Name ?? default;
    public override object? Target => _port?.Dispatcher is not null ? _port.HandlerTarget : _port?.Set?.HandlerTarget;

    public override CancellationToken Cancellation
    {
        get
        {
            lock (_sync)
            {
                if (_cts is null)
                {
                    _cts = _callerToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(_callerToken) : new CancellationTokenSource();
                    if (_deadline != long.MaxValue) _cts.CancelAfter(TimeSpan.FromMilliseconds(Math.Max(0, _deadline - Environment.TickCount64)));
                    if (_interrupted) _cts.Cancel();
                }
                return _cts.Token;
            }
        }
    }

    public override DeferredReply? DeferReply()
    {
        if (_oneWay || _deferred is not null) return null;
        return _deferred = new LoopbackDeferred(this, _id);
    }

    /// <summary>Waits for the deferred reply; on expiry interrupts the handler's call and returns the error.</summary>
    public Errno WaitDeferred(Loopback.Frame f, out int bodyLen, out int rights)
    {
        var d = _deferred!;
        bodyLen = 0; rights = 0;
        var handles = _callerToken.CanBeCanceled ? new[] { d.Done.WaitHandle, _callerToken.WaitHandle } : null;
        while (true)
        {
            long now = Environment.TickCount64;
            int wait = _deadline == long.MaxValue ? 200 : (int)Math.Clamp(_deadline - now, 0, 200);
            bool done = handles is null ? d.Done.Wait(wait) : WaitHandle.WaitAny(handles, wait) == 0;
            if (done || d.Done.IsSet) break;
            Errno ex = CheckExpired();
            if (ex != Errno.OK)
            {
                CancellationTokenSource? c;
                lock (_sync) { _interrupted = true; c = _cts; }
                try { c?.Cancel(); } catch (ObjectDisposedException) { }
                return ex;
            }
        }
        return d.CopyTo(f, out bodyLen, out rights);
    }

    internal bool IsAbandonedBy(LoopbackDeferred d) { lock (_sync) return !ReferenceEquals(_deferred, d) || _interrupted; }
}

/// <summary>A deferred reply to an in-process call: written into its own buffer, handed over on Send.</summary>
internal sealed class LoopbackDeferred(LoopbackContext ctx, uint id) : DeferredReply
{
    private readonly byte[] _body = new byte[Layout.MaxBody];
    private readonly RightDescriptor[] _rights = new RightDescriptor[Layout.MaxRights];
    private int _len, _nr;
    private Errno _code;
    private int _state; // 0 pending, 1 sent, 2 abandoned
    public readonly ManualResetEventSlim Done = new(false);

    public override uint RequestId => id;
    public override bool IsAbandoned => Volatile.Read(ref _state) == 2 || ctx.IsAbandonedBy(this);
    public override MessageWriter BeginReply() => new(_body, _rights);

    public void Abandon() { Interlocked.CompareExchange(ref _state, 2, 0); }

    public override Errno Send(ref MessageWriter body)
    {
        if (body.Overflow) { _code = Errno.EMSGSIZE; _len = 0; }
        else { _len = body.Position; _nr = body.RightCount; _code = Errno.OK; }
        if (_nr > 0 && _len > 0)
        {
            var e = Loopback.TranslateLocal(body.Rights, _rights);
            if (e != Errno.OK) { _code = e; _len = 0; _nr = 0; }
        }
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0) return Errno.EDIED;
        Done.Set();
        return Errno.OK;
    }

    public override void Dispose()
    {
        if (Volatile.Read(ref _state) != 0) return;
        _code = Errno.ECANCELED; _len = 0; _nr = 0;
        if (Interlocked.CompareExchange(ref _state, 1, 0) == 0) Done.Set();
    }

    public Errno CopyTo(Loopback.Frame f, out int bodyLen, out int rights)
    {
        if (_len == 0)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(f.Reply, (int)_code);
            bodyLen = 4; rights = 0;
            return Errno.OK;
        }
        _body.AsSpan(0, _len).CopyTo(f.Reply);
        _rights.AsSpan(0, _nr).CopyTo(f.ReplyRights);
        bodyLen = _len; rights = _nr;
        return Errno.OK;
    }
}
