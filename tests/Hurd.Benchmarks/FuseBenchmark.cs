using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Hurd.Fuse;
using Hurd.Fuse.Abi;
using Hurd.Ipc.Abi;

namespace Hurd.Benchmarks;

/// <summary>
/// The `fuse` benchmark mode: the latency of stat(2) and of a 4 KiB read (open, pread, close; no O_DIRECT)
/// through libfuse's hello_ll.c (C, built here from Debian's libfuse3-dev examples) and through our managed
/// hello filesystem, measured in one run, interleaved, 5 rounds, medians; ratios are ours / C.
/// </summary>
/// <remarks>
/// Caching is equal on both sides: hello_ll.c is built with its entry and attribute timeouts patched from 1.0
/// to 0.0, and ours answers with timeouts 0, so every stat of the path costs a LOOKUP and a GETATTR and every
/// open a LOOKUP and an OPEN on both. Neither side sets KEEP_CACHE, so each open drops the page cache and the
/// pread reaches the daemon as a READ. Like is compared with like: hello_ll's single-threaded loop (-s) with one
/// reader thread of ours (--c-mt: libfuse's multi-threaded loop with our default reader count). With two or more
/// readers the kernel wakes them in turn (FIFO), and a single sequential client then pays a cross-thread, often
/// cross-CPU, wakeup per request: about 1.5 us per round trip here under load, for C and us alike. Both daemons are
/// child processes (hello_ll with -s; ours is this program run as `fuse --serve DIR`, with its default dedicated reader threads),
/// and this process only measures, so both sides pay the same cross-process switches. Options: --rounds N, --ops N,
/// --readers N (our reader threads; default the session's), --c-mt (run hello_ll with libfuse's multi-threaded loop instead of -s, its single-threaded one: the default
/// is the faster, stricter C baseline; libfuse 3.14's multi-threaded loop is slower per request here).
/// </remarks>
public static unsafe partial class FuseBenchmark
{
    private const string Examples = "/usr/share/doc/libfuse3-dev/examples";

    public static int Run(string[] args)
    {
        if (args.Length >= 2 && args[0] == "--serve") return Serve(args[1], args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0);
        if (args.Length >= 2 && args[0] == "--serve-sdk") return ServeSdk(args[1], args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0);
        int rounds = 5, ops = 2000, readers = 0;
        bool cSingle = !args.Contains("--c-mt");
        for (int i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] == "--rounds") rounds = Math.Max(3, int.Parse(args[++i], CultureInfo.InvariantCulture));
            else if (args[i] == "--readers") readers = int.Parse(args[++i], CultureInfo.InvariantCulture);
            else if (args[i] == "--ops") ops = Math.Max(100, int.Parse(args[++i], CultureInfo.InvariantCulture));
        }
        if (readers == 0 && cSingle) readers = 1; // like with like: libfuse's single-threaded loop vs one reader thread
        if (geteuid() != 0) { Console.Error.WriteLine("fuse: needs root (mount(2))"); return 1; }
        if (!File.Exists(Path.Combine(Examples, "hello_ll.c"))) { Console.Error.WriteLine($"fuse: {Examples}/hello_ll.c missing (apt-get install libfuse3-dev)"); return 1; }

        string work = Path.Combine(Path.GetTempPath(), "hurd-fuse-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        string cDir = Path.Combine(work, "c"), oursDir = Path.Combine(work, "ours"), sdkDir = Path.Combine(work, "sdk");
        Directory.CreateDirectory(cDir);
        Directory.CreateDirectory(oursDir);
        Directory.CreateDirectory(sdkDir);
        Process? c = null, ours = null, sdk = null;
        try
        {
            string exe = BuildHelloLl(work);
            var cPsi = new ProcessStartInfo(exe) { ArgumentList = { "-f", cDir }, UseShellExecute = false, RedirectStandardError = true };
            if (cSingle) cPsi.ArgumentList.Insert(0, "-s");
            c = Process.Start(cPsi)!;
            WaitMounted(cDir, c);
            ours = StartManagedDaemon(oursDir, readers);
            WaitMounted(oursDir, ours);
            string cFile = Path.Combine(cDir, "hello"), oFile = Path.Combine(oursDir, "hello"), sFile = Path.Combine(sdkDir, "hello");
            Check(cFile); Check(oFile);
            // Warm up both (JIT tiers, page tables, libfuse's buffers).
            Measure(cFile, oFile, ops, Stat, true); Measure(cFile, oFile, ops, Read4k, true);

            // Interleaved op by op (C, ours, C, ours... with the order flipped every round), so that load from
            // other processes on the machine falls on both sides alike.
            var cStat = new List<double>(); var oStat = new List<double>(); var cRead = new List<double>(); var oRead = new List<double>();
            for (int r = 0; r < rounds; r++)
            {
                var (a, b) = Measure(cFile, oFile, ops, Stat, r % 2 == 0);
                cStat.AddRange(a); oStat.AddRange(b);
                (a, b) = Measure(cFile, oFile, ops, Read4k, r % 2 == 0);
                cRead.AddRange(a); oRead.AddRange(b);
            }
            // Second phase, with the raw daemon gone so that only two daemons share the CPUs again: C against the
            // whole translator stack (FUSE bridge -> fs/io RPCs over the in-process transport -> serving layer -> SDK nodes).
            FuseSession.UnmountPath(oursDir);
            if (!ours.WaitForExit(5000)) ours.Kill();
            sdk = StartManagedDaemon(sdkDir, readers, "--serve-sdk");
            WaitMounted(sdkDir, sdk);
            Check(sFile);
            Measure(cFile, sFile, ops, Stat, true); Measure(cFile, sFile, ops, Read4k, true);
            var c2Stat = new List<double>(); var sStat = new List<double>(); var c2Read = new List<double>(); var sRead = new List<double>();
            for (int r = 0; r < rounds; r++)
            {
                var (a, b) = Measure(cFile, sFile, ops, Stat, r % 2 == 0);
                c2Stat.AddRange(a); sStat.AddRange(b);
                (a, b) = Measure(cFile, sFile, ops, Read4k, r % 2 == 0);
                c2Read.AddRange(a); sRead.AddRange(b);
            }
            double cs = Median(cStat), os = Median(oStat), cr = Median(cRead), or = Median(oRead);
            Print("fuse.stat.median_us", os, "us");
            Print("fuse.stat.c_median_us", cs, "us");
            Print("fuse.stat.ratio_vs_c", os / cs, "x");
            Print("fuse.read4k.median_us", or, "us");
            Print("fuse.read4k.c_median_us", cr, "us");
            Print("fuse.read4k.ratio_vs_c", or / cr, "x");
            double c2s = Median(c2Stat), ss = Median(sStat), c2r = Median(c2Read), sr = Median(sRead);
            Print("fuse.sdk.stat.median_us", ss, "us");
            Print("fuse.sdk.stat.ratio_vs_c", ss / c2s, "x");
            Print("fuse.sdk.read4k.median_us", sr, "us");
            Print("fuse.sdk.read4k.ratio_vs_c", sr / c2r, "x");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"# p10/p90 us: stat ours {P(oStat, 10):F1}/{P(oStat, 90):F1} C {P(cStat, 10):F1}/{P(cStat, 90):F1}; read4k ours {P(oRead, 10):F1}/{P(oRead, 90):F1} C {P(cRead, 10):F1}/{P(cRead, 90):F1}; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
            Console.WriteLine($"# {rounds} rounds x {ops} ops, interleaved op by op; entry/attr timeouts 0 on both sides; C = libfuse {LibfuseVersion()} hello_ll ({(cSingle ? "single-threaded, -s" : "multi-threaded loop")}); ours {(readers > 0 ? readers : new FuseMountOptions().Readers)} reader thread(s)");
            return 0;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine("fuse: " + ex.Message);
            return 1;
        }
        finally
        {
            foreach (var (dir, p) in new[] { (cDir, c), (oursDir, ours), (sdkDir, sdk) })
            {
                FuseSession.UnmountPath(dir);
                if (p is null) continue;
                if (!p.WaitForExit(5000)) p.Kill();
                p.Dispose();
                FuseSession.UnmountPath(dir, lazy: true);
            }
            try { Directory.Delete(work, true); } catch (IOException) { }
        }
    }

    /// <summary>The managed side. When the SDK's hello translator exists, this becomes its mount (one line).</summary>
    private static IDisposable MountManagedHello(string dir, int readers) =>
        FuseSession.Mount(new RawHello(), new FuseMountOptions { MountPoint = dir, Subtype = "hurdbench", FsName = "hello", Readers = readers > 0 ? readers : new FuseMountOptions().Readers });

    /// <summary>`fuse --serve DIR`: the managed daemon, a process of its own like hello_ll, serving until unmounted.</summary>
    private static int Serve(string dir, int readers)
    {
        using IDisposable mount = MountManagedHello(dir, readers);
        ((FuseSession)mount).Wait();
        return 0;
    }

    /// <summary>
    /// `fuse --serve-sdk DIR`: the same tree (a directory holding "hello") served by the whole translator stack: tmpfs
    /// nodes on the SDK, the serving layer, the FUSE bridge over the in-process transport, entry/attr timeouts 0.
    /// </summary>
    private static int ServeSdk(string dir, int readers)
    {
        var tmpfs = new Hurd.Tmpfs.TmpfsFileSystem(Hurd.Tmpfs.TmpfsOptions.Default);
        var served = new Hurd.Translators.Serving.ServedFilesystem(tmpfs.Root, "tmpfs");
        if (served.GetRoot(Hurd.Translators.Identity.Root, OpenFlags.Read, out var root) != Errno.OK) return 1;
        var rootProtid = new Hurd.Translators.Protid(Hurd.Translators.Identity.Root, new Hurd.Translators.OpenFile(tmpfs.Root, OpenFlags.Read));
        if (Hurd.Translators.Calls.DirLookupOpen(rootProtid, tmpfs.Root, "hello"u8, OpenFlags.Read | OpenFlags.Write | OpenFlags.Create,
                (Hurd.Ipc.Abi.FileMode)0x124, out _, out var file) != Errno.OK) return 1;
        Hurd.Translators.Calls.IoWrite(file!, 0, "Hello World!\n"u8, out _);
        file!.Release();
        root!.Dispose();
        using var control = served.Control.MakeSend();
        var bo = new Hurd.Translators.Fuse.FuseBridgeOptions { EntryTimeout = TimeSpan.Zero, AttrTimeout = TimeSpan.Zero };
        if (Hurd.Translators.Fuse.FuseBridge.Connect(control, bo, out var bridge) != Errno.OK) return 1;
        var mo = new FuseMountOptions { MountPoint = dir, Subtype = "hurdbench", FsName = "sdk", Readers = readers > 0 ? readers : new FuseMountOptions().Readers };
        bo.ApplyTo(mo);
        using var session = FuseSession.Mount(bridge!, mo);
        session.Wait();
        return 0;
    }

    private static Process StartManagedDaemon(string dir, int readers, string mode = "--serve")
    {
        string host = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(host) { UseShellExecute = false, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") psi.ArgumentList.Add(typeof(FuseBenchmark).Assembly.Location);
        foreach (string a in new[] { "fuse", mode, dir, readers.ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    private static void Print(string name, double value, string unit) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} {value:F3} {unit}"));

    private static string BuildHelloLl(string work)
    {
        string src = File.ReadAllText(Path.Combine(Examples, "hello_ll.c"))
            .Replace("e.attr_timeout = 1.0;", "e.attr_timeout = 0.0;")
            .Replace("e.entry_timeout = 1.0;", "e.entry_timeout = 0.0;")
            .Replace("fuse_reply_attr(req, &stbuf, 1.0);", "fuse_reply_attr(req, &stbuf, 0.0);");
        string c = Path.Combine(work, "hello_ll.c"), exe = Path.Combine(work, "hello_ll");
        File.WriteAllText(c, src);
        string flags = RunTool("pkg-config", "fuse3 --cflags --libs").Trim();
        RunTool("sh", $"-c \"gcc -O2 -Wall '{c}' -o '{exe}' {flags}\"");
        return exe;
    }

    private static string LibfuseVersion()
    {
        try { return RunTool("pkg-config", "--modversion fuse3").Trim(); } catch (Exception) { return "?"; }
    }

    private static string RunTool(string file, string args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        string o = p.StandardOutput.ReadToEnd();
        string e = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {args}: {e}");
        return o;
    }

    private static void WaitMounted(string dir, Process? daemon)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (File.ReadAllLines("/proc/self/mountinfo").Any(l => l.Split(' ').ElementAtOrDefault(4) == dir)) return;
            if (daemon is { HasExited: true }) throw new InvalidOperationException("daemon exited: " + daemon.StandardError.ReadToEnd());
            Thread.Sleep(20);
        }
        throw new TimeoutException($"{dir} was not mounted");
    }

    private static void Check(string path)
    {
        byte* buf = stackalloc byte[4096];
        int fd = open(path, 0);
        if (fd < 0) throw new IOException($"{path}: errno {Marshal.GetLastPInvokeError()}");
        nint n = pread(fd, buf, 4096, 0);
        close(fd);
        if (n != 13) throw new IOException($"{path}: read {n} bytes, expected 13");
    }

    private delegate bool Op(byte* path, byte* buf);

    private static bool Stat(byte* path, byte* buf) => stat(path, buf) == 0;

    private static bool Read4k(byte* path, byte* buf)
    {
        int fd = open(path, 0);
        if (fd < 0) return false;
        nint n = pread(fd, buf, 4096, 0);
        close(fd);
        return n >= 0;
    }

    private static (double[] C, double[] Ours) Measure(string cFile, string oursFile, int ops, Op op, bool cFirst)
    {
        byte[] cp = System.Text.Encoding.UTF8.GetBytes(cFile + "\0"), op2 = System.Text.Encoding.UTF8.GetBytes(oursFile + "\0");
        var c = new double[ops];
        var o = new double[ops];
        byte* buf = stackalloc byte[4096];
        fixed (byte* cPath = cp)
        fixed (byte* oPath = op2)
        {
            for (int i = 0; i < ops; i++)
            {
                if (cFirst) { c[i] = Time(cPath, buf, op, cFile); o[i] = Time(oPath, buf, op, oursFile); }
                else { o[i] = Time(oPath, buf, op, oursFile); c[i] = Time(cPath, buf, op, cFile); }
            }
        }
        return (c, o);
    }

    private static double Time(byte* path, byte* buf, Op op, string file)
    {
        long t0 = Stopwatch.GetTimestamp();
        if (!op(path, buf)) throw new IOException($"{file}: errno {Marshal.GetLastPInvokeError()}");
        return (Stopwatch.GetTimestamp() - t0) * 1e6 / Stopwatch.Frequency;
    }

    private static double P(List<double> sorted, int percent) => sorted[Math.Min(sorted.Count - 1, sorted.Count * percent / 100)];

    private static double Median(List<double> xs)
    {
        xs.Sort();
        int n = xs.Count;
        return n % 2 == 1 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
    }

    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true)] private static partial int stat(byte* path, byte* buf);
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)] private static partial int open(byte* path, int flags);
    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)] private static partial nint pread(int fd, byte* buf, nuint count, long offset);
    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)] private static partial int close(int fd);
    [LibraryImport("libc", EntryPoint = "geteuid")] private static partial uint geteuid();

    private static int open(string path, int flags)
    {
        byte[] p = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pp = p) return open(pp, flags);
    }

    /// <summary>hello_ll.c on the raw API: root (1) with "hello" (2, 0444, "Hello World!\n"), timeouts 0.</summary>
    private sealed class RawHello : FuseFileSystem
    {
        private static readonly byte[] Text = "Hello World!\n"u8.ToArray();

        private static bool Attr(ulong ino, ref FuseAttr a)
        {
            a.Ino = ino;
            if (ino == 1) { a.Mode = 0x4000 | 0x1ED; a.Nlink = 2; return true; }
            if (ino == 2) { a.Mode = 0x8000 | 0x124; a.Nlink = 1; a.Size = (ulong)Text.Length; return true; }
            return false;
        }

        public override Errno Lookup(in FuseContext ctx, ReadOnlySpan<byte> name, out EntryOut entry)
        {
            entry = default;
            if (ctx.NodeId != 1 || !name.SequenceEqual("hello"u8)) return Errno.ENOENT;
            entry.NodeId = 2;
            Attr(2, ref entry.Attr);
            return Errno.OK;
        }

        public override Errno Getattr(in FuseContext ctx, in GetattrIn input, out AttrOut attr)
        {
            attr = default;
            return Attr(ctx.NodeId, ref attr.Attr) ? Errno.OK : Errno.ENOENT;
        }

        public override Errno Open(in FuseContext ctx, in OpenIn input, out OpenOut open)
        {
            open = default;
            if (ctx.NodeId != 2) return Errno.EISDIR;
            return (input.Flags & 3) != 0 ? Errno.EACCES : Errno.OK;
        }

        public override Errno Read(in FuseContext ctx, in ReadIn input, Span<byte> data, out int count)
        {
            count = 0;
            if (input.Offset >= (ulong)Text.Length) return Errno.OK;
            count = Math.Min(data.Length, Text.Length - (int)input.Offset);
            Text.AsSpan((int)input.Offset, count).CopyTo(data);
            return Errno.OK;
        }

        public override Errno Readdir(in FuseContext ctx, in ReadIn input, ref DirentWriter writer)
        {
            if (ctx.NodeId != 1) return Errno.ENOTDIR;
            if (input.Offset < 1 && !writer.TryAdd(1, 1, DirentType.Directory, "."u8)) return Errno.OK;
            if (input.Offset < 2 && !writer.TryAdd(1, 2, DirentType.Directory, ".."u8)) return Errno.OK;
            if (input.Offset < 3) writer.TryAdd(2, 3, DirentType.Regular, "hello"u8);
            return Errno.OK;
        }
    }
}
