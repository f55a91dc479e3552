using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Ipc.Testing;

/// <summary>
/// A small hand-written protocol (what the generator would emit) used by the tests, the test peer
/// and the benchmark. Ids are in a private range.
/// </summary>
public static class TestIds
{
    public const uint Echo = 1000;         // i64 x -> i64 x
    public const uint GetSender = 1001;    // -> i32 pid, u32 uid, u32 gid
    public const uint WaitCancel = 1002;   // i32 ms -> i32 1 if the call's cancellation fired
    public const uint Defer = 1003;        // i64 x -> i64 x + 1, answered later from another thread
    public const uint BulkSum = 1004;      // bytes -> i32 length, u64 sum of bytes
    public const uint MakePort = 1005;     // -> right (a new port served by this service)
    public const uint CallBack = 1006;     // right, i64 x -> i64 (Echo(x) called on the right)
    public const uint Slow = 1007;         // i32 ms -> (sleeps)
    public const uint Notify = 1008;       // one-way: counter += 1
    public const uint GetCount = 1009;     // -> i64 counter
    public const uint DestroyMade = 1010;  // destroys every port made by MakePort
    public const uint Null = 1011;         // nothing -> nothing
    public const uint BulkEcho = 1012;     // bytes -> bytes
    public const uint ConnCount = 1013;
    public const uint SenderVia = 1014;    // right -> i32 pid the right's server attests for us (GetSender through it)    // -> i32 open connections of the server's process
    public const uint MakeSendOnce = 1015; // -> send-once right to a new port served by this service
}

/// <summary>The test service: the server side.</summary>
public sealed class TestService
{
    private long _count;
    private readonly List<ReceivePort> _made = new();
    public long Count => Interlocked.Read(ref _count);
    public int CancelsSeen;
    public int Calls;
    /// <summary>Raised when a port made by MakePort loses its last sender.</summary>
    public event Action<ReceivePort>? MadePortNoSenders;

    public ReceivePort CreatePort()
    {
        var p = new ReceivePort();
        p.SetHandler(this, Dispatch);
        return p;
    }

    public static Errno Dispatch(TestService s, ref RpcRequest req)
    {
        Interlocked.Increment(ref s.Calls);
        ref var w = ref req.ReplyBody;
        switch (req.Id)
        {
            case TestIds.Null:
                w.WriteInt32(0);
                return Errno.OK;
            case TestIds.Echo:
            {
                long x = req.Body.ReadInt64();
                if (req.Body.Error) return Errno.EBADMSG;
                w.WriteInt32(0); w.WriteInt64(x);
                return Errno.OK;
            }
            case TestIds.GetSender:
            {
                var c = CallContext.Current!.Sender;
                w.WriteInt32(0); w.WriteInt32(c.Pid); w.WriteUInt32(c.Uid); w.WriteUInt32(c.Gid);
                return Errno.OK;
            }
            case TestIds.WaitCancel:
            {
                int ms = req.Body.ReadInt32();
                var ct = req.Context.Cancellation;
                bool cancelled = ct.WaitHandle.WaitOne(ms);
                if (cancelled) Interlocked.Increment(ref s.CancelsSeen);
                w.WriteInt32(0); w.WriteInt32(cancelled ? 1 : 0);
                return Errno.OK;
            }
            case TestIds.Defer:
            {
                long x = req.Body.ReadInt64();
                var d = req.Context.DeferReply();
                if (d is null) return Errno.EINVAL;
                var t = new Thread(() =>
                {
                    Thread.Sleep(20);
                    var rw = d.BeginReply();
                    rw.WriteInt32(0); rw.WriteInt64(x + 1);
                    d.Send(ref rw);
                }) { IsBackground = true };
                t.Start();
                return Errno.MIG_NO_REPLY;
            }
            case TestIds.BulkSum:
            {
                var b = req.Body.ReadBytes();
                if (req.Body.Error) return Errno.EBADMSG;
                ulong sum = 0;
                foreach (var x in b) sum += x;
                w.WriteInt32(0); w.WriteInt32(b.Length); w.WriteUInt64(sum);
                return Errno.OK;
            }
            case TestIds.BulkEcho:
            {
                var b = req.Body.ReadBytes();
                if (req.Body.Error) return Errno.EBADMSG;
                w.WriteInt32(0); w.WriteBytes(b);
                return Errno.OK;
            }
            case TestIds.MakePort:
            {
                var p = s.CreatePort();
                p.NoSenders += port => s.MadePortNoSenders?.Invoke(port);
                lock (s._made) s._made.Add(p);
                w.WriteInt32(0); w.WriteRight(p.Name, Disposition.MakeSend);
                return Errno.OK;
            }
            case TestIds.MakeSendOnce:
            {
                var p = s.CreatePort();
                p.NoSenders += port => s.MadePortNoSenders?.Invoke(port);
                lock (s._made) s._made.Add(p);
                w.WriteInt32(0); w.WriteRight(p.Name, Disposition.MakeSendOnce);
                return Errno.OK;
            }
            case TestIds.CallBack:
            {
                var name = req.Body.ReadRight();
                long x = req.Body.ReadInt64();
                if (req.Body.Error) return Errno.EBADMSG;
                using var r = SendRight.FromName(name);
                if (r is null) return Errno.EINVAL;
                var e = TestClient.Echo(r, x, out long y);
                if (e != Errno.OK) return e;
                w.WriteInt32(0); w.WriteInt64(y);
                return Errno.OK;
            }
            case TestIds.Slow:
            {
                int ms = req.Body.ReadInt32();
                Thread.Sleep(Math.Clamp(ms, 0, 5000));
                w.WriteInt32(0);
                return Errno.OK;
            }
            case TestIds.Notify:
                Interlocked.Increment(ref s._count);
                return Errno.OK;
            case TestIds.SenderVia:
            {
                var name = req.Body.ReadRight();
                if (req.Body.Error) return Errno.EBADMSG;
                using var r = SendRight.FromName(name);
                if (r is null) return Errno.EINVAL;
                var e = TestClient.GetSender(r, out var c);
                if (e != Errno.OK) return e;
                w.WriteInt32(0); w.WriteInt32(c.Pid);
                return Errno.OK;
            }
            case TestIds.ConnCount:
                w.WriteInt32(0); w.WriteInt32(IpcSpace.Current.Server.ConnectionCount);
                return Errno.OK;
            case TestIds.GetCount:
                w.WriteInt32(0); w.WriteInt64(s.Count);
                return Errno.OK;
            case TestIds.DestroyMade:
            {
                ReceivePort[] ps;
                lock (s._made) { ps = s._made.ToArray(); s._made.Clear(); }
                foreach (var p in ps) p.Dispose();
                w.WriteInt32(0);
                return Errno.OK;
            }
            default:
                return Errno.MIG_BAD_ID;
        }
    }
}

/// <summary>The test service: client stubs (hand-written, shaped like generated proxies: a request that overflows
/// answers EMSGSIZE before Invoke, as the generated ones do).</summary>
public static class TestClient
{
    public static Errno Null(IRpcTarget t)
    {
        var call = t.BeginCall(TestIds.Null);
        try { return call.Invoke(); } finally { call.Dispose(); }
    }

    public static Errno Echo(IRpcTarget t, long x, out long y, long deadlineMs = long.MaxValue, CancellationToken ct = default)
    {
        y = 0;
        var call = t.BeginCall(TestIds.Echo);
        try
        {
            call.Request.WriteInt64(x);
            if (call.Request.Overflow) return Errno.EMSGSIZE;
            call.DeadlineMs = Math.Min(call.DeadlineMs, deadlineMs);
            call.Cancellation = ct;
            var e = call.Invoke();
            if (e != Errno.OK) return e;
            y = call.Reply.ReadInt64();
            return call.Reply.Error ? Errno.EBADMSG : Errno.OK;
        }
        finally { call.Dispose(); }
    }

    public static Errno GetSender(IRpcTarget t, out PeerCredentials c)
    {
        c = default;
        var call = t.BeginCall(TestIds.GetSender);
        try
        {
            var e = call.Invoke();
            if (e != Errno.OK) return e;
            c = new PeerCredentials(call.Reply.ReadInt32(), call.Reply.ReadUInt32(), call.Reply.ReadUInt32());
            return call.Reply.Error ? Errno.EBADMSG : Errno.OK;
        }
        finally { call.Dispose(); }
    }

    public static Errno WaitCancel(IRpcTarget t, int ms, out bool cancelled, long deadlineMs = long.MaxValue, CancellationToken ct = default)
    {
        cancelled = false;
        var call = t.BeginCall(TestIds.WaitCancel);
        try
        {
            call.Request.WriteInt32(ms);
            call.DeadlineMs = Math.Min(call.DeadlineMs, deadlineMs);
            call.Cancellation = ct;
            var e = call.Invoke();
            if (e != Errno.OK) return e;
            cancelled = call.Reply.ReadInt32() != 0;
            return Errno.OK;
        }
        finally { call.Dispose(); }
    }

    public static Errno Defer(IRpcTarget t, long x, out long y, long deadlineMs = long.MaxValue)
    {
        y = 0;
        var call = t.BeginCall(TestIds.Defer);
        try
        {
            call.Request.WriteInt64(x);
            call.DeadlineMs = Math.Min(call.DeadlineMs, deadlineMs);
            var e = call.Invoke();
            if (e != Errno.OK) return e;
            y = call.Reply.ReadInt64();
            return Errno.OK;
        }
        finally { call.Dispose(); }
    }

    public static Errno BulkSum(IRpcTarget t, ReadOnlySpan<byte> data, out int length, out ulong sum)
    {
        length = 0; sum = 0;
        var call = t.BeginCall(TestIds.BulkSum);
        try
        {
            call.Request.WriteBytes(data);
            if (call.Request.Overflow) return Errno.EMSGSIZE;
            var e = call.Invoke();
            if (e != Errno.OK) return e;
            length = call.Reply.ReadInt32(); sum = call.Reply.ReadUInt64();
            return call.Reply.Error ? Errno.EBADMSG : Errno.OK;
        }
        finally { call.Dispose(); }
    }

    public static Errno MakePort(IRpcTarget t, out SendRight? right)
    {
        right = null;
        var call = t.BeginCall(TestIds.MakePort);
        try
        {
            var e = call.Invoke();
            if (e != Errno.OK) return e;
            var n = call.Reply.ReadRight();
            if (call.Reply.Error) return Errno.EBADMSG;
            right = SendRight.FromName(n);
            return right is null ? Errno.EBADMSG : Errno.OK;
        }
        finally { call.Dispose(); }
    }

    public static Errno MakeSendOnce(IRpcTarget t, out SendRight? right)
    {
        right = null;
        var call = t.BeginCall(TestIds.MakeSendOnce);
        try
        {
            var e = call.Invoke();
            if (e != Errno.OK) return e;
            var n = call.Reply.ReadRight(out var d);
            if (call.Reply.Error || d != Disposition.MoveSendOnce) return Errno.EBADMSG;
            right = SendRight.FromName(n);
            return right is null ? Errno.EBADMSG : Errno.OK;
        }
        finally { call.Dispose(); }
    }

    public static Errno CallBack(IRpcTarget t, PortName right, Disposition d, long x, out long y)
    {
        y = 0;
        var call = t.BeginCall(TestIds.CallBack);
        try
        {
            call.Request.WriteRight(right, d);
            call.Request.WriteInt64(x);
            var e = call.Invoke();
            if (e != Errno.OK) return e;
            y = call.Reply.ReadInt64();
            return Errno.OK;
        }
        finally { call.Dispose(); }
    }

    public static Errno Slow(IRpcTarget t, int ms, long deadlineMs = long.MaxValue)
    {
        var call = t.BeginCall(TestIds.Slow);
        try
        {
            call.Request.WriteInt32(ms);
            call.DeadlineMs = Math.Min(call.DeadlineMs, deadlineMs);
            return call.Invoke();
        }
        finally { call.Dispose(); }
    }

    public static Errno Notify(IRpcTarget t)
    {
        var call = t.BeginCall(TestIds.Notify);
        try { return call.Send(); } finally { call.Dispose(); }
    }

    public static Errno GetCount(IRpcTarget t, out long n)
    {
        n = 0;
        var call = t.BeginCall(TestIds.GetCount);
        try
        {
            var e = call.Invoke();
            if (e != Errno.OK) return e;
            n = call.Reply.ReadInt64();
            return Errno.OK;
        }
        finally { call.Dispose(); }
    }

    public static Errno SenderVia(IRpcTarget t, PortName right, out int pid)
    {
        pid = 0;
        var call = t.BeginCall(TestIds.SenderVia);
        try
        {
            call.Request.WriteRight(right, Disposition.CopySend);
            var e = call.Invoke();
            if (e == Errno.OK) pid = call.Reply.ReadInt32();
            return e;
        }
        finally { call.Dispose(); }
    }

    public static Errno ConnCount(IRpcTarget t, out int n)
    {
        n = 0;
        var call = t.BeginCall(TestIds.ConnCount);
        try
        {
            var e = call.Invoke();
            if (e == Errno.OK) n = call.Reply.ReadInt32();
            return e;
        }
        finally { call.Dispose(); }
    }

    public static Errno DestroyMade(IRpcTarget t)
    {
        var call = t.BeginCall(TestIds.DestroyMade);
        try { return call.Invoke(); } finally { call.Dispose(); }
    }
}
