using System.Diagnostics;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;
using Hurd.Ipc.Testing;
using Hurd.Ipc.Transport;
using Xunit.Abstractions;

namespace Hurd.Ipc.Tests;

/// <summary>The shared-memory transport, between this process and real child processes (Hurd.Ipc.TestPeer).</summary>
public class CrossProcessTests(ITestOutputHelper output)
{
    private static async Task<(Peer, SendRight)> StartServer(string what)
    {
        var name = TestRuntime.UniqueName(what);
        var peer = new Peer("server", name);
        try
        {
            var ready = await peer.WaitForAsync("ready");
            Assert.StartsWith("ready", ready);
            Assert.Equal(Errno.OK, Bootstrap.Lookup(name, out var r, 10_000));
            return (peer, r!);
        }
        catch
        {
            peer.Dispose();
            throw;
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Bootstrap_LookupOfAPublishedName_GivesAWorkingSendRight()
    {
        var (svc, port, pub, name) = TestRuntime.PublishService("boot");
        using (port) using (pub)
        {
            Assert.True(File.Exists(Bootstrap.PathOf(name)));
            Assert.Equal(Errno.OK, Bootstrap.Lookup(name, out var r));
            using (r)
            {
                Assert.False(r!.IsLocal);
                Assert.Equal(Errno.OK, TestClient.Echo(r, 5, out long y));
                Assert.Equal(5, y);
            }
            Assert.Equal(Errno.ENOENT, Bootstrap.Lookup(name + "-missing", out _));
            Assert.Equal(Errno.EADDRINUSE, Bootstrap.Publish(name, port, out _));
            // A translator's control port lives under a per-translator name.
            var ctl = $"translators/{name}";
            Assert.Equal(Errno.OK, Bootstrap.Publish(ctl, port, out var ctlPub));
            using (ctlPub)
            {
                Assert.StartsWith(Bootstrap.ServersDirectory, ctlPub!.Path);
                Assert.Equal(Errno.OK, Bootstrap.Lookup(ctl, out var c));
                using (c) Assert.Equal(Errno.OK, TestClient.Null(c!));
            }
        }
        await Task.Yield();
        Assert.False(File.Exists(Bootstrap.PathOf(name)));
    }

    [Fact(Timeout = 60_000)]
    public async Task Call_AcrossProcesses_EchoesAndTheServerSeesKernelAttestedSender()
    {
        var (peer, r) = await StartServer("attest");
        using (peer) using (r)
        {
            Assert.Equal(Errno.OK, TestClient.Echo(r, 1234567890123, out long y));
            Assert.Equal(1234567890123, y);
            Assert.Equal(Errno.OK, TestClient.GetSender(r, out var c));
            Assert.Equal(Environment.ProcessId, c.Pid);
            Assert.Equal(Interop.Self.Uid, c.Uid);
            Assert.Equal(Interop.Self.Gid, c.Gid);
            Assert.Equal(peer.Pid, r.Peer!.Value.Pid);
            var call = r.BeginCall(4242);
            try { Assert.Equal(Errno.MIG_BAD_ID, call.Invoke()); } finally { call.Dispose(); }
            for (int i = 0; i < 1000; i++) Assert.Equal(Errno.OK, TestClient.Notify(r));
            Assert.Equal(Errno.OK, TestClient.GetCount(r, out long n));
            Assert.Equal(1000, n);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task RightTransfer_AcrossProcesses_BothDirections()
    {
        var (peer, r) = await StartServer("rights");
        using (peer) using (r)
        {
            // Server to client: a right to a new port in the server.
            Assert.Equal(Errno.OK, TestClient.MakePort(r, out var made));
            using (made)
            {
                Assert.False(made!.IsLocal);
                Assert.Equal(Errno.OK, TestClient.Echo(made, 77, out long y));
                Assert.Equal(77, y);
                // Client to server: a right to the server's own port comes back as a local right there.
                Assert.Equal(Errno.OK, TestClient.CallBack(r, made.Name, Disposition.CopySend, 3, out y));
                Assert.Equal(3, y);
            }
            // Client to server: a right to a port of ours; the server calls back into this process.
            var mine = new TestService();
            using var myPort = mine.CreatePort();
            Assert.Equal(Errno.OK, TestClient.CallBack(r, myPort.Name, Disposition.MakeSend, 41, out long z));
            Assert.Equal(41, z);
            Assert.Equal(1, mine.Calls);
            // The server dropped its right after the callback: no senders left here.
            for (int i = 0; i < 100 && myPort.SendRightCount != 0; i++) await Task.Delay(20);
            Assert.Equal(0, myPort.SendRightCount);
            // A made port destroyed by the server becomes a dead name here.
            Assert.Equal(Errno.OK, TestClient.MakePort(r, out var doomed));
            using (doomed)
            {
                var dead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                doomed!.OnDeadName(_ => dead.TrySetResult());
                Assert.Equal(Errno.OK, TestClient.DestroyMade(r));
                await dead.Task.WaitAsync(TimeSpan.FromSeconds(10));
                Assert.Equal(Errno.EDIED, TestClient.Echo(doomed, 1, out _));
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task SendOnceRight_AcrossProcesses_CarriesExactlyOneCall_AndIsCounted()
    {
        var (peer, r) = await StartServer("sendonce");
        using (peer) using (r)
        {
            // Server to client: a send-once right to a new port in the server.
            Assert.Equal(Errno.OK, TestClient.MakeSendOnce(r, out var once));
            Assert.True(once!.IsSendOnce);
            Assert.Equal(RightKind.SendOnce, IpcSpace.Current.KindOf(once.Name));
            Assert.Equal(Errno.OK, TestClient.Echo(once, 71, out long y));
            Assert.Equal(71, y);
            Assert.Equal(Errno.EBADF, TestClient.Echo(once, 72, out _));
            Assert.Equal(Errno.EBADF, TestClient.BulkSum(once, new byte[100_000], out _, out _));
            Assert.Equal(RightKind.None, IpcSpace.Current.KindOf(once.Name));
            once.Dispose();
            // The grant travelled with the call: the server's port lost its only sender.
            Assert.StartsWith("nosenders", await peer.WaitForAsync("nosenders"));

            // Unused and moved back to its owner: the owner gets a send-once right to its own port, used once there.
            Assert.Equal(Errno.OK, TestClient.MakeSendOnce(r, out var back));
            Assert.Equal(Errno.EINVAL, TestClient.CallBack(r, back!.Name, Disposition.CopySend, 1, out _));
            Assert.Equal(Errno.OK, TestClient.CallBack(r, back.Name, Disposition.MoveSendOnce, 73, out y));
            Assert.Equal(73, y);
            Assert.Equal(Errno.EBADF, TestClient.Echo(back, 74, out _));
            back.Dispose();
            Assert.StartsWith("nosenders", await peer.WaitForAsync("nosenders"));

            // Client to server: a send-once right to a port of ours; the server calls back through it once.
            var mine = new TestService();
            using var myPort = mine.CreatePort();
            var gone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            myPort.NoSenders += _ => gone.TrySetResult();
            Assert.Equal(Errno.OK, TestClient.CallBack(r, myPort.Name, Disposition.MakeSendOnce, 75, out y));
            Assert.Equal(75, y);
            Assert.Equal(1, mine.Calls);
            await gone.Task.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(0, myPort.SendRightCount);
        }
    }

    [Fact(Timeout = 90_000)]
    public async Task OneWayStream_WrapsTheRingManyTimes_EveryMessageArrivesInOrderWithCalls()
    {
        // 300,000 one-way messages (~30 MB through a 4 MiB ring): a burst (wraps, a producer waiting for room),
        // then a call every 1000 (early rewinds, as the server keeps up): the counts match at each call.
        var (peer, r) = await StartServer("stream");
        using (peer) using (r)
        {
            await Task.Run(() =>
            {
                // A burst with no call: the producer runs ahead (natural wraps, waits for room when the ring is full).
                for (int i = 0; i < 200_000; i++) Assert.Equal(Errno.OK, TestClient.Notify(r));
                Assert.Equal(Errno.OK, TestClient.GetCount(r, out long first));
                Assert.Equal(200_000, first);
                for (int i = 200_001; i <= 300_000; i++)
                {
                    Assert.Equal(Errno.OK, TestClient.Notify(r));
                    if (i % 1000 == 0)
                    {
                        Assert.Equal(Errno.OK, TestClient.GetCount(r, out long n));
                        Assert.Equal(i, n);
                    }
                }
            }).WaitAsync(TimeSpan.FromSeconds(80));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task LargestInlineMessage_AtTheRewindPoint_IsSent()
    {
        // On a fresh connection: 1636 empty one-way messages (40-byte records) and 4 calls (24-byte records) put the
        // ring's head at exactly 64 KiB with the server caught up, where the producer may rewind to the start; the
        // largest inline message (64 KiB with its header) must still fit (pad + record would not).
        var (peer, r) = await StartServer("rewind");
        using (peer) using (r)
        {
            await Task.Run(() =>
            {
                for (int i = 0; i < 1636; i++) Assert.Equal(Errno.OK, TestClient.Notify(r));
                for (int i = 0; i < 4; i++) Assert.Equal(Errno.OK, TestClient.GetCount(r, out _));
                var call = r.BeginCall(TestIds.Notify);
                try
                {
                    call.Request.WriteBytes(new byte[64 * 1024 - 32 - 4]);
                    call.DeadlineMs = Environment.TickCount64 + 10_000;
                    Assert.Equal(Errno.OK, call.Send());
                }
                finally { call.Dispose(); }
                Assert.Equal(Errno.OK, TestClient.GetCount(r, out long n));
                Assert.Equal(1637, n);
            }).WaitAsync(TimeSpan.FromSeconds(50));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task MoreConcurrentCallsThanSlots_AllComplete()
    {
        // 96 threads on one connection (64 call slots): the extra callers wait for a slot, none fails.
        var (svc, port, pub, name) = TestRuntime.PublishService("slots");
        using (port) using (pub)
        {
            Assert.Equal(Errno.OK, Bootstrap.Lookup(name, out var r));
            using (r)
            {
                var results = await Task.WhenAll(Enumerable.Range(0, 96).Select(i => Task.Factory.StartNew(
                    () => TestClient.Slow(r!, 20, Environment.TickCount64 + 40_000), TaskCreationOptions.LongRunning)))
                    .WaitAsync(TimeSpan.FromSeconds(50));
                Assert.All(results, e => Assert.Equal(Errno.OK, e));
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task CallsAndOneWayMessages_OverSharedMemory_AllocateNothingOnTheCallingThread()
    {
        var (svc, port, pub, name) = TestRuntime.PublishService("alloc");
        using (port) using (pub)
        {
            Assert.Equal(Errno.OK, Bootstrap.Lookup(name, out var r));
            using (r)
            {
                Assert.False(r!.IsLocal);
                long allocated = await Task.Factory.StartNew(() =>
                {
                    for (int i = 0; i < 2000; i++) { TestClient.Notify(r); TestClient.Echo(r, i, out _); }
                    int failures = 0;
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    for (int i = 0; i < 10_000; i++)
                    {
                        if (TestClient.Notify(r) != Errno.OK) failures++;
                        if (i % 10 == 0 && TestClient.Echo(r, i, out _) != Errno.OK) failures++;
                    }
                    long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
                    Assert.Equal(0, failures);
                    return bytes;
                }, TaskCreationOptions.LongRunning).WaitAsync(TimeSpan.FromSeconds(50));
                output.WriteLine($"{allocated} bytes allocated for 11,000 calls and messages");
                Assert.True(allocated < 1024, $"{allocated} bytes allocated for 11,000 calls and messages");
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task SecondLookup_OfTheSameServer_MergesIntoTheOpenConnection()
    {
        var name = TestRuntime.UniqueName("merge");
        using var peer = new Peer("server", name);
        Assert.StartsWith("ready", await peer.WaitForAsync("ready"));
        Assert.Equal(Errno.OK, Bootstrap.Lookup(name, out var a, 10_000));
        using (a)
        {
            Assert.Equal(Errno.OK, Bootstrap.Lookup(name, out var b, 10_000));
            using (b)
            {
                Assert.Equal(Errno.OK, TestClient.ConnCount(a!, out int n));
                Assert.Equal(1, n);
                Assert.Equal(a!.Name, b!.Name); // one send right, two user references
                Assert.Equal(2, IpcSpace.Current.RefCount(a.Name));
                Assert.Equal(Errno.OK, TestClient.Echo(b, 8, out long y));
                Assert.Equal(8, y);
            }
            Assert.Equal(Errno.OK, TestClient.Echo(a!, 9, out long z));
            Assert.Equal(9, z);
        }
    }

    [Fact(Timeout = 90_000)]
    public async Task ThirdPartyRight_MovesBetweenTwoOtherProcesses_AndIsCountedForNoSenders()
    {
        var (s1, r1) = await StartServer("third-a");
        using (s1) using (r1)
        {
        var (s2, r2) = await StartServer("third-b");
        using (s2) using (r2)
        {
            // A right to a port in s1, held by us, sent to s2: s2 must reach s1 directly.
            Assert.Equal(Errno.OK, TestClient.MakePort(r1, out var made));
            using (made)
            {
                Assert.Equal(Errno.OK, TestClient.CallBack(r2, made!.Name, Disposition.CopySend, 11, out long y));
                Assert.Equal(11, y);
                // Again: now s2 already has a connection to s1 and merges the right into it.
                Assert.Equal(Errno.OK, TestClient.CallBack(r2, made.Name, Disposition.CopySend, 12, out y));
                Assert.Equal(12, y);
                // And the published port of s1 itself.
                Assert.Equal(Errno.OK, TestClient.CallBack(r2, r1.Name, Disposition.CopySend, 13, out y));
                Assert.Equal(13, y);
                // s2 has two connections: ours, and the one it set up to s1 the first time (later rights merged into it).
                Assert.Equal(Errno.OK, TestClient.ConnCount(r2, out int conns));
                Assert.Equal(2, conns);
                // s1 attests s2 (not itself, not us) as the sender on the connection a ticket set up.
                Assert.Equal(Errno.OK, TestClient.SenderVia(r2, made.Name, out int seen));
                Assert.Equal(s2.Pid, seen);
            }
            // s2 dropped its copies after each callback and we dropped ours: s1 sees no senders on the made port.
            var line = await s1.WaitForAsync("nosenders", 20_000);
            Assert.StartsWith("nosenders", line);
            Assert.Equal(Errno.OK, TestClient.Echo(r1, 1, out _));
        }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task DeferredReplyAndBulk_AcrossProcesses()
    {
        var (peer, r) = await StartServer("defer");
        using (peer) using (r)
        {
            Assert.Equal(Errno.OK, TestClient.Defer(r, 100, out long y, Environment.TickCount64 + 10_000));
            Assert.Equal(101, y);
            foreach (int size in new[] { 64 << 10, 1 << 20 })
            {
                var data = new byte[size];
                new Random(size).NextBytes(data);
                ulong sum = 0; foreach (var b in data) sum += b;
                Assert.Equal(Errno.OK, TestClient.BulkSum(r, data, out int len, out ulong got));
                Assert.Equal(size, len);
                Assert.Equal(sum, got);
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task DeadlineAndInterrupt_AcrossConnections_CallerGetsErrorAndServerSeesCancellation()
    {
        var (svc, port, pub, name) = TestRuntime.PublishService("deadline");
        using (port) using (pub)
        {
            Assert.Equal(Errno.OK, Bootstrap.Lookup(name, out var r));
            using (r)
            {
                var e = TestClient.WaitCancel(r!, 20_000, out _, Environment.TickCount64 + 300);
                Assert.Equal(Errno.ETIMEDOUT, e);
                for (int i = 0; i < 200 && svc.CancelsSeen < 1; i++) await Task.Delay(25);
                Assert.Equal(1, svc.CancelsSeen);
                using var cts = new CancellationTokenSource(300);
                e = TestClient.WaitCancel(r!, 20_000, out _, ct: cts.Token);
                Assert.Equal(Errno.EINTR, e);
                for (int i = 0; i < 200 && svc.CancelsSeen < 2; i++) await Task.Delay(25);
                Assert.Equal(2, svc.CancelsSeen);
                // The connection still works.
                Assert.Equal(Errno.OK, TestClient.Echo(r!, 9, out long y));
                Assert.Equal(9, y);
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task ServerKilled_PendingAndLaterCallsFailWithEDIED()
    {
        var (peer, r) = await StartServer("dead");
        using (peer) using (r)
        {
            var deadName = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            r.OnDeadName(_ => deadName.TrySetResult());
            Assert.Equal(Errno.OK, TestClient.Echo(r, 1, out _));
            var pending = Task.Run(() => TestClient.WaitCancel(r, 30_000, out _));
            await Task.Delay(300);
            var sw = Stopwatch.StartNew();
            peer.Kill();
            var e = await pending.WaitAsync(TimeSpan.FromSeconds(20));
            output.WriteLine($"pending call failed after {sw.ElapsedMilliseconds} ms");
            Assert.Equal(Errno.EDIED, e);
            Assert.True(sw.ElapsedMilliseconds < 5000, $"took {sw.ElapsedMilliseconds} ms");
            await deadName.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(r.IsDead);
            // Every later call, whatever its arguments (a stub writes them before Invoke), fails with EDIED.
            Assert.Equal(Errno.EDIED, TestClient.Echo(r, 1, out _));
            Assert.Equal(Errno.EDIED, TestClient.BulkSum(r, new byte[1 << 20], out _, out _));
            Assert.Equal(Errno.EDIED, TestClient.Notify(r));
            Assert.Equal(Errno.EDIED, TestClient.Null(r));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task ServerKilled_CallsStartedRightAfterTheKillFailWithEDIED()
    {
        // No call pending at the kill: the first calls may start before the hang-up is seen, on the still-open
        // connection; they must end with EDIED too (the 200 ms wait slices check the peer), never a hang.
        var (peer, r) = await StartServer("dead2");
        using (peer) using (r)
        {
            var data = new byte[256 << 10];
            Assert.Equal(Errno.OK, TestClient.BulkSum(r, data, out _, out _));
            peer.Kill();
            Assert.True(peer.WaitForExit(10_000));
            var sw = Stopwatch.StartNew();
            var calls = Task.Run(() => new[]
            {
                TestClient.BulkSum(r, data, out _, out _),
                TestClient.Echo(r, 2, out _),
                TestClient.Null(r),
            });
            var results = await calls.WaitAsync(TimeSpan.FromSeconds(20));
            output.WriteLine($"calls after the kill failed within {sw.ElapsedMilliseconds} ms");
            Assert.All(results, e => Assert.Equal(Errno.EDIED, e));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task ClientKilled_ServerGetsNoSenders()
    {
        var (svc, port, pub, name) = TestRuntime.PublishService("nosenders");
        using (port) using (pub)
        {
            var ns = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            svc.MadePortNoSenders += _ => ns.TrySetResult();
            var published = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            port.NoSenders += _ => published.TrySetResult();
            using var holder = new Peer("hold", name);
            Assert.Equal("holding", await holder.WaitForAsync("holding"));
            Assert.False(ns.Task.IsCompleted);
            Assert.True(port.SendRightCount > 0);
            holder.Kill();
            await ns.Task.WaitAsync(TimeSpan.FromSeconds(20));
            await published.Task.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(0, port.SendRightCount);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task SixtyFourClients_TenThousandCallsEach_EveryReplyMatchesItsCall()
    {
        var (svc, port, pub, name) = TestRuntime.PublishService("stress");
        using (port) using (pub)
        {
            const int processes = 4, threads = 16, calls = 10_000;
            var sw = Stopwatch.StartNew();
            var peers = new List<Peer>();
            try
            {
                for (int i = 0; i < processes; i++) peers.Add(new Peer("client", name, threads.ToString(), calls.ToString()));
                foreach (var p in peers)
                {
                    var line = await p.WaitForAsync("ok", 100_000);
                    Assert.Equal($"ok {threads * calls}", line);
                }
            }
            finally { foreach (var p in peers) p.Dispose(); }
            output.WriteLine($"{processes * threads} clients x {calls} calls in {sw.ElapsedMilliseconds} ms");
        }
    }

    [Fact(Timeout = 90_000)]
    public async Task FloodingClient_DoesNotStarveANormalOne()
    {
        var (svc, port, pub, name) = TestRuntime.PublishService("flood");
        using (port) using (pub)
        {
            using var flood = new Peer("flood", name, "24");
            Assert.Equal("flooding", await flood.WaitForAsync("flooding"));
            await Task.Delay(500);
            var sw = Stopwatch.StartNew();
            using var normal = new Peer("client", name, "2", "200");
            Assert.Equal("ok 400", await normal.WaitForAsync("ok", 60_000));
            output.WriteLine($"normal client served in {sw.ElapsedMilliseconds} ms beside the flood");
        }
    }

    [Fact(Timeout = 90_000)]
    public async Task HostileProcess_CannotForgeRightsOrOpenSharedMemory_AndServerSurvivesGarbage()
    {
        var (svc, port, pub, name) = TestRuntime.PublishService("hostile");
        using (port) using (pub)
        {
            // A legitimate client gets a secret port; the hostile process learns its raw handle (bytes it saw).
            Assert.Equal(Errno.OK, Bootstrap.Lookup(name, out var legit));
            using (legit)
            {
                Assert.Equal(Errno.OK, TestClient.MakePort(legit!, out var secret));
                using (secret)
                {
                    uint handle = secret!.Entry.Handle;
                    int before = svc.Calls;
                    using var hostile = new Peer("hostile", name, handle.ToString());
                    var lines = new List<string>();
                    while (true)
                    {
                        var l = await hostile.ReadLineAsync(60_000);
                        if (l is null || l == "done") break;
                        lines.Add(l);
                        output.WriteLine(l);
                    }
                    Assert.DoesNotContain(lines, l => l.StartsWith("BREACH") || l.StartsWith("fail"));
                    Assert.Contains("PASS guess-and-replay", lines);
                    Assert.Contains(lines, l => l.StartsWith("PASS open-shared-memory"));
                    Assert.Contains("PASS garbage-written", lines);
                    Assert.Equal(before, svc.Calls); // no guessed call reached any handler
                    // The server keeps serving the others.
                    Assert.Equal(Errno.OK, TestClient.Echo(legit!, 5, out long y));
                    Assert.Equal(5, y);
                    Assert.Equal(Errno.OK, TestClient.Echo(secret, 6, out y));
                    Assert.Equal(6, y);
                }
            }
        }
    }
}
