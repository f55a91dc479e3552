using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;
using Hurd.Ipc.Testing;

namespace Hurd.Ipc.Tests;

/// <summary>The in-process (loopback) transport: same contract as across processes.</summary>
public class InProcessTests
{
    private static (TestService, ReceivePort, SendRight) Make()
    {
        var svc = new TestService();
        var port = svc.CreatePort();
        return (svc, port, port.MakeSend());
    }

    [Fact(Timeout = 10_000)]
    public async Task Echo_InProcess_ReturnsTheValueAndSelfAsSender()
    {
        await Task.Yield();
        var (_, port, r) = Make();
        using (port) using (r)
        {
            Assert.True(r.IsLocal);
            Assert.Equal(Errno.OK, TestClient.Echo(r, 42, out long y));
            Assert.Equal(42, y);
            Assert.Equal(Errno.OK, TestClient.GetSender(r, out var c));
            Assert.Equal(Environment.ProcessId, c.Pid);
            Assert.Equal(Errno.OK, TestClient.Null(r));
        }
    }

    [Fact(Timeout = 10_000)]
    public async Task UnknownRoutine_InProcess_ReturnsMIG_BAD_ID()
    {
        await Task.Yield();
        var (_, port, r) = Make();
        using (port) using (r)
        {
            var call = r.BeginCall(4242);
            try { Assert.Equal(Errno.MIG_BAD_ID, call.Invoke()); } finally { call.Dispose(); }
        }
    }

    [Fact(Timeout = 10_000)]
    public async Task RightTransfer_InProcess_MadePortAnswersAndRightsAreCounted()
    {
        await Task.Yield();
        var (svc, port, r) = Make();
        using (port) using (r)
        {
            Assert.Equal(Errno.OK, TestClient.MakePort(r, out var made));
            using (made)
            {
                Assert.Equal(Errno.OK, TestClient.Echo(made!, 7, out long y));
                Assert.Equal(7, y);
                // Pass a right to one of our ports in a message; the server calls it back.
                var (_, mine, mineSend) = Make();
                using (mine) using (mineSend)
                {
                    Assert.Equal(Errno.OK, TestClient.CallBack(r, mine.Name, Disposition.MakeSend, 99, out long z));
                    Assert.Equal(99, z);
                    Assert.Equal(Errno.OK, TestClient.CallBack(r, mineSend.Name, Disposition.CopySend, 5, out z));
                    Assert.Equal(5, z);
                    Assert.Equal(1, mine.SendRightCount); // only mineSend is left
                }
            }
            Assert.Equal(Errno.EINVAL, TestClient.CallBack(r, new PortName(0xdeadbeef), Disposition.CopySend, 1, out _));
        }
    }

    [Fact(Timeout = 10_000)]
    public async Task SendOnceRight_InProcess_CarriesExactlyOneCall()
    {
        await Task.Yield();
        var (_, port, r) = Make();
        using (port) using (r)
        {
            var noSenders = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            port.NoSenders += _ => noSenders.TrySetResult();
            var once = port.MakeSendOnce();
            Assert.True(once.IsSendOnce);
            Assert.Equal(RightKind.SendOnce, IpcSpace.Current.KindOf(once.Name));
            Assert.Equal(2, port.SendRightCount);
            Assert.Throws<InvalidOperationException>(() => once.Copy());
            Assert.Equal(Errno.OK, TestClient.Echo(once, 5, out long y));
            Assert.Equal(5, y);
            // Used up: the name is gone, a second use fails, the port lost that sender.
            Assert.Equal(RightKind.None, IpcSpace.Current.KindOf(once.Name));
            Assert.Equal(Errno.EBADF, TestClient.Echo(once, 6, out _));
            Assert.Equal(Errno.EBADF, TestClient.Notify(once));
            Assert.Equal(1, port.SendRightCount);
            once.Dispose();
            Assert.Equal(1, port.SendRightCount);

            // In a message: never copied; moved, it carries one call of the receiver, then it is gone.
            var moved = port.MakeSendOnce();
            Assert.Equal(Errno.EINVAL, TestClient.CallBack(r, moved.Name, Disposition.CopySend, 1, out _));
            Assert.Equal(Errno.EINVAL, TestClient.CallBack(r, moved.Name, Disposition.MoveSend, 1, out _));
            Assert.Equal(Errno.OK, TestClient.CallBack(r, moved.Name, Disposition.MoveSendOnce, 8, out y));
            Assert.Equal(8, y);
            Assert.Equal(RightKind.None, IpcSpace.Current.KindOf(moved.Name));
            Assert.Equal(Errno.EBADF, TestClient.Echo(moved, 9, out _));
            // A fresh one made in a message (MakeSendOnce) works the same way.
            Assert.Equal(Errno.OK, TestClient.CallBack(r, port.Name, Disposition.MakeSendOnce, 10, out y));
            Assert.Equal(10, y);
            Assert.Equal(1, port.SendRightCount);
            r.Dispose();
            await noSenders.Task.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(0, port.SendRightCount);
        }
    }

    [Fact(Timeout = 10_000)]
    public async Task DeferredReply_InProcess_ArrivesFromAnotherThread()
    {
        await Task.Yield();
        var (_, port, r) = Make();
        using (port) using (r)
        {
            Assert.Equal(Errno.OK, TestClient.Defer(r, 10, out long y, Environment.TickCount64 + 5000));
            Assert.Equal(11, y);
        }
    }

    [Fact(Timeout = 15_000)]
    public async Task Deadline_InProcess_ExpiresAndTheServerSeesCancellation()
    {
        await Task.Yield();
        var (svc, port, r) = Make();
        using (port) using (r)
        {
            var e = TestClient.WaitCancel(r, 10_000, out _, Environment.TickCount64 + 200);
            Assert.Equal(Errno.ETIMEDOUT, e);
            Assert.Equal(1, svc.CancelsSeen);
            using var cts = new CancellationTokenSource(200);
            e = TestClient.WaitCancel(r, 10_000, out _, ct: cts.Token);
            Assert.Equal(Errno.EINTR, e);
            Assert.Equal(2, svc.CancelsSeen);
        }
    }

    [Fact(Timeout = 10_000)]
    public async Task DestroyedPort_InProcess_BecomesDeadNameAndCallsFailWithEDIED()
    {
        await Task.Yield();
        var (_, port, r) = Make();
        var dead = new TaskCompletionSource<PortName>(TaskCreationOptions.RunContinuationsAsynchronously);
        r.OnDeadName(n => dead.TrySetResult(n));
        port.Dispose();
        Assert.Equal(r.Name, await dead.Task.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(r.IsDead);
        Assert.Equal(RightKind.DeadName, IpcSpace.Current.KindOf(r.Name));
        Assert.Equal(Errno.EDIED, TestClient.Echo(r, 1, out _));
        r.Dispose();
        Assert.Equal(RightKind.None, IpcSpace.Current.KindOf(r.Name));
    }

    [Fact(Timeout = 10_000)]
    public async Task LastSendRightGone_InProcess_RaisesNoSenders()
    {
        await Task.Yield();
        var (_, port, r) = Make();
        using (port)
        {
            var ns = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            port.NoSenders += _ => ns.TrySetResult();
            var r2 = r.Copy();
            Assert.Equal(2, port.SendRightCount);
            r.Dispose();
            Assert.False(ns.Task.IsCompleted);
            r2.Dispose();
            await ns.Task.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(0, port.SendRightCount);
        }
    }

    [Fact(Timeout = 15_000)]
    public async Task Bulk_InProcess_OneMebibyteArrivesIntact()
    {
        await Task.Yield();
        var (_, port, r) = Make();
        using (port) using (r)
        {
            var data = new byte[1 << 20];
            new Random(1).NextBytes(data);
            ulong sum = 0; foreach (var b in data) sum += b;
            Assert.Equal(Errno.OK, TestClient.BulkSum(r, data, out int len, out ulong got));
            Assert.Equal(data.Length, len);
            Assert.Equal(sum, got);
        }
    }

    [Fact(Timeout = 10_000)]
    public async Task OneWay_InProcess_MessagesAreDelivered()
    {
        await Task.Yield();
        var (svc, port, r) = Make();
        using (port) using (r)
        {
            for (int i = 0; i < 100; i++) Assert.Equal(Errno.OK, TestClient.Notify(r));
            Assert.Equal(100, svc.Count);
        }
    }

    [Fact(Timeout = 10_000)]
    public async Task PortSet_SharedHandler_ServesEveryMember()
    {
        await Task.Yield();
        var svc = new TestService();
        using var set = new PortSet();
        set.SetHandler(svc, TestService.Dispatch);
        using var a = new ReceivePort();
        using var b = new ReceivePort();
        set.Add(a); set.Add(b);
        Assert.Equal(2, set.Members.Count);
        using var ra = a.MakeSend();
        using var rb = b.MakeSend();
        Assert.Equal(Errno.OK, TestClient.Echo(ra, 1, out _));
        Assert.Equal(Errno.OK, TestClient.Echo(rb, 2, out _));
        Assert.Equal(2, svc.Calls);
    }
}
