using System.Diagnostics;
using System.IO.Pipes;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Interop;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;
using Hurd.Ipc.Transport;

namespace Hurd.Benchmarks;

/// <summary>
/// The `ipc` benchmark: our RPC core against a C# Unix domain socket and a pipe, across two processes,
/// interleaved in rounds (medians of the per-round medians are printed, one `name value unit` line each).
/// <code>
/// dotnet run -c Release --project tests/Hurd.Benchmarks -- ipc [--quick] [--rounds N]
/// </code>
/// Placement (2 vCPUs, as reference/ipc.md): the client is pinned to CPU 0; for the fast path the server
/// is pinned to CPU 1 ("cross"), for the blocking handoff to CPU 0 ("same"). Baselines use the cross
/// placement unless named `.same`. The child processes are this program: `ipc --child MODE ...`.
/// Bulk: each producer writes the 1 MiB payload into its outgoing buffer per transfer (for us that is the message
/// body, in shared memory: nothing more is copied; for the socket, its user buffer, which the kernel then copies
/// twice), and each consumer reads every byte.
/// </summary>
public static class IpcBenchmark
{
    private const uint IdNull = 1, IdStream = 2, IdBulk = 3, IdCount = 4;
    private const int ServerCpuCross = 1, ClientCpu = 0;

    public static int Run(string[] args)
    {
        if (args.Length > 0 && args[0] == "--child") return Child(args[1..]);
        bool quick = args.Contains("--quick");
        int rounds = quick ? 3 : 5;
        int ri = Array.IndexOf(args, "--rounds");
        if (ri >= 0 && ri + 1 < args.Length) rounds = int.Parse(args[ri + 1]);
        int rttN = quick ? 20_000 : 200_000;
        int blockN = quick ? 3_000 : 20_000;
        int udsN = quick ? 3_000 : 20_000;
        int streamN = quick ? 1_000_000 : 5_000_000;
        int bulkN = quick ? 200 : 1000;
        var dir = Path.Combine(Path.GetTempPath(), $"hurd-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        Environment.SetEnvironmentVariable("HURD_RUNTIME_DIR", dir);
        if (Environment.ProcessorCount < 2) Console.Error.WriteLine("warning: fewer than 2 CPUs; placement figures are meaningless");
        var children = new List<Process>();
        try
        {
            Libc.PinThread(ClientCpu);
            var cross = StartChild(children, "ipc-server", "cross", ServerCpuCross.ToString());
            var same = StartChild(children, "ipc-server", "same", ClientCpu.ToString());
            string udsPath = Path.Combine(dir, "uds.sock"), udsSamePath = Path.Combine(dir, "uds-same.sock");
            StartChild(children, "uds-echo", udsPath, ServerCpuCross.ToString());
            StartChild(children, "uds-echo", udsSamePath, ClientCpu.ToString());
            using var pipeOut = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.Inheritable);
            using var pipeIn = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.Inheritable);
            StartChild(children, "pipe-echo", pipeOut.GetClientHandleAsString(), pipeIn.GetClientHandleAsString(), ServerCpuCross.ToString());
            pipeOut.DisposeLocalCopyOfClientHandle(); pipeIn.DisposeLocalCopyOfClientHandle();

            Check(Bootstrap.Lookup("cross", out var rCross, 20_000), "lookup cross");
            Check(Bootstrap.Lookup("same", out var rSame, 20_000), "lookup same");
            using var uds = ConnectUds(udsPath);
            using var udsSame = ConnectUds(udsSamePath);

            var r = new Dictionary<string, List<double>>();
            void Add(string k, double v) { if (!r.TryGetValue(k, out var l)) r[k] = l = new(); l.Add(v); }
            var bulk = new byte[1 << 20];
            new Random(1).NextBytes(bulk);

            // Warm-up (JIT tiers, page faults).
            IpcRtt(rCross!, 30_000); IpcRtt(rSame!, 2_000); UdsRtt(uds, 2_000); PipeRtt(pipeOut, pipeIn, 2_000);
            IpcStream(rCross!, 200_000); IpcBulk(rCross!, bulk, 20); UdsBulk(uds, bulk, 20);

            for (int round = 0; round < rounds; round++)
            {
                var (m, p99) = IpcRtt(rCross!, rttN); Add("ipc.rtt.median_ns", m); Add("ipc.rtt.p99_ns", p99);
                (m, p99) = UdsRtt(uds, udsN); Add("uds.rtt.median_ns", m); Add("uds.rtt.p99_ns", p99);
                (m, p99) = PipeRtt(pipeOut, pipeIn, udsN); Add("pipe.rtt.median_ns", m); Add("pipe.rtt.p99_ns", p99);
                (m, p99) = IpcRtt(rSame!, blockN); Add("ipc.blocking.rtt.median_ns", m); Add("ipc.blocking.rtt.p99_ns", p99);
                (m, _) = UdsRtt(udsSame, udsN); Add("uds.same.rtt.median_ns", m);
                Add("ipc.stream64.msgs_per_s", IpcStream(rCross!, streamN));
                Add("ipc.bulk1m.gbytes_per_s", IpcBulk(rCross!, bulk, bulkN));
                Add("uds.bulk1m.gbytes_per_s", UdsBulk(uds, bulk, bulkN));
                Console.Error.WriteLine($"round {round + 1}/{rounds} done");
            }
            double Med(string k) => Median(r[k]);
            Print("ipc.rtt.median_ns", Med("ipc.rtt.median_ns"), "ns");
            Print("ipc.rtt.p99_ns", Med("ipc.rtt.p99_ns"), "ns");
            Print("uds.rtt.median_ns", Med("uds.rtt.median_ns"), "ns");
            Print("uds.rtt.p99_ns", Med("uds.rtt.p99_ns"), "ns");
            Print("pipe.rtt.median_ns", Med("pipe.rtt.median_ns"), "ns");
            Print("ipc.rtt.speedup_vs_uds", Med("uds.rtt.median_ns") / Med("ipc.rtt.median_ns"), "x");
            Print("ipc.rtt.speedup_vs_pipe", Med("pipe.rtt.median_ns") / Med("ipc.rtt.median_ns"), "x");
            Print("ipc.blocking.rtt.median_ns", Med("ipc.blocking.rtt.median_ns"), "ns");
            Print("ipc.blocking.rtt.p99_ns", Med("ipc.blocking.rtt.p99_ns"), "ns");
            Print("uds.same.rtt.median_ns", Med("uds.same.rtt.median_ns"), "ns");
            Print("ipc.blocking.speedup_vs_uds_same", Med("uds.same.rtt.median_ns") / Med("ipc.blocking.rtt.median_ns"), "x");
            Print("ipc.stream64.msgs_per_s", Med("ipc.stream64.msgs_per_s"), "msg/s");
            Print("ipc.bulk1m.gbytes_per_s", Med("ipc.bulk1m.gbytes_per_s"), "GB/s");
            Print("uds.bulk1m.gbytes_per_s", Med("uds.bulk1m.gbytes_per_s"), "GB/s");
            Print("ipc.bulk1m.speedup_vs_uds", Med("ipc.bulk1m.gbytes_per_s") / Med("uds.bulk1m.gbytes_per_s"), "x");
            Print("ipc.idle_cpu_percent", IdleCpu(children[0], quick ? 2000 : 5000), "%");
            rCross!.Dispose(); rSame!.Dispose();
            return 0;
        }
        finally
        {
            foreach (var c in children) { try { c.Kill(); c.WaitForExit(2000); } catch { } }
            try { Directory.Delete(dir, true); } catch { }
        }
    }

    private static void Print(string name, double v, string unit) =>
        Console.WriteLine(unit is "x" or "GB/s" or "%" ? $"{name} {v:F2} {unit}" : $"{name} {v:F0} {unit}");

    private static void Check(Errno e, string what) { if (e != Errno.OK) throw new InvalidOperationException($"{what}: {e}"); }

    private static double Median(List<double> l) { var a = l.ToArray(); Array.Sort(a); return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2; }

    private static (double median, double p99) Stats(long[] ticks)
    {
        Array.Sort(ticks);
        double ns = 1e9 / Stopwatch.Frequency;
        return (ticks[ticks.Length / 2] * ns, ticks[(int)(ticks.Length * 0.99)] * ns);
    }

    private static Process StartChild(List<Process> children, params string[] args)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardInput = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") psi.ArgumentList.Add(typeof(IpcBenchmark).Assembly.Location);
        psi.ArgumentList.Add("ipc"); psi.ArgumentList.Add("--child");
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["HURD_IPC_WORKERS"] = "2";
        var p = Process.Start(psi)!;
        children.Add(p);
        var line = p.StandardOutput.ReadLine();
        if (line != "ready") throw new InvalidOperationException($"child {args[0]} failed: {line}");
        return p;
    }

    // ---------------------------------------------------------------- our core

    private static (double, double) IpcRtt(SendRight r, int n)
    {
        var t = new long[n];
        for (int i = 0; i < n; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            var call = r.BeginCall(IdNull);
            var e = call.Invoke();
            call.Dispose();
            t[i] = Stopwatch.GetTimestamp() - t0;
            if (e != Errno.OK) throw new InvalidOperationException($"null rpc: {e}");
        }
        return Stats(t);
    }

    private static double IpcStream(SendRight r, int n)
    {
        Span<byte> payload = stackalloc byte[56];
        payload.Fill(7);
        Check(Count(r, out long before), "count");
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < n; i++)
        {
            var call = r.BeginCall(IdStream);
            call.Request.WriteInt64(i);
            call.Request.WriteStruct(MemoryMarshal.Read<Payload56>(payload));
            var e = call.Send();
            call.Dispose();
            if (e != Errno.OK) throw new InvalidOperationException($"send: {e}");
        }
        // The count call travels behind the messages in the same ring: it returns once all were handled.
        Check(Count(r, out long after), "count");
        double s = (Stopwatch.GetTimestamp() - t0) / (double)Stopwatch.Frequency;
        if (after - before != n) throw new InvalidOperationException($"stream lost messages: {after - before} of {n}");
        return n / s;
    }

    [StructLayout(LayoutKind.Sequential, Size = 56)]
    private struct Payload56 { }

    private static Errno Count(SendRight r, out long n)
    {
        var call = r.BeginCall(IdCount);
        try { var e = call.Invoke(); n = e == Errno.OK ? call.Reply.ReadInt64() : 0; return e; }
        finally { call.Dispose(); }
    }

    private static double IpcBulk(SendRight r, byte[] data, int n)
    {
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < n; i++)
        {
            var call = r.BeginCall(IdBulk);
            call.Request.WriteBytes(data);
            var e = call.Invoke();
            long len = e == Errno.OK ? call.Reply.ReadInt64() : 0;
            call.Dispose();
            if (e != Errno.OK || len != data.Length) throw new InvalidOperationException($"bulk: {e} {len}");
        }
        double s = (Stopwatch.GetTimestamp() - t0) / (double)Stopwatch.Frequency;
        return n * (double)data.Length / s / 1e9;
    }

    // ---------------------------------------------------------------- baselines

    private static Socket ConnectUds(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(path));
        return s;
    }

    private static void ReadExactly(Socket s, Span<byte> b) { while (!b.IsEmpty) { int n = s.Receive(b); if (n <= 0) throw new EndOfStreamException(); b = b[n..]; } }
    private static void WriteAll(Socket s, ReadOnlySpan<byte> b) { while (!b.IsEmpty) b = b[s.Send(b)..]; }

    private static (double, double) UdsRtt(Socket s, int n)
    {
        var t = new long[n];
        Span<byte> msg = stackalloc byte[64];
        msg.Clear();
        MemoryMarshal.Write(msg, 60);
        Span<byte> reply = stackalloc byte[64];
        for (int i = 0; i < n; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            WriteAll(s, msg);
            ReadExactly(s, reply);
            t[i] = Stopwatch.GetTimestamp() - t0;
        }
        return Stats(t);
    }

    /// <summary>1 MiB over the socket. As for our core (whose producer writes the payload into the message in shared
    /// memory), the producer writes the payload into its outgoing buffer each time, and the consumer reads every byte.</summary>
    private static double UdsBulk(Socket s, byte[] data, int n)
    {
        Span<byte> len = stackalloc byte[4];
        MemoryMarshal.Write(len, data.Length);
        Span<byte> reply = stackalloc byte[64];
        var outgoing = new byte[data.Length];
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < n; i++)
        {
            data.CopyTo(outgoing);
            WriteAll(s, len);
            WriteAll(s, outgoing);
            ReadExactly(s, reply);
        }
        double sec = (Stopwatch.GetTimestamp() - t0) / (double)Stopwatch.Frequency;
        return n * (double)data.Length / sec / 1e9;
    }

    private static (double, double) PipeRtt(Stream w, Stream r, int n)
    {
        var t = new long[n];
        var msg = new byte[64];
        var reply = new byte[64];
        for (int i = 0; i < n; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            w.Write(msg);
            r.ReadExactly(reply);
            t[i] = Stopwatch.GetTimestamp() - t0;
        }
        return Stats(t);
    }

    private static double IdleCpu(Process server, int ms)
    {
        static long Ticks(int pid)
        {
            var f = File.ReadAllText($"/proc/{pid}/stat");
            var parts = f[(f.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(parts[11]) + long.Parse(parts[12]); // utime + stime (fields 14, 15)
        }
        Thread.Sleep(300);
        long a = Ticks(server.Id);
        Thread.Sleep(ms);
        long b = Ticks(server.Id);
        return (b - a) * 100.0 / 100.0 / (ms / 1000.0); // USER_HZ = 100: ticks/s = percent of one CPU
    }

    /// <summary>Sums a buffer 8 bytes at a time (the consumer touches every byte of a bulk transfer).</summary>
    private static ulong Touch(ReadOnlySpan<byte> b)
    {
        var v = MemoryMarshal.Cast<byte, System.Numerics.Vector<ulong>>(b);
        System.Numerics.Vector<ulong> a0 = default, a1 = default;
        int i = 0;
        for (; i + 2 <= v.Length; i += 2) { a0 += v[i]; a1 += v[i + 1]; }
        for (; i < v.Length; i++) a0 += v[i];
        ulong sum = System.Numerics.Vector.Sum(a0 + a1);
        foreach (var x in b[(v.Length * System.Numerics.Vector<byte>.Count)..]) sum += x;
        return sum;
    }

    // ---------------------------------------------------------------- child processes

    private sealed class BenchService { public long Count; public ulong Sink; }

    private static Errno Dispatch(BenchService s, ref RpcRequest req)
    {
        switch (req.Id)
        {
            case IdNull: req.ReplyBody.WriteInt32(0); return Errno.OK;
            case IdStream: s.Count++; return Errno.OK;
            case IdCount: req.ReplyBody.WriteInt32(0); req.ReplyBody.WriteInt64(s.Count); return Errno.OK;
            case IdBulk:
            {
                var b = req.Body.ReadBytes();
                s.Sink += Touch(b);
                req.ReplyBody.WriteInt32(0); req.ReplyBody.WriteInt64(b.Length);
                return Errno.OK;
            }
            default: return Errno.MIG_BAD_ID;
        }
    }

    private static int Child(string[] a)
    {
        // Never outlive the benchmark: when the parent goes away, our stdin reaches its end.
        new Thread(() => { try { Console.In.ReadToEnd(); } catch { } Environment.Exit(0); }) { IsBackground = true }.Start();
        try { return ChildMain(a); }
        catch (Exception e) when (e is EndOfStreamException or IOException or SocketException) { return 0; } // the parent went away
    }

    private static int ChildMain(string[] a)
    {
        switch (a[0])
        {
            case "ipc-server":
            {
                Libc.PinThread(int.Parse(a[2]));   // worker threads inherit the main thread's affinity
                var port = ReceivePort.Create(new BenchService(), Dispatch);
                Check(Bootstrap.Publish(a[1], port, out var pub), "publish");
                Console.WriteLine("ready");
                Thread.Sleep(Timeout.Infinite);
                GC.KeepAlive(pub);
                return 0;
            }
            case "uds-echo":
            {
                Libc.PinThread(int.Parse(a[2]));
                using var l = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                l.Bind(new UnixDomainSocketEndPoint(a[1]));
                l.Listen(1);
                Console.WriteLine("ready");
                using var s = l.Accept();
                var buf = new byte[(1 << 20) + 64];
                var reply = new byte[64];
                ulong sink = 0;
                while (true)
                {
                    ReadExactly(s, buf.AsSpan(0, 4));
                    int n = MemoryMarshal.Read<int>(buf);
                    ReadExactly(s, buf.AsSpan(0, n));
                    if (n > 64) sink += Touch(buf.AsSpan(0, n));
                    reply[8] = (byte)sink;
                    WriteAll(s, reply);
                }
            }
            case "pipe-echo":
            {
                Libc.PinThread(int.Parse(a[3]));
                using var input = new AnonymousPipeClientStream(PipeDirection.In, a[1]);
                using var output = new AnonymousPipeClientStream(PipeDirection.Out, a[2]);
                Console.WriteLine("ready");
                var buf = new byte[64];
                while (true)
                {
                    input.ReadExactly(buf);
                    output.Write(buf);
                }
            }
            default:
                return 2;
        }
    }
}
