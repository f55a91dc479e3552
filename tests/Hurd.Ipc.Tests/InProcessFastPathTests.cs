using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;
using Hurd.Ipc.Testing;

namespace Hurd.Ipc.Tests;

/// <summary>The in-process call's short path (SendRight.BeginCall straight into Loopback) keeps the slow path's
/// contract: a cancellation given to BeginCall, the right's timeout, nested calls on one thread, a disposed right.</summary>
public class InProcessFastPathTests
{
    private static Errno WaitCancel(SendRight r, int ms, CancellationToken ct, out bool cancelled)
    {
        cancelled = false;
        var call = r.BeginCall(TestIds.WaitCancel, ct);
        try
        {
            call.Request.WriteInt32(ms);
            var e = call.Invoke();
            if (e == Errno.OK) cancelled = call.Reply.ReadInt32() != 0;
            return e;
        }
        finally { call.Dispose(); }
    }

    [Fact(Timeout = 20_000)]
    public async Task BeginCallWithCancellation_InterruptsTheHandler()
    {
        await Task.Yield();
        var svc = new TestService();
        using var port = svc.CreatePort();
        using var r = port.MakeSend();
        using var cts = new CancellationTokenSource(50);
        Assert.Equal(Errno.EINTR, WaitCancel(r, 10_000, cts.Token, out _));
        Assert.Equal(1, Volatile.Read(ref svc.CancelsSeen));
        // Not cancelled: the handler's wait runs out.
        Assert.Equal(Errno.OK, WaitCancel(r, 10, CancellationToken.None, out bool c));
        Assert.False(c);
    }

    [Fact(Timeout = 20_000)]
    public async Task RightTimeout_StillApplies_AndCanBeCleared()
    {
        await Task.Yield();
        var svc = new TestService();
        using var port = svc.CreatePort();
        using var r = port.MakeSend();
        r.Timeout = TimeSpan.FromMilliseconds(50);
        Assert.Equal(Errno.ETIMEDOUT, TestClient.WaitCancel(r, 10_000, out _));
        Assert.Equal(Errno.ETIMEDOUT, WaitCancel(r, 10_000, CancellationToken.None, out _));
        r.Timeout = Timeout.InfiniteTimeSpan;
        Assert.Equal(Errno.OK, TestClient.Echo(r, 7, out long y));
        Assert.Equal(7, y);
    }

    [Fact(Timeout = 20_000)]
    public async Task NestedCalls_AndADisposedRight()
    {
        await Task.Yield();
        var svc = new TestService();
        using var port = svc.CreatePort();
        var r = port.MakeSend();
        // CallBack: the handler calls the port it is given (a second level on this thread's frames).
        Assert.Equal(Errno.OK, TestClient.CallBack(r, r.Name, Disposition.CopySend, 5, out long y));
        Assert.Equal(5, y);
        Assert.Equal(Errno.OK, TestClient.Echo(r, 9, out y));
        Assert.Equal(9, y);
        r.Dispose();
        Assert.Equal(Errno.EBADF, TestClient.Null(r));
        Assert.Equal(Errno.EBADF, WaitCancel(r, 1, CancellationToken.None, out _));
    }
}
