using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Hurd.Fuse;
using Hurd.Fuse.Abi;
using Hurd.Ipc.Abi;

namespace Hurd.Benchmarks;

/// <summary>
/// The `fuse` benchmark mode: the latency of stat(2) and of a 4 KiB read (open, pread, close; no O_DIRECT) through
/// libfuse's hello_ll.c (C, built here from Debian's libfuse3-dev examples) and through our hello translator, measured
/// in one run, interleaved, 5 rounds, medians; ratios are ours / C.
/// </summary>
/// <remarks>
/// <para>Three phases, each against the C daemon, one managed daemon at a time (so that two daemons share the CPUs):</para>
/// <list type="bullet">
/// <item><c>fuse.stat</c>, <c>fuse.read4k</c> (the headline, on one CPU; <c>fuse.free.*</c> the same unpinned;
///   <c>fuse.uring.*</c> unpinned and served through FUSE over io_uring, where the kernel allows it): the hello translator, i.e. the <c>HelloFile</c> node of
///   src/Translators/Hello (loaded from its built hello.dll) behind the whole stack `hurd settrans -a FILE hello` runs:
///   <c>ServedFilesystem</c> (fs/io/fsys over IPC), the FUSE bridge as its client over the in-process transport, the
///   FUSE session. Its root is the file, mounted on a file; the C side is hello_ll.c with its file made the root (ino 1;
///   three lines patched) and likewise mounted on a file, so both answer GETATTR for a stat and OPEN, READ, RELEASE
///   for a read.</item>
/// <item><c>fuse.raw.*</c>: the protocol layer alone (Hurd.Fuse with a raw hello_ll look-alike) against hello_ll.c
///   unchanged (a directory holding "hello": LOOKUP + GETATTR per stat, LOOKUP + OPEN + READ + RELEASE per read).</item>
/// <item><c>fuse.sdk.*</c>: the same directory layout through the translator stack (tmpfs nodes, serving layer, bridge):
///   what a lookup costs on top.</item>
/// </list>
/// <para>Caching is equal on both sides: hello_ll.c is built with its entry and attribute timeouts patched from 1.0
/// to 0.0 and ours answers with timeouts 0, so every stat reaches the daemon; neither side keeps the page cache
/// across opens (hello_ll sets no keep_cache; the bridge's auto_cache is turned off here), so each pread is a READ.
/// Like is compared with like: hello_ll's single-threaded loop (-s) with one reader thread of ours (--c-mt: libfuse's
/// multi-threaded loop with our default reader count). With two or more readers the kernel wakes them in turn (FIFO),
/// and a single sequential client then pays a cross-thread, often cross-CPU, wakeup per request: about 1.5 us per
/// round trip here under load, for C and us alike. The daemons are child processes (hello_ll with -s; ours is this
/// program run as `fuse --serve-hello FILE` etc.).</para>
/// <para>Who measures, and where. The client is a small C program (<see cref="ClientSource"/>), the same for both
/// sides, run afresh for each block of operations; blocks alternate C, ours, ours, C. Not this .NET process: on these
/// 2-vCPU VMs (cpuidle haltpoll with guest polling off) waking a thread on the other, halted vCPU costs about 40 us,
/// and where the kernel places each wake-up depends on what else runs: measured from inside this process op by op,
/// whichever daemon came second in the pair was 5x faster than the other, whether C or ours. The headline therefore
/// runs both daemons (every thread) and the client on CPU 0, which compares the code paths: the work each side makes
/// the kernel and the CPU do per request. <c>fuse.free.*</c> repeats the headline with placement left to the
/// scheduler; on a quiet machine it is near 1 too, under load it is whichever way the wake-ups fell. Options: --rounds N, --ops N, --readers N (our reader threads; default the session's),
/// --c-mt (run hello_ll with libfuse's multi-threaded loop instead of -s, its single-threaded one: the default is the
/// faster, stricter C baseline; libfuse 3.14's multi-threaded loop is slower per request here).</para>
/// </remarks>
public static unsafe partial class FuseBenchmark
{
    private const string Examples = "/usr/share/doc/libfuse3-dev/examples";

    public static int Run(string[] args)
    {
        if (args.Length >= 2 && args[0] == "--serve") return Serve(args[1], args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0);
        if (args.Length >= 2 && args[0] == "--serve-sdk") return ServeSdk(args[1], args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0);
        if (args.Length >= 2 && args[0] is "--serve-hello" or "--serve-hello-uring")
            return ServeHello(args[1], args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0, ioUring: args[0] == "--serve-hello-uring");
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
        if (!File.Exists(HelloDll)) { Console.Error.WriteLine($"fuse: {HelloDll} missing (dotnet build -c Release src/Translators/Hello)"); return 1; }

        string work = Path.Combine(Path.GetTempPath(), "hurd-fuse-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        string cDir = Path.Combine(work, "c"), cFileMnt = Path.Combine(work, "c-file"), oursDir = Path.Combine(work, "ours"),
            sdkDir = Path.Combine(work, "sdk"), helloMnt = Path.Combine(work, "hello");
        Directory.CreateDirectory(cDir);
        Directory.CreateDirectory(oursDir);
        Directory.CreateDirectory(sdkDir);
        File.WriteAllBytes(cFileMnt, []);
        File.WriteAllBytes(helloMnt, []);
        var daemons = new List<(string Mnt, Process? P)>();
        try
        {
            var (exe, fileExe) = BuildHelloLl(work);
            string client = BuildClient(work);
            Process StartC(string prog, string mnt)
            {
                var psi = new ProcessStartInfo(prog) { ArgumentList = { "-f", mnt }, UseShellExecute = false, RedirectStandardError = true };
                if (cSingle) psi.ArgumentList.Insert(0, "-s");
                var p = Process.Start(psi)!;
                daemons.Add((mnt, p));
                WaitMounted(mnt, p);
                return p;
            }
            Process StartOurs(string mode, string mnt)
            {
                var p = StartManagedDaemon(mnt, readers, mode);
                daemons.Add((mnt, p));
                WaitMounted(mnt, p);
                return p;
            }
            void Stop(string mnt, Process p)
            {
                FuseSession.UnmountPath(mnt);
                if (!p.WaitForExit(5000)) p.Kill();
            }

            // Phase 1, the headline: the hello translator (file root) against hello_ll with its file as the root.
            var cf = StartC(fileExe, cFileMnt);
            var hello = StartOurs("--serve-hello", helloMnt);
            // Placement left to the scheduler first (fuse.free.*), then the headline: every thread of both daemons and
            // the client on CPU 0, where what is compared is the code path, not where the kernel woke whom (see remarks).
            var free = Phase(client, cFileMnt, helloMnt, ops, rounds, pin: false);
            Pin(cf.Id, "0"); Pin(hello.Id, "0");
            var headline = Phase(client, cFileMnt, helloMnt, ops, rounds, pin: true);
            Stop(helloMnt, hello);
            Stop(cFileMnt, cf);

            // Phase 1b (fuse.uring.*), where the kernel allows it: the same hello translator served through FUSE over
            // io_uring (one queue per CPU, a thread bound to each) against the same hello_ll, placement free: what
            // serving each request on its client's CPU is worth on this machine.
            PhaseResult? uring = null;
            if (FuseSession.IoUringAvailable)
            {
                var cf2 = StartC(fileExe, cFileMnt);
                var helloUring = StartOurs("--serve-hello-uring", helloMnt);
                uring = Phase(client, cFileMnt, helloMnt, ops, rounds, pin: false);
                Stop(helloMnt, helloUring);
                Stop(cFileMnt, cf2);
            }

            // Phase 2: the protocol layer alone against hello_ll unchanged (a directory holding "hello").
            Pin(StartC(exe, cDir).Id, "0");
            var raw = StartOurs("--serve", oursDir);
            Pin(raw.Id, "0");
            string cFile = Path.Combine(cDir, "hello");
            var rawResult = Phase(client, cFile, Path.Combine(oursDir, "hello"), ops, rounds, pin: true);
            Stop(oursDir, raw);

            // Phase 3: the same directory through the translator stack (tmpfs nodes, serving layer, bridge).
            Pin(StartOurs("--serve-sdk", sdkDir).Id, "0");
            var sdk = Phase(client, cFile, Path.Combine(sdkDir, "hello"), ops, rounds, pin: true);

            Print("fuse.stat.median_us", headline.OursStat, "us");
            Print("fuse.stat.c_median_us", headline.CStat, "us");
            Print("fuse.stat.ratio_vs_c", headline.OursStat / headline.CStat, "x");
            Print("fuse.read4k.median_us", headline.OursRead, "us");
            Print("fuse.read4k.c_median_us", headline.CRead, "us");
            Print("fuse.read4k.ratio_vs_c", headline.OursRead / headline.CRead, "x");
            foreach (var (name, r) in new[] { ("free", free), ("uring", uring), ("raw", rawResult), ("sdk", sdk) })
            {
                if (r is null) continue;
                Print($"fuse.{name}.stat.median_us", r.OursStat, "us");
                Print($"fuse.{name}.stat.ratio_vs_c", r.OursStat / r.CStat, "x");
                Print($"fuse.{name}.read4k.median_us", r.OursRead, "us");
                Print($"fuse.{name}.read4k.ratio_vs_c", r.OursRead / r.CRead, "x");
            }
            Console.WriteLine($"# on CPU 0: {headline.Spread}; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            Console.WriteLine($"# free placement: {free.Spread}");
            Console.WriteLine(uring is null ? "# fuse.uring.*: not measured (the fuse module's enable_uring is off)" : $"# over io_uring, free placement: {uring.Spread}");
            Console.WriteLine($"# {rounds} rounds x {ops} ops per phase, blocks interleaved (C, ours, ours, C, ...), one fresh C client process per block; entry/attr timeouts 0 on both sides, no page cache kept across opens; C = libfuse {LibfuseVersion()} hello_ll ({(cSingle ? "single-threaded, -s" : "multi-threaded loop")}); ours {(readers > 0 ? readers : new FuseMountOptions().Readers)} reader thread(s)");
            return 0;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine("fuse: " + ex.Message);
            return 1;
        }
        finally
        {
            foreach (var (mnt, p) in daemons)
            {
                FuseSession.UnmountPath(mnt);
                if (p is null) continue;
                if (!p.WaitForExit(5000)) p.Kill();
                p.Dispose();
                FuseSession.UnmountPath(mnt, lazy: true);
            }
            try { Directory.Delete(work, true); } catch (IOException) { }
        }
    }

    private sealed record PhaseResult(double CStat, double OursStat, double CRead, double OursRead, string Spread);

    /// <summary>
    /// Warm-up, then <paramref name="rounds"/> rounds of stat and read4k blocks on both files, in the order C, ours in
    /// even rounds and ours, C in odd ones, so that load from other processes falls on both alike. Each block is a
    /// fresh run of the C client (<see cref="ClientSource"/>): <paramref name="ops"/> operations back to back on one file.
    /// </summary>
    private static PhaseResult Phase(string client, string cFile, string oursFile, int ops, int rounds, bool pin)
    {
        Check(cFile); Check(oursFile);
        // Warm-up by time, not count: a fresh .NET daemon runs tier-0 code until its background JIT has recompiled the hot
        // methods, which takes longer on a loaded machine. Steady state is what is compared: hello_ll is compiled ahead of time.
        var warm = Stopwatch.StartNew();
        do { foreach (string mode in new[] { "stat", "read4k" }) { RunClient(client, mode, cFile, 500, pin); RunClient(client, mode, oursFile, 500, pin); } }
        while (warm.Elapsed < TimeSpan.FromSeconds(3));
        var cStat = new List<double>(); var oStat = new List<double>(); var cRead = new List<double>(); var oRead = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            foreach (var (mode, c, o) in new[] { ("stat", cStat, oStat), ("read4k", cRead, oRead) })
            {
                if (r % 2 == 0) { c.AddRange(RunClient(client, mode, cFile, ops, pin)); o.AddRange(RunClient(client, mode, oursFile, ops, pin)); }
                else { o.AddRange(RunClient(client, mode, oursFile, ops, pin)); c.AddRange(RunClient(client, mode, cFile, ops, pin)); }
            }
        }
        double cs = Median(cStat), os = Median(oStat), cr = Median(cRead), or = Median(oRead);
        string spread = string.Create(CultureInfo.InvariantCulture,
            $"p10/p90 us: stat ours {P(oStat, 10):F1}/{P(oStat, 90):F1} C {P(cStat, 10):F1}/{P(cStat, 90):F1}; read4k ours {P(oRead, 10):F1}/{P(oRead, 90):F1} C {P(cRead, 10):F1}/{P(cRead, 90):F1}");
        return new PhaseResult(cs, os, cr, or, spread);
    }

    /// <summary>
    /// The measuring client, in C and the same for both sides: MODE (stat | read4k: open, pread 4 KiB, close) FILE OPS
    /// prints one latency per line in nanoseconds. Not this .NET process: its own runtime threads change where the
    /// kernel wakes each daemon on a 2-vCPU VM, and by several times (see the remarks).
    /// </summary>
    private const string ClientSource = """
        #define _GNU_SOURCE
        #include <fcntl.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/stat.h>
        #include <time.h>
        #include <unistd.h>
        static long long now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
        int main(int argc, char **argv) {
            if (argc != 4) { fprintf(stderr, "usage: %s stat|read4k FILE OPS\n", argv[0]); return 2; }
            int read4k = strcmp(argv[1], "read4k") == 0, ops = atoi(argv[3]);
            long long *t = malloc(sizeof *t * ops); static char buf[4096]; struct stat st;
            for (int i = 0; i < ops; i++) {
                long long a = now();
                if (read4k) {
                    int fd = open(argv[2], O_RDONLY);
                    if (fd < 0 || pread(fd, buf, sizeof buf, 0) < 0) { perror(argv[2]); return 1; }
                    close(fd);
                } else if (stat(argv[2], &st) != 0) { perror(argv[2]); return 1; }
                t[i] = now() - a;
            }
            for (int i = 0; i < ops; i++) printf("%lld\n", t[i]);
            return 0;
        }
        """;

    private static string BuildClient(string work)
    {
        string c = Path.Combine(work, "fuse_client.c"), exe = Path.Combine(work, "fuse_client");
        File.WriteAllText(c, ClientSource);
        RunTool("gcc", $"-O2 -Wall -o {exe} {c}");
        return exe;
    }

    /// <summary>One block: the client's latencies in microseconds (on CPU 0 only when <paramref name="pin"/>).</summary>
    private static double[] RunClient(string client, string mode, string file, int ops, bool pin)
    {
        string args = string.Create(CultureInfo.InvariantCulture, $"{mode} {file} {ops}");
        string output = pin ? RunTool("taskset", $"-c 0 {client} {args}") : RunTool(client, args);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => long.Parse(l, CultureInfo.InvariantCulture) / 1000.0).ToArray();
    }

    /// <summary>Moves every thread of process <paramref name="pid"/> to <paramref name="cpus"/> (taskset -a).</summary>
    private static void Pin(int pid, string cpus) => RunTool("taskset", string.Create(CultureInfo.InvariantCulture, $"-a -p -c {cpus} {pid}"));

    /// <summary>The protocol layer alone: <see cref="RawHello"/> on a session (phase 2).</summary>
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
        var bo = new Hurd.Translators.Fuse.FuseBridgeOptions { EntryTimeout = TimeSpan.Zero, AttrTimeout = TimeSpan.Zero, AutoCache = false };
        if (Hurd.Translators.Fuse.FuseBridge.Connect(control, bo, out var bridge) != Errno.OK) return 1;
        var mo = new FuseMountOptions { MountPoint = dir, Subtype = "hurdbench", FsName = "sdk", Readers = readers > 0 ? readers : new FuseMountOptions().Readers };
        bo.ApplyTo(mo);
        using var session = FuseSession.Mount(bridge!, mo);
        session.Wait();
        return 0;
    }

    /// <summary>The hello translator as built (src/Translators/Hello); its node class is loaded from here.</summary>
    private static string HelloDll => Path.Combine(Repo.Root, "artifacts", "bin", "Hello", "release", "hello.dll");

    /// <summary>
    /// `fuse --serve-hello FILE`: the hello translator's root node (HelloFile, from the built hello.dll: the benchmark may
    /// not reference an executable) behind the stack TranslatorHost mounts: ServedFilesystem, the FUSE bridge over the
    /// in-process transport, the session; entry/attr timeouts 0 and no auto_cache, as hello_ll has neither.
    /// </summary>
    private static int ServeHello(string file, int readers, bool ioUring)
    {
        var type = System.Reflection.Assembly.LoadFrom(HelloDll).GetType("HelloFile", throwOnError: true)!;
        var node = (Hurd.Translators.Node)Activator.CreateInstance(type, nonPublic: true)!;
        using var served = new Hurd.Translators.Serving.ServedFilesystem(node, "hello");
        using var control = served.Control.MakeSend();
        var bo = new Hurd.Translators.Fuse.FuseBridgeOptions { EntryTimeout = TimeSpan.Zero, AttrTimeout = TimeSpan.Zero, AutoCache = false };
        if (Hurd.Translators.Fuse.FuseBridge.Connect(control, bo, out var bridge) != Errno.OK) return 1;
        var mo = new FuseMountOptions { MountPoint = file, Subtype = "hello", FsName = "hello", Readers = readers > 0 ? readers : new FuseMountOptions().Readers, IoUring = ioUring };
        bo.ApplyTo(mo);
        using (bridge)
        using (var session = FuseSession.Mount(bridge!, mo))
            session.Wait();
        return 0;
    }

    private static Process StartManagedDaemon(string dir, int readers, string mode = "--serve")
    {
        string host = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(host) { UseShellExecute = false, RedirectStandardError = true };
        // As the translator daemons are built (Hello.csproj, Tmpfs.Daemon.csproj): no tiered PGO, whose instrumented tier
        // kept the bridge + serving stack slow for tens of thousands of requests, methods optimized at first call, no
        // spinning thread-pool workers. This program keeps its own settings for `ipc`.
        psi.Environment["DOTNET_TieredPGO"] = "0";
        psi.Environment["DOTNET_TC_QuickJit"] = "0";
        psi.Environment["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0";
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") psi.ArgumentList.Add(typeof(FuseBenchmark).Assembly.Location);
        foreach (string a in new[] { "fuse", mode, dir, readers.ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    private static void Print(string name, double value, string unit) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} {value:F3} {unit}"));

    /// <summary>hello_ll.c with timeouts 0 (a directory holding "hello"), and a second build with its file made the root.</summary>
    private static (string Dir, string File) BuildHelloLl(string work)
    {
        string src = File.ReadAllText(Path.Combine(Examples, "hello_ll.c"))
            .Replace("e.attr_timeout = 1.0;", "e.attr_timeout = 0.0;")
            .Replace("e.entry_timeout = 1.0;", "e.entry_timeout = 0.0;")
            .Replace("fuse_reply_attr(req, &stbuf, 1.0);", "fuse_reply_attr(req, &stbuf, 0.0);");
        // The file as the root: ino 1 takes the file's attributes (case 1 falls into case 2's), open and read take ino 1.
        string rootDir = "case 1:\n\t\tstbuf->st_mode = S_IFDIR | 0755;\n\t\tstbuf->st_nlink = 2;\n\t\tbreak;\n\n\tcase 2:";
        if (!src.Contains(rootDir, StringComparison.Ordinal) || !src.Contains("if (ino != 2)", StringComparison.Ordinal) || !src.Contains("assert(ino == 2);", StringComparison.Ordinal))
            throw new InvalidOperationException("hello_ll.c is not the version this patch knows (libfuse 3.14)");
        string fileSrc = src.Replace(rootDir, "case 1:").Replace("if (ino != 2)", "if (ino != 1)").Replace("assert(ino == 2);", "assert(ino == 1);");
        string flags = RunTool("pkg-config", "fuse3 --cflags --libs").Trim();
        string Build(string name, string text)
        {
            string c = Path.Combine(work, name + ".c"), exe = Path.Combine(work, name);
            File.WriteAllText(c, text);
            RunTool("sh", $"-c \"gcc -O2 -Wall '{c}' -o '{exe}' {flags}\"");
            return exe;
        }
        return (Build("hello_ll", src), Build("hello_ll_file", fileSrc));
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
        if (n is < 13 or > 14) throw new IOException($"{path}: read {n} bytes, expected hello's 13 or 14");
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
