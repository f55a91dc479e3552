using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Transport;

namespace Hurd.Auth.Tests;

/// <summary>The auth daemon as a real process: handles, makeauth rules, bootstrap from kernel credentials,
/// the rendezvous between processes, and hostile input.</summary>
[Collection("auth")]
public class AuthTests(AuthFixture fx)
{
    private const string RootIds = "euids=[0] auids=[0,0] egids=[0] agids=[0,0]";

    [Fact(Timeout = 60_000)]
    public Task Root_GetsTheRootHandle_AndMayMakeAnything() => Task.Run(() =>
    {
        using var root = A.Connect();
        Assert.Equal(RootIds, A.Ids(root));
        Assert.Equal(Errno.OK, A.Make(root, [], [1000], [1000, 1000], [1000, 100], [1000, 1000], out var h));
        using (h) Assert.Equal("euids=[1000] auids=[1000,1000] egids=[1000,100] agids=[1000,1000]", A.Ids(h!));
        Assert.Equal(Errno.OK, A.Make(root, [], [], [], [], [], out var none));
        using (none) Assert.Equal("euids=[] auids=[] egids=[] agids=[]", A.Ids(none!));
    });

    [Fact(Timeout = 60_000)]
    public Task NonRoot_OnlySubsetsAndCombines() => Task.Run(() =>
    {
        using var root = A.Connect();
        Assert.Equal(Errno.OK, A.Make(root, [], [1000], [1000, 1001], [1000, 100], [1000], out var h1000));
        Assert.Equal(Errno.OK, A.Make(root, [], [2000], [2000], [2000], [2000], out var h2000));
        using (h1000) using (h2000)
        {
            // Dropping and reordering held ids (effective or available) is allowed.
            Assert.Equal(Errno.OK, A.Make(h1000!, [], [1001], [1000], [100], [], out var sub));
            using (sub) Assert.Equal("euids=[1001] auids=[1000] egids=[100] agids=[]", A.Ids(sub!));
            // New ids are not.
            Assert.Equal(Errno.EPERM, A.Make(h1000!, [], [0], [], [], [], out _));
            Assert.Equal(Errno.EPERM, A.Make(h1000!, [], [], [0], [], [], out _));
            Assert.Equal(Errno.EPERM, A.Make(h1000!, [], [2000], [], [], [], out _));
            Assert.Equal(Errno.EPERM, A.Make(h1000!, [], [], [], [0], [], out _));
            Assert.Equal(Errno.EPERM, A.Make(h1000!, [], [], [], [], [5], out _));
            // Another handle passed contributes its ids.
            Assert.Equal(Errno.OK, A.Make(h1000!, [h2000!.Copy()], [1000, 2000], [2000], [100, 2000], [], out var both));
            using (both) Assert.Equal("euids=[1000,2000] auids=[2000] egids=[100,2000] agids=[]", A.Ids(both!));
            Assert.Equal(Errno.EPERM, A.Make(h1000!, [h2000!.Copy()], [3000], [], [], [], out _));
            // A root handle among the others allows anything.
            Assert.Equal(Errno.OK, A.Make(h1000!, [root.Copy()], [0], [0], [0], [0], out var r2));
            using (r2) Assert.Equal("euids=[0] auids=[0] egids=[0] agids=[0]", A.Ids(r2!));
            // A port that is not an auth handle is refused.
            using var other = new ReceivePort();
            Assert.Equal(Errno.EINVAL, A.Make(h1000!, [other.MakeSend()], [1000], [], [], [], out _));
            // Too many ids.
            Assert.Equal(Errno.E2BIG, A.Make(root, [], new uint[HurdLimits.IdsMax + 1], [], [], [], out _));
        }
    });

    [Fact(Timeout = 60_000)]
    public Task Handle_IsFreed_WhenTheLastClientDropsIt() => Task.Run(() =>
    {
        using var root = A.Connect();
        Assert.Equal(Errno.OK, A.Make(root, [], [4242], [], [], [], out var h));
        var copy = h!.Copy();
        h.Dispose();
        Assert.Equal("euids=[4242] auids=[] egids=[] agids=[]", A.Ids(copy));
        var weak = copy.Name;
        // Dropping the last right frees the handle in the daemon (no-senders); we only can observe that
        // nothing breaks and new handles keep working.
        copy.Dispose();
        Assert.Equal(Errno.OK, A.Make(root, [], [4243], [], [], [], out var h2));
        using (h2) Assert.Equal("euids=[4243] auids=[] egids=[] agids=[]", A.Ids(h2!));
        Assert.NotEqual(default, weak);
    });

    [Fact(Timeout = 120_000)]
    public async Task Nobody_GetsOnlyItsOwnIds_AndCannotObtainRoot()
    {
        using var p = Child.Peer(fx.Dir, asNobody: true, "ids");
        Assert.Equal("ids euids=[65534] auids=[65534,65534] egids=[65534] agids=[65534,65534]", await p.WaitForAsync("ids"));
        Assert.Equal("makeauth-root EPERM", await p.WaitForAsync("makeauth-root "));
        Assert.Equal("makeauth-root-self-other EPERM", await p.WaitForAsync("makeauth-root-self-other"));
        Assert.Equal("makeauth-gid0 EPERM", await p.WaitForAsync("makeauth-gid0"));
        Assert.Equal("makeauth-subset OK euids=[65534] auids=[] egids=[] agids=[]", await p.WaitForAsync("makeauth-subset"));
        Assert.Equal("claim euids=[65534] auids=[65534,65534] egids=[65534] agids=[65534,65534]", await p.WaitForAsync("claim"));
        Assert.Equal("done", await p.WaitForAsync("done"));
    }

    [Fact(Timeout = 120_000)]
    public async Task Rendezvous_UserHereServerInAnotherProcess()
    {
        using var root = A.Connect();
        Assert.Equal(Errno.OK, A.Make(root, [], [1000], [1000, 1000], [1000, 27], [1000, 1000], out var user));
        using var _u = user;
        using var r = new ReceivePort();
        var name = fx.UniqueName("rv");
        var (giver, pub) = A.PublishGiver(name, r);
        using var _g = giver; using var _p = pub;
        // The user arrives first and waits; the server (another process, root) arrives later.
        var userTask = Task.Run(() => { var e = new AuthClient(user!).auth_user_authenticate(r.Name, out var np); return (e, np); });
        using var server = Child.Peer(fx.Dir, asNobody: false, "server", name);
        Assert.Equal("server OK euids=[1000] auids=[1000,1000] egids=[1000,27] agids=[1000,1000]", await server.WaitForAsync("server"));
        var (ue, np) = await userTask;
        Assert.Equal(Errno.OK, ue);
        using var newport = SendRight.FromName(np);
        Assert.NotNull(newport);
        Assert.Equal(server.Pid, newport!.Peer?.Pid);
    }

    [Fact(Timeout = 120_000)]
    public async Task Rendezvous_ServerHereUserAsNobody_ServerLearnsNobodysIds()
    {
        using var root = A.Connect();
        var name = fx.UniqueName("user");
        using var user = Child.Peer(fx.Dir, asNobody: true, "user-own", name);
        Assert.Equal("ready", await user.WaitForAsync("ready"));
        Assert.Equal(Errno.OK, Giver.Fetch(name, out var found));
        using var rv = found!;
        using var mine = new ReceivePort();
        uint[] a = new uint[64], b = new uint[64], c = new uint[64], d = new uint[64];
        int na = 0, nb = 0, nc = 0, nd = 0;
        var e = await Task.Run(() => new AuthClient(root).auth_server_authenticate(rv.Name, PortRight.MakeSend(mine.Name), a, out na, b, out nb, c, out nc, d, out nd));
        Assert.Equal(Errno.OK, e);
        Assert.Equal("euids=[65534] auids=[65534,65534] egids=[65534] agids=[65534,65534]", new AuthIds(a[..na], b[..nb], c[..nc], d[..nd]).ToString());
        Assert.Equal($"user OK {Environment.ProcessId}", await user.WaitForAsync("user"));
    }

    [Fact(Timeout = 120_000)]
    public async Task Rendezvous_EndsWithEDIED_WhenTheUserSideDies()
    {
        using var root = A.Connect();
        var name = fx.UniqueName("hold");
        using var holder = Child.Peer(fx.Dir, asNobody: false, "hold", name);
        Assert.Equal("hold OK", await holder.WaitForAsync("hold"));
        Assert.Equal(Errno.OK, Giver.Fetch(name, out var found));
        using var rv = found!;
        using var mine = new ReceivePort();
        var t = Task.Run(() => new AuthClient(root).auth_server_authenticate(rv.Name, PortRight.MakeSend(mine.Name),
            new uint[8], out _, new uint[8], out _, new uint[8], out _, new uint[8], out _));
        await Task.Delay(300);
        Assert.False(t.IsCompleted);
        holder.Kill();
        Assert.Equal(Errno.EDIED, await t);
    }

    [Fact(Timeout = 60_000)]
    public async Task Rendezvous_EndsWithEDIED_WhenTheRendezvousPortIsDestroyed()
    {
        using var root = A.Connect();
        var r = new ReceivePort();
        var t = Task.Run(() => new AuthClient(root).auth_user_authenticate(r.Name, out _));
        await Task.Delay(300);
        Assert.False(t.IsCompleted);
        r.Dispose();
        Assert.Equal(Errno.EDIED, await t);
    }

    [Fact(Timeout = 60_000)]
    public async Task Rendezvous_IsInterruptedByADeadlineOrCancellation()
    {
        using var root = A.Connect();
        using var r = new ReceivePort();
        var c = new AuthClient(root) { TimeoutMs = 500 };
        Assert.Equal(Errno.ETIMEDOUT, await Task.Run(() => c.auth_user_authenticate(r.Name, out _)));
        using var cts = new CancellationTokenSource();
        var c2 = new AuthClient(root) { Cancellation = cts.Token };
        var t = Task.Run(() => c2.auth_user_authenticate(r.Name, out _));
        await Task.Delay(300);
        cts.Cancel();
        Assert.Equal(Errno.EINTR, await t);
    }

    [Fact(Timeout = 60_000)]
    public Task Garbage_DoesNotCrashTheDaemon() => Task.Run(() =>
    {
        using var root = A.Connect();
        Assert.Equal(Errno.OK, Bootstrap.Lookup("auth", out var ap));
        using var _ap = ap;
        var rnd = new Random(7);
        var buf = new byte[512];
        foreach (var target in new[] { ap!, root })
        {
            foreach (uint id in new uint[] { 0, 1, 25000, 25001, 25002, 25003, 25100, 25101, 99999, uint.MaxValue })
            {
                for (int i = 0; i < 5; i++)
                {
                    rnd.NextBytes(buf);
                    var call = target.BeginCall(id);
                    call.Request.WriteBytes(buf.AsSpan(0, rnd.Next(buf.Length)));
                    call.DeadlineMs = Environment.TickCount64 + 5000;
                    var e = call.Invoke();
                    call.Dispose();
                    Assert.NotEqual(Errno.EDIED, e);
                }
            }
        }
        Assert.Equal(RootIds, A.Ids(root));
        using var again = A.Connect();
        Assert.Equal(RootIds, A.Ids(again));
    });
}
