using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Transport;

namespace Hurd.Auth.Tests;

/// <summary>The rendezvous in either order, with the auth daemon in this process (in-process transport) and
/// in its own process (both halves over one connection), and its endings: interruption of either half, the
/// rendezvous port's death, the death of a waiting caller's process.</summary>
[Collection("auth")]
public class RendezvousTests(AuthFixture fx)
{
    private static readonly string UserIds = "euids=[1000] auids=[1000,1000] egids=[1000,27] agids=[1000,1000]";

    /// <summary>Waits (bounded) until <paramref name="cond"/> holds; false if it never does.</summary>
    private static async Task<bool> Until(Func<bool> cond, int ms = 30_000)
    {
        long end = Environment.TickCount64 + ms;
        while (!cond()) { if (Environment.TickCount64 > end) return false; await Task.Delay(10); }
        return true;
    }

    private static Errno Server(SendRight on, PortName rendezvous, ReceivePort newport, out string ids)
    {
        uint[] a = new uint[64], b = new uint[64], c = new uint[64], d = new uint[64];
        var e = new AuthClient(on).auth_server_authenticate(rendezvous, PortRight.MakeSend(newport.Name), a, out int na, b, out int nb, c, out int nc, d, out int nd);
        ids = e == Errno.OK ? new AuthIds(a[..na], b[..nb], c[..nc], d[..nd]).ToString() : "";
        return e;
    }

    private static Errno User(SendRight on, PortName rendezvous, out SendRight? newport)
    {
        var e = new AuthClient(on).auth_user_authenticate(rendezvous, out var np);
        newport = e == Errno.OK ? SendRight.FromName(np) : null;
        return e;
    }

    [Theory(Timeout = 60_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task InProcess_Rendezvous_CompletesInEitherOrder(bool serverFirst)
    {
        using var daemon = new AuthDaemon();
        using var root = daemon.Root.Port.MakeSend();
        var user = daemon.MakeHandle(new AuthIds([1000], [1000, 1000], [1000, 27], [1000, 1000]));
        using var userRight = user.Port.MakeSend();
        using var r = new ReceivePort();
        using var rs = r.MakeSend();
        using var mine = new ReceivePort();
        string ids = "";
        SendRight? np = null;
        Task<Errno> first, second;
        if (serverFirst)
        {
            first = Task.Run(() => Server(root, rs.Name, mine, out ids));
            Assert.True(await Until(() => daemon.PendingCount == 1));
            second = Task.Run(() => User(userRight, r.Name, out np));
        }
        else
        {
            first = Task.Run(() => User(userRight, r.Name, out np));
            Assert.True(await Until(() => daemon.PendingCount == 1));
            second = Task.Run(() => Server(root, rs.Name, mine, out ids));
        }
        Assert.Equal(Errno.OK, await first);
        Assert.Equal(Errno.OK, await second);
        using (np)
        {
            Assert.Equal(UserIds, ids);
            Assert.True(np!.IsLocal);
            Assert.Equal(0, daemon.PendingCount);
            // The port the user got is the server's new port: alive, and it counts as a sender.
            Assert.Equal(1, mine.SendRightCount);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task InProcess_HalvesArrivingTogether_AlwaysMeet()
    {
        // Both halves released at the same moment, many times: they must meet (never both wait, never EBUSY).
        using var daemon = new AuthDaemon();
        using var root = daemon.Root.Port.MakeSend();
        var user = daemon.MakeHandle(new AuthIds([1000], [1000, 1000], [1000, 27], [1000, 1000]));
        using var userRight = user.Port.MakeSend();
        for (int i = 0; i < 200; i++)
        {
            using var r = new ReceivePort();
            using var rs = r.MakeSend();
            using var mine = new ReceivePort();
            using var go = new Barrier(2);
            string ids = "";
            SendRight? np = null;
            var u = Task.Run(() => { go.SignalAndWait(); return User(userRight, r.Name, out np); });
            var sv = Task.Run(() => { go.SignalAndWait(); return Server(root, rs.Name, mine, out ids); });
            Assert.Equal(Errno.OK, await u);
            Assert.Equal(Errno.OK, await sv);
            Assert.Equal(UserIds, ids);
            np!.Dispose();
        }
        Assert.Equal(0, daemon.PendingCount);
    }

    [Theory(Timeout = 120_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task OneProcess_BothHalvesOverOneConnection_CompleteInEitherOrder(bool serverFirst)
    {
        // Both halves from this process to the auth daemon process: the user's reply hands this process back
        // a port of its own (the server's new port). Repeated, since the order is only likely, not forced.
        using var root = A.Connect();
        Assert.Equal(Errno.OK, A.Make(root, [], [1000], [1000, 1000], [1000, 27], [1000, 1000], out var user));
        using var _u = user;
        for (int i = 0; i < 5; i++)
        {
            using var r = new ReceivePort();
            using var rs = r.MakeSend();
            using var mine = new ReceivePort();
            string ids = "";
            SendRight? np = null;
            Task<Errno> first = serverFirst ? Task.Run(() => Server(root, rs.Name, mine, out ids)) : Task.Run(() => User(user!, r.Name, out np));
            await Task.Delay(100);
            Task<Errno> second = serverFirst ? Task.Run(() => User(user!, r.Name, out np)) : Task.Run(() => Server(root, rs.Name, mine, out ids));
            Assert.Equal(Errno.OK, await first);
            Assert.Equal(Errno.OK, await second);
            using (np)
            {
                Assert.Equal(UserIds, ids);
                Assert.True(np!.IsLocal);
                Assert.False(np.IsDead);
                Assert.True(await Until(() => mine.SendRightCount == 1));
            }
            Assert.True(await Until(() => mine.SendRightCount == 0));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task InProcess_EitherHalf_IsInterrupted_AndLeavesNothingPending()
    {
        using var daemon = new AuthDaemon();
        using var root = daemon.Root.Port.MakeSend();
        using var r = new ReceivePort();
        using var rs = r.MakeSend();
        using var mine = new ReceivePort();
        root.Timeout = TimeSpan.FromMilliseconds(300);
        // In-process, the expired deadline cancels the handler, whose EINTR reply may land first.
        Assert.Contains(await Task.Run(() => User(root, r.Name, out _)), new[] { Errno.ETIMEDOUT, Errno.EINTR });
        Assert.Contains(await Task.Run(() => Server(root, rs.Name, mine, out _)), new[] { Errno.ETIMEDOUT, Errno.EINTR });
        Assert.True(await Until(() => daemon.PendingCount == 0));
        root.Timeout = Timeout.InfiniteTimeSpan;
        using var cts = new CancellationTokenSource();
        var c = new AuthClient(root) { Cancellation = cts.Token };
        var t = Task.Run(() => c.auth_server_authenticate(rs.Name, PortRight.MakeSend(mine.Name), new uint[8], out _, new uint[8], out _, new uint[8], out _, new uint[8], out _));
        Assert.True(await Until(() => daemon.PendingCount == 1));
        cts.Cancel();
        Assert.Equal(Errno.EINTR, await t);
        Assert.True(await Until(() => daemon.PendingCount == 0));
        // The server's new port was dropped with the pending half: nobody holds a send right to it.
        Assert.True(await Until(() => mine.SendRightCount == 0));
    }

    [Fact(Timeout = 60_000)]
    public async Task InProcess_WaitingServer_GetsEDIED_WhenTheRendezvousPortIsDestroyed()
    {
        using var daemon = new AuthDaemon();
        using var root = daemon.Root.Port.MakeSend();
        var r = new ReceivePort();
        var rs = r.MakeSend();
        using var mine = new ReceivePort();
        var t = Task.Run(() => Server(root, rs.Name, mine, out _));
        Assert.True(await Until(() => daemon.PendingCount == 1));
        r.Dispose();
        Assert.Equal(Errno.EDIED, await t);
        rs.Dispose();
        Assert.Equal(0, daemon.PendingCount);
    }

    [Theory(Timeout = 120_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AcrossProcesses_Rendezvous_CompletesInEitherOrder(bool serverFirst)
    {
        // The auth daemon in this process (so the order can be forced), the user half in a child running as nobody,
        // the server half here.
        using var daemon = new AuthDaemon();
        var authName = fx.UniqueName("inproc-auth");
        Assert.Equal(Errno.OK, Bootstrap.Publish(authName, daemon.BootstrapPort, out var pub));
        using var _pub = pub;
        using var root = daemon.Root.Port.MakeSend();
        var giverName = fx.UniqueName("gated");
        using var user = Child.Peer(fx.Dir, asNobody: true, "user-gated", giverName, authName);
        Assert.Equal("ready", await user.WaitForAsync("ready"));
        Assert.Equal(Errno.OK, Giver.Fetch(giverName, out var found));
        using var rv = found!;
        using var mine = new ReceivePort();
        string ids = "";
        Task<Errno> server;
        if (serverFirst)
        {
            server = Task.Run(() => Server(root, rv.Name, mine, out ids));
            Assert.True(await Until(() => daemon.PendingCount == 1));
            user.Send("go");
        }
        else
        {
            user.Send("go");
            Assert.True(await Until(() => daemon.PendingCount == 1));
            server = Task.Run(() => Server(root, rv.Name, mine, out ids));
        }
        Assert.Equal(Errno.OK, await server);
        Assert.Equal("euids=[65534] auids=[65534,65534] egids=[65534] agids=[65534,65534]", ids);
        Assert.Equal($"user OK {Environment.ProcessId}", await user.WaitForAsync("user"));
        Assert.Equal(0, daemon.PendingCount);
    }

    [Theory(Timeout = 120_000)]
    [InlineData("wait-user")]
    [InlineData("wait-server")]
    public async Task AWaitingHalf_IsDropped_WhenItsProcessDies(string mode)
    {
        // An auth daemon in this process, published under its own name; a child (as nobody) waits in one half.
        using var daemon = new AuthDaemon();
        var name = fx.UniqueName("inproc-auth");
        Assert.Equal(Errno.OK, Bootstrap.Publish(name, daemon.BootstrapPort, out var pub));
        using var _pub = pub;
        using var child = Child.Peer(fx.Dir, asNobody: true, mode, name);
        Assert.Equal("waiting", await child.WaitForAsync("waiting"));
        Assert.True(await Until(() => daemon.PendingCount == 1));
        child.Kill();
        Assert.True(await Until(() => daemon.PendingCount == 0));
    }
}
