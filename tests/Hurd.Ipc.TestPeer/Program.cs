using System.Runtime.InteropServices;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Interop;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;
using Hurd.Ipc.Transport;

namespace Hurd.Ipc.Testing;

/// <summary>
/// The IPC tests' child process. Modes (the bootstrap directory comes from HURD_RUNTIME_DIR):
/// <code>
/// server NAME            publish a TestService under NAME, print "ready PID", serve
/// client NAME T N        T threads x N Echo calls with unique values; print "ok CALLS" or "fail ..."
/// hold NAME              look NAME up, print "holding", sleep until killed
/// flood NAME T           T threads calling Slow(20) without pause, until killed
/// hostile NAME SECRET    drop to uid/gid 65534, then try to reach what it was never given; print a verdict per attempt
/// </code>
/// Every line of output is flushed at once; the parent reads it. Every mode exits when its stdin reaches its end
/// (the parent died or closed it), so no child outlives its test.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        Console.Out.Flush();
        var o = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
        Console.SetOut(o);
        // Never outlive the test: when the parent goes away, our stdin reaches its end.
        new Thread(() => { try { Console.In.ReadToEnd(); } catch { } Environment.Exit(0); }) { IsBackground = true }.Start();
        try
        {
            return args[0] switch
            {
                "server" => Server(args[1]),
                "client" => Client(args[1], int.Parse(args[2]), int.Parse(args[3])),
                "hold" => Hold(args[1]),
                "flood" => Flood(args[1], int.Parse(args[2])),
                "hostile" => Hostile(args[1], uint.Parse(args[2])),
                _ => 2,
            };
        }
        catch (Exception e)
        {
            Console.WriteLine($"fail exception {e.GetType().Name}: {e.Message}");
            return 1;
        }
    }

    private static int Server(string name)
    {
        var svc = new TestService();
        var port = svc.CreatePort();
        var e = Bootstrap.Publish(name, port, out var pub);
        if (e != Errno.OK) { Console.WriteLine($"fail publish {e}"); return 1; }
        svc.MadePortNoSenders += p => Console.WriteLine($"nosenders {p.Name.Value}");
        Console.WriteLine($"ready {Environment.ProcessId}");
        // Serve until the parent closes our stdin (the watchdog exits) or kills us.
        Thread.Sleep(Timeout.Infinite);
        GC.KeepAlive(pub);
        return 0;
    }

    private static SendRight LookupOrDie(string name)
    {
        var e = Bootstrap.Lookup(name, out var r, 10_000);
        if (e != Errno.OK) { Console.WriteLine($"fail lookup {e}"); Environment.Exit(1); }
        return r!;
    }

    private static int Client(string name, int threads, int calls)
    {
        using var r = LookupOrDie(name);
        int bad = 0; long done = 0;
        string? firstError = null;
        var ts = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int tid = t;
            ts[t] = new Thread(() =>
            {
                long baseValue = ((long)Environment.ProcessId << 32) | ((long)tid << 24);
                for (int i = 0; i < calls; i++)
                {
                    long x = baseValue + i;
                    var e = TestClient.Echo(r, x, out long y, Environment.TickCount64 + 20_000);
                    if (e != Errno.OK || y != x)
                    {
                        Interlocked.Increment(ref bad);
                        Interlocked.CompareExchange(ref firstError, $"{e} x={x} y={y}", null);
                        if (e != Errno.OK) return;
                    }
                    else Interlocked.Increment(ref done);
                }
            });
            ts[t].Start();
        }
        foreach (var t in ts) t.Join();
        Console.WriteLine(bad == 0 ? $"ok {done}" : $"fail {bad} {firstError}");
        return bad == 0 ? 0 : 1;
    }

    private static int Hold(string name)
    {
        var r = LookupOrDie(name);
        var e = TestClient.MakePort(r, out var made);
        Console.WriteLine(e == Errno.OK ? "holding" : $"fail {e}");
        Thread.Sleep(Timeout.Infinite);
        GC.KeepAlive(made);
        GC.KeepAlive(r);
        return 0;
    }

    private static int Flood(string name, int threads)
    {
        var r = LookupOrDie(name);
        for (int t = 0; t < threads; t++)
            new Thread(() => { while (true) { TestClient.Slow(r, 20); TestClient.Notify(r); } }) { IsBackground = true }.Start();
        Console.WriteLine("flooding");
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    /// <summary>
    /// Tries to reach ports it was never given. Prints one line per attempt: "PASS what" when the attempt
    /// failed as it must, "BREACH what" when it got through. Ends with "done".
    /// </summary>
    private static unsafe int Hostile(string name, uint secret)
    {
        // A legitimately looked-up endpoint: our own connection to the server.
        using var r = LookupOrDie(name);
        bool dropped = Libc.setresgid(65534, 65534, 65534) == 0 && Libc.setresuid(65534, 65534, 65534) == 0;
        if (!dropped) Console.WriteLine($"note cannot drop privileges (errno {Libc.Errno}): a process of the same user may read /proc/PID/fd");
        var conn = r.Entry.Conn!;
        int serverPid = conn.Peer.Pid;

        // 1. Replay the handle another client holds (bytes it saw), and guess handles near it and at random.
        var rng = new Random(42);
        int reached = 0;
        var guesses = new List<uint> { secret, secret ^ 1, secret + 1, secret - 1, 1, 2, 3, 0x100, 0x101 };
        for (int i = 0; i < 2000; i++) guesses.Add((uint)rng.Next());
        foreach (uint h in guesses)
        {
            if (h == r.Entry.Handle) continue;
            var call = conn.BeginCall(h, TestIds.Echo);
            try
            {
                call.Request.WriteInt64(7);
                call.DeadlineMs = Environment.TickCount64 + 5000;
                if (call.Invoke() == Errno.OK) reached++;
            }
            finally { call.Dispose(); }
        }
        Console.WriteLine(reached == 0 ? "PASS guess-and-replay" : $"BREACH guess-and-replay {reached}");

        // 2. Open the server's shared memory through /proc or /dev/shm.
        int opened = 0, tried = 0;
        foreach (var dir in new[] { $"/proc/{serverPid}/fd", $"/proc/{serverPid}/map_files" })
        {
            string[] entries;
            try { entries = Directory.GetFileSystemEntries(dir); }
            catch (Exception) { tried++; continue; }
            foreach (var f in entries)
            {
                tried++;
                try { using var fs = File.Open(f, System.IO.FileMode.Open, FileAccess.ReadWrite); opened++; } catch (Exception) { }
            }
        }
        try
        {
            foreach (var f in Directory.GetFiles("/dev/shm"))
            {
                tried++;
                if (f.Contains("hurd", StringComparison.OrdinalIgnoreCase)) { try { using var fs = File.Open(f, System.IO.FileMode.Open, FileAccess.ReadWrite); opened++; } catch (Exception) { } }
            }
        }
        catch (Exception) { }
        if (!dropped && Self.Uid == conn.Peer.Uid) Console.WriteLine($"PASS open-shared-memory skipped: same user, not root (opened={opened})");
        else Console.WriteLine(opened == 0 ? $"PASS open-shared-memory tried={tried}" : $"BREACH open-shared-memory {opened}");

        // 3. Garbage straight into the ring and the call slots (the server must survive and keep serving others).
        //    First a well-formed call record whose slot holds garbage, then random bytes over the ring.
        if (!conn.TryAddRef()) { Console.WriteLine("fail connection gone"); return 1; }
        byte* mem = conn.DebugBase; // stays mapped while we hold the reference, even after the server hangs up
        int side = conn.Side;
        var slotReq = mem + Layout.RequestArea(side, 5);
        for (int i = 0; i < 4096; i++) slotReq[i] = (byte)rng.Next();
        ((MessageHeader*)slotReq)->BodySize8 = 0xFFFF;
        byte* ring = mem + Layout.RingData(side);
        int* head = (int*)(mem + Layout.RingHeader(side));
        int h0 = *head & Layout.PosMask;
        byte* rec = ring + (h0 & Layout.RingMask);
        *(uint*)rec = 24; *(ushort*)(rec + 4) = Layout.RecCall; *(int*)(rec + 8) = 5; *(ulong*)(rec + 16) = 12345;
        *(uint*)(rec + 24) = 24; *(ushort*)(rec + 28) = Layout.RecCall; *(int*)(rec + 32) = 999; *(ulong*)(rec + 40) = 1;
        *(uint*)(rec + 48) = 16; *(ushort*)(rec + 52) = Layout.RecMessage; // too short for a message header
        Interlocked.Exchange(ref *head, (h0 + 64) & Layout.PosMask);
        long one = 1; Libc.write(conn.DebugPeerDoorbell, &one, 8);
        Thread.Sleep(200);
        int h1 = *head & Layout.PosMask;
        for (int i = 0; i < 8192; i++) ring[(h1 + i) & Layout.RingMask] = (byte)rng.Next();
        Interlocked.Exchange(ref *head, (h1 + 4096) & Layout.PosMask);
        Libc.write(conn.DebugPeerDoorbell, &one, 8);
        Thread.Sleep(200);
        Interlocked.Exchange(ref *head, rng.Next());
        Libc.write(conn.DebugPeerDoorbell, &one, 8);
        Thread.Sleep(200);
        Console.WriteLine("PASS garbage-written");
        Console.WriteLine("done");
        return 0;
    }
}
