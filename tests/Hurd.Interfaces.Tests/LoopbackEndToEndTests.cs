using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Interfaces.Tests;

/// <summary>
/// The generated stubs over the real in-process transport (Hurd.Ipc's loopback: a
/// <see cref="SendRight"/> to a <see cref="ReceivePort"/> of this process), rights translated
/// by the core. Every port made here is destroyed in the test.
/// </summary>
public class LoopbackEndToEndTests
{
    [Fact(Timeout = 30_000)]
    public Task IoCalls_ThroughTheLoopbackTransport() => T.Run(() =>
    {
        var io = new FakeIo();
        using var port = ReceivePort.Create<IIo>(io, IoServer.Dispatch);
        using var send = port.MakeSend();
        var c = new IoClient(send) { TimeoutMs = 20_000 };

        Assert.Equal(Errno.OK, c.io_write("hello"u8, 7, out int amount));
        Assert.Equal(5, amount);
        Assert.Equal("hello"u8.ToArray(), io.LastWritten);
        Assert.Equal(7, io.LastOffset);

        var buf = new byte[16];
        Assert.Equal(Errno.OK, c.io_read(buf, out int n, -1, 16));
        Assert.Equal("hi!"u8.ToArray(), buf[..n]);

        Assert.Equal(Errno.OK, c.io_stat(out var st));
        Assert.Equal(42ul, st.Ino);

        io.Result = Errno.EIO;
        Assert.Equal(Errno.EIO, c.io_read(buf, out n, 0, 16));
        Assert.Equal(0, n);
    });

    [Fact(Timeout = 30_000)]
    public Task DirLookup_HandsOutANewPort_TheClientCallsIt() => T.Run(() =>
    {
        var fileIo = new FakeIo();
        using var file = ReceivePort.Create<IIo>(fileIo, IoServer.Dispatch);
        var fs = new FakeFs { RetryName = [], Result = PortRight.MakeSend(file.Name) };
        using var dir = ReceivePort.Create<IFs>(fs, FsServer.Dispatch);
        using var dirSend = dir.MakeSend();

        var retry = new byte[HurdLimits.RetryNameMax];
        var e = new FsClient(dirSend).dir_lookup("a/b"u8, OpenFlags.Read, 0, out var doRetry, retry, out int len, out var result);
        Assert.Equal(Errno.OK, e);
        Assert.Equal(RetryType.Normal, doRetry);
        Assert.Equal(0, len);
        Assert.False(result.IsNull);

        using var opened = SendRight.FromName(result.Name);
        Assert.NotNull(opened);
        Assert.Equal(Errno.OK, new IoClient(opened!).io_stat(out var st));
        Assert.Equal(42ul, st.Ino);
        Assert.Equal(1, fileIo.Calls);
    });

    [Fact(Timeout = 30_000)]
    public Task DeferredReply_FromAnotherThread_ReachesTheCaller() => T.Run(() =>
    {
        var impl = new KindsImpl { Defer = true };
        using var port = ReceivePort.Create<IKinds>(impl, KindsServer.Dispatch);
        using var send = port.MakeSend();
        var replier = Task.Run(async () =>
        {
            while (Volatile.Read(ref impl.Deferred) is null) await Task.Delay(5);
            return KindsServer.Reply_deferred(impl.Deferred!, Errno.OK, "later"u8, 7L);
        });

        var buf = new byte[16];
        var e = new KindsClient(send) { TimeoutMs = 20_000 }.deferred(1, buf, out int n, out long y);

        Assert.Equal(Errno.OK, e);
        Assert.Equal("later"u8.ToArray(), buf[..n]);
        Assert.Equal(7L, y);
        Assert.Equal(Errno.OK, replier.Result);
    });

    [Fact(Timeout = 30_000)]
    public Task DestroyedPort_GivesEDIED() => T.Run(() =>
    {
        var io = new FakeIo();
        var port = ReceivePort.Create<IIo>(io, IoServer.Dispatch);
        using var send = port.MakeSend();
        port.Dispose();
        Assert.Equal(Errno.EDIED, new IoClient(send).io_stat(out _));
        Assert.Equal(0, io.Calls);
    });

    [Fact(Timeout = 30_000)]
    public Task WrongSubsystem_GivesMIG_BAD_ID() => T.Run(() =>
    {
        var io = new FakeIo();
        using var port = ReceivePort.Create<IIo>(io, IoServer.Dispatch);
        using var send = port.MakeSend();
        Assert.Equal(Errno.MIG_BAD_ID, new FsClient(send).dir_unlink("x"u8));
    });

    [Fact(Timeout = 30_000)]
    public Task SimpleRoutine_WithAMadeSendRight_AndNullPorts() => T.Run(() =>
    {
        var io = new FakeIo();
        using var port = ReceivePort.Create<IIo>(io, IoServer.Dispatch);
        using var send = port.MakeSend();
        using var rendezvous = new ReceivePort();

        Assert.Equal(Errno.OK, new IoClient(send).io_reauthenticate(rendezvous.Name));
        SpinWait.SpinUntil(() => io.Reauthenticated, 20_000);
        Assert.True(io.Reauthenticated);
        Assert.False(io.LastRendezvous.IsNull);
        SendRight.FromName(io.LastRendezvous)?.Dispose(); // the server's reference to the rendezvous

        var fs = new FakeFs();
        using var fport = ReceivePort.Create<IFs>(fs, FsServer.Dispatch);
        using var fsend = fport.MakeSend();
        Assert.Equal(Errno.OK, new FsClient(fsend).file_set_translator(TransFlags.Set, 0, 0, "/hurd/hello\0"u8, PortName.Null));
        Assert.True(fs.LastActive.IsNull);
        Assert.Equal("/hurd/hello\0"u8.ToArray(), fs.LastPassive);
    });

    [Fact(Timeout = 30_000)]
    public Task CallsToADeadPort_ReturnEDIED_NotEMSGSIZE() => T.Run(() =>
    {
        // A generated stub writes its arguments before Invoke; a call that cannot start (dead port, disposed right)
        // must still answer with the real error, whatever the arguments' size.
        var io = new FakeIo();
        var port = ReceivePort.Create<IIo>(io, IoServer.Dispatch);
        using var send = port.MakeSend();
        var c = new IoClient(send) { TimeoutMs = 20_000 };
        Assert.Equal(Errno.OK, c.io_write("x"u8, 0, out _));
        port.Dispose();
        Assert.True(send.IsDead);
        Assert.Equal(Errno.EDIED, c.io_write("hello"u8, 7, out _));
        Assert.Equal(Errno.EDIED, c.io_write(new byte[2 << 20], 0, out _));
        var buf = new byte[16];
        Assert.Equal(Errno.EDIED, c.io_read(buf, out int n, 0, 16));
        Assert.Equal(0, n);
        Assert.Equal(Errno.EDIED, c.io_stat(out _));

        using var other = ReceivePort.Create<IIo>(io, IoServer.Dispatch);
        var gone = other.MakeSend();
        gone.Dispose();
        Assert.Equal(Errno.EBADF, new IoClient(gone).io_write("hello"u8, 0, out _));
    });
}
