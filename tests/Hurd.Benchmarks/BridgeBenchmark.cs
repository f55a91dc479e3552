using System.Diagnostics;
using System.Text;
using Hurd.Fuse;
using Hurd.Fuse.Abi;
using Hurd.Ipc.Abi;
using Hurd.Translators;
using Hurd.Translators.Fuse;
using Hurd.Translators.Serving;

namespace Hurd.Benchmarks;

/// <summary>
/// `bridge [--files N] [--rounds R]`: the FUSE bridge's metadata requests called directly (no kernel, no mount: the
/// daemon's own share of each request), over tmpfs behind <see cref="ServedFilesystem"/> on the in-process transport,
/// as root, with node references (fs_ext noderef_*) and without (every node a protid port), interleaved per round.
/// Prints wall and process-CPU microseconds per operation (medians; CPU includes the work other threads do for it, such
/// as destroying released ports) and bytes allocated per operation on the calling thread.
/// </summary>
public static class BridgeBenchmark
{
    private sealed class Header { public FuseInHeader H; }

    private static FuseContext Ctx(ulong node)
    {
        var box = new Header { H = new FuseInHeader { NodeId = node, Uid = 0, Gid = 0, Pid = 0, Unique = 2 } };
        return new FuseContext(in box.H, default, false, default);
    }

    public static int Run(string[] args)
    {
        int files = 2000, rounds = 5;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--files" && i + 1 < args.Length) files = int.Parse(args[++i]);
            else if (args[i] == "--rounds" && i + 1 < args.Length) rounds = int.Parse(args[++i]);
        }
        var names = Enumerable.Range(0, files).Select(i => Encoding.ASCII.GetBytes($"f{i:D6}")).ToArray();
        var results = new Dictionary<(string Config, string Op), List<(double Wall, double Cpu, double Bytes)>>();
        for (int r = -1; r < rounds; r++) // round -1 warms the JIT up and is not counted
        {
            foreach (bool refs in new[] { true, false })
            {
                var m = RunOnce(refs, names);
                if (r < 0) continue;
                foreach (var (op, v) in m)
                {
                    var key = (refs ? "refs" : "ports", op);
                    if (!results.TryGetValue(key, out var list)) results[key] = list = new();
                    list.Add(v);
                }
            }
        }
        foreach (var op in results.Keys.Select(k => k.Op).Distinct())
        {
            foreach (var config in new[] { "refs", "ports" })
            {
                var l = results[(config, op)];
                Console.WriteLine($"bridge.{config}.{op}_wall {Median(l.Select(x => x.Wall)):F2} us/op");
                Console.WriteLine($"bridge.{config}.{op}_cpu {Median(l.Select(x => x.Cpu)):F2} us/op");
                Console.WriteLine($"bridge.{config}.{op}_alloc {Median(l.Select(x => x.Bytes)):F0} B/op");
            }
            double ratio = Median(results[("ports", op)].Select(x => x.Cpu)) / Median(results[("refs", op)].Select(x => x.Cpu));
            Console.WriteLine($"bridge.{op}.cpu_ratio_ports_over_refs {ratio:F2} x");
        }
        return 0;
    }

    private static double Median(IEnumerable<double> v)
    {
        var a = v.Order().ToArray();
        return a.Length == 0 ? 0 : a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }

    private static List<(string, (double, double, double))> RunOnce(bool refs, byte[][] names)
    {
        var res = new List<(string, (double, double, double))>();
        int n = names.Length;
        var tmpfs = new Hurd.Tmpfs.TmpfsFileSystem(Hurd.Tmpfs.TmpfsOptions.Default);
        using var served = new ServedFilesystem(tmpfs.Root, "tmpfs");
        using var control = served.Control.MakeSend();
        if (FuseBridge.Connect(control, new FuseBridgeOptions { NodeReferences = refs }, out var b) != Errno.OK) throw new InvalidOperationException("connect");
        using var bridge = b!;
        var nodes = new ulong[n];
        var fhs = new ulong[n];
        var dirBuf = new byte[32 * 1024];

        void Measure(string op, int count, Action body)
        {
            // Let the previous phase's released ports be destroyed first (their notifications run on other threads).
            Thread.Sleep(20);
            var p = Process.GetCurrentProcess();
            var cpu0 = p.TotalProcessorTime;
            long alloc0 = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            body();
            sw.Stop();
            long alloc = GC.GetAllocatedBytesForCurrentThread() - alloc0;
            Thread.Sleep(20);
            p.Refresh();
            var cpu = p.TotalProcessorTime - cpu0;
            res.Add((op, (sw.Elapsed.TotalMicroseconds / count, cpu.TotalMicroseconds / count, (double)alloc / count)));
        }

        Assert(bridge.Mkdir(Ctx(1), "d"u8, new MkdirIn { Mode = 0x1ED }, out var d));
        ulong dir = d.NodeId;
        var create = new CreateIn { Flags = OpenFlagsLinux.O_WRONLY | OpenFlagsLinux.O_CREAT | OpenFlagsLinux.O_EXCL, Mode = 0x81A4 };
        Measure("create_release", n, () =>
        {
            for (int i = 0; i < n; i++)
            {
                Assert(bridge.Create(Ctx(dir), names[i], create, out var e, out var o));
                nodes[i] = e.NodeId;
                Assert(bridge.Release(Ctx(e.NodeId), new ReleaseIn { Fh = o.Fh }));
            }
        });
        Measure("getattr", n, () =>
        {
            for (int i = 0; i < n; i++) Assert(bridge.Getattr(Ctx(nodes[i]), new GetattrIn(), out _));
        });
        Measure("forget", n, () =>
        {
            for (int i = 0; i < n; i++) bridge.Forget(nodes[i], 1);
        });
        Measure("lookup_cold", n, () =>
        {
            for (int i = 0; i < n; i++)
            {
                Assert(bridge.Lookup(Ctx(dir), names[i], out var e));
                nodes[i] = e.NodeId;
            }
        });
        Measure("open_release", n, () =>
        {
            for (int i = 0; i < n; i++)
            {
                Assert(bridge.Open(Ctx(nodes[i]), new OpenIn { Flags = OpenFlagsLinux.O_RDONLY }, out var o));
                Assert(bridge.Release(Ctx(nodes[i]), new ReleaseIn { Fh = o.Fh }));
            }
        });
        for (int i = 0; i < n; i++) bridge.Forget(nodes[i], 1);
        int listed = 0;
        // One whole READDIRPLUS listing of the directory; returns the entries listed.
        int ListAll()
        {
            int count = 0;
            Assert(bridge.Opendir(Ctx(dir), new OpenIn(), out var od));
            ulong off = 0;
            while (true)
            {
                var w = new Hurd.Fuse.DirentWriter(dirBuf, plus: true);
                Assert(bridge.Readdirplus(Ctx(dir), new ReadIn { Fh = od.Fh, Offset = off, Size = (uint)dirBuf.Length }, ref w));
                if (w.Count == 0) break;
                count += w.Count;
                off = LastOffset(dirBuf.AsSpan(0, w.Length));
            }
            Assert(bridge.Releasedir(Ctx(dir), new ReleaseIn { Fh = od.Fh }));
            return count;
        }
        Measure("readdirplus_cold_entry", n, () => listed += ListAll());
        // Every file known now (the listing's lookup counts): the same listing again.
        Measure("readdirplus_known_entry", n, () => ListAll());
        for (int i = 0; i < n; i++)
        {
            Assert(bridge.Lookup(Ctx(dir), names[i], out var e));
            bridge.Forget(e.NodeId, 3); // the lookup's count and the two listings'
        }
        Measure("unlink", n, () =>
        {
            for (int i = 0; i < n; i++) Assert(bridge.Unlink(Ctx(dir), names[i]));
        });
        Measure("mkdir_access_rmdir", n, () =>
        {
            for (int i = 0; i < n; i++)
            {
                Assert(bridge.Mkdir(Ctx(dir), names[i], new MkdirIn { Mode = 0x1ED }, out var e));
                Assert(bridge.Access(Ctx(e.NodeId), 1));
                Assert(bridge.Rmdir(Ctx(dir), names[i]));
                bridge.Forget(e.NodeId, 1);
            }
        });
        if (listed < n) throw new InvalidOperationException($"readdirplus listed {listed} of {n}");
        return res;
    }

    /// <summary>The resume offset of the last direntplus record in <paramref name="buf"/>.</summary>
    private static ulong LastOffset(ReadOnlySpan<byte> buf)
    {
        int pos = 0;
        ulong off = 0;
        int entrySize = System.Runtime.InteropServices.Marshal.SizeOf<EntryOut>();
        while (pos < buf.Length)
        {
            var dirent = System.Runtime.InteropServices.MemoryMarshal.Read<FuseDirent>(buf[(pos + entrySize)..]);
            off = dirent.Off;
            pos += (entrySize + 24 + (int)dirent.Namelen + 7) & ~7;
        }
        return off;
    }

    private static void Assert(Errno e)
    {
        if (e != Errno.OK) throw new InvalidOperationException(e.ToString());
    }
}
