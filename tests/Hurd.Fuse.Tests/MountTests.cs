using System.Diagnostics;
using Hurd.Fuse;

namespace Hurd.Fuse.Tests;

/// <summary>
/// Real mounts (root only; skipped otherwise): the in-memory test filesystem served in this process on
/// dedicated reader threads, driven by ordinary programs run as child processes. Every test unmounts in
/// finally and removes its mount point.
/// </summary>
[Collection("mounts")]
public class MountTests
{
    private static FuseSession MountMemFs(string dir, MemFs fs, Action<FuseMountOptions>? configure = null)
    {
        var o = new FuseMountOptions { MountPoint = dir, Subtype = TestMount.Subtype, Readers = 2 };
        configure?.Invoke(o);
        return FuseSession.Mount(fs, o);
    }

    [Fact(Timeout = 120000)]
    public Task CoreutilsOnTheMount_BehaveAsOnAnyFilesystem() => Coreutils(ioUring: false);

    /// <summary>The same through FUSE over io_uring when the kernel allows it (fuse enable_uring=Y, as .ci/run sets):
    /// then every request after INIT but FORGET and INTERRUPT comes through the per-CPU rings.</summary>
    [Fact(Timeout = 120000)]
    public Task CoreutilsOnTheMount_ThroughIoUring_BehaveAsOnAnyFilesystem() => Coreutils(ioUring: true);

    /// <summary>Over io_uring each CPU's queue has two threads: while a handler blocks (here a LOOKUP held until the
    /// test lets it go), a client on the same CPU is still served, by the queue's other thread.</summary>
    [Fact(Timeout = 120000)]
    public async Task IoUring_AHandlerThatBlocks_DoesNotHoldUpItsCpusOtherClients()
    {
        if (!TestMount.CanMount || !FuseSession.IoUringAvailable) return;
        string dir = TestMount.NewMountPoint();
        var fs = new MemFs(TimeSpan.Zero);
        fs.AddFile("hello", "Hello, world!\n");
        using var release = new ManualResetEventSlim();
        using var blocked = new ManualResetEventSlim();
        fs.OnLookup = name =>
        {
            if (System.Text.Encoding.UTF8.GetString(name) != "slow") return;
            blocked.Set();
            release.Wait(TimeSpan.FromSeconds(60));
        };
        try
        {
            using var session = MountMemFs(dir, fs, o => o.IoUring = true);
            // Until the rings carry requests (they are registered just after INIT).
            for (int i = 0; i < 200 && session.RequestsThroughIoUring == 0; i++) await TestMount.Sh(dir, "taskset -c 0 cat hello");
            Assert.True(session.RequestsThroughIoUring > 0);
            var slow = TestMount.Run(dir, "taskset", "-c", "0", "stat", "slow");
            Assert.True(blocked.Wait(TimeSpan.FromSeconds(30)), "the blocking LOOKUP never arrived");
            // Same CPU, while the first handler still blocks: answered by the queue's other thread.
            Assert.Equal("Hello, world!\n", await TestMount.Sh(dir, "taskset -c 0 cat hello"));
            Assert.False(slow.IsCompleted);
            release.Set();
            var r = await slow;
            Assert.Contains("No such file or directory", r.Stderr);
            Assert.True(session.RequestsThroughIoUring > 0);
        }
        finally
        {
            release.Set();
            TestMount.Cleanup(dir);
        }
    }

    /// <summary>A write-only open is answered with FOPEN_DIRECT_IO (FuseConnection.WriteOnlyDirectIo): a write(2) that
    /// starts inside a page is one WRITE, where the page cache's write-through mode splits it at the first page it fills
    /// only in part; a reader that cached the file before sees the new bytes after the write.</summary>
    [Theory(Timeout = 120000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WriteOnlyOpens_DirectIo_OneWritePerUnalignedWrite_ReadersSeeTheData(bool direct)
    {
        if (!TestMount.CanMount) return;
        string dir = TestMount.NewMountPoint();
        var fs = new MemFs();
        try
        {
            using var session = MountMemFs(dir, fs, o => { if (!direct) Assert.True(o.ApplyOptions("nodirect_io_writeonly", out _)); });
            await TestMount.Sh(dir, "head -c 7680 /dev/zero | tr '\\0' a > f && cat f > /dev/null");
            int before = fs.Writes;
            // 6,321 bytes at offset 7,680 (inside the second page) through O_WRONLY|O_APPEND, in one write(2).
            await TestMount.Sh(dir, "head -c 6321 /dev/zero | tr '\\0' b > /tmp/hurd-wo.$$ && dd if=/tmp/hurd-wo.$$ of=f bs=6321 count=1 oflag=append conv=notrunc status=none; r=$?; rm -f /tmp/hurd-wo.$$; exit $r");
            Assert.Equal(direct ? 1 : 2, fs.Writes - before);
            Assert.Equal("14001 7680 6321\n", await TestMount.Sh(dir, "printf '%s %s %s\\n' $(stat -c %s f) $(tr -cd a < f | wc -c) $(tr -cd b < f | wc -c)"));
        }
        finally { TestMount.Cleanup(dir); }
    }

    /// <summary>With <c>-o nouring_idle</c> the queue threads keep the normal policy (SCHED_OTHER).</summary>
    [Fact(Timeout = 120000)]
    public async Task IoUring_NoUringIdle_KeepsTheQueueThreadsAtNormalPriority()
    {
        if (!TestMount.CanMount || !FuseSession.IoUringAvailable) return;
        string dir = TestMount.NewMountPoint();
        var fs = new MemFs();
        fs.AddFile("hello", "Hello, world!\n");
        try
        {
            var o = new FuseMountOptions();
            Assert.True(o.ApplyOptions("io_uring,nouring_idle", out _));
            using var session = MountMemFs(dir, fs, m => { m.IoUring = o.IoUring; m.IoUringIdle = o.IoUringIdle; });
            for (int i = 0; i < 200 && session.RequestsThroughIoUring == 0; i++) await TestMount.Sh(dir, "cat hello");
            Assert.True(session.RequestsThroughIoUring > 0);
            var policies = RingThreadPolicies();
            Assert.NotEmpty(policies);
            Assert.All(policies, p => Assert.Equal(0, p));
        }
        finally { TestMount.Cleanup(dir); }
    }

    private const int SchedIdle = 5;

    /// <summary>The scheduling policy (field 41 of /proc/self/task/TID/stat) of this process's io_uring queue threads
    /// that are still alive, found by their names (fuse-ring-CPU.N).</summary>
    private static List<int> RingThreadPolicies()
    {
        var policies = new List<int>();
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                if (!File.ReadAllText(Path.Combine(task, "comm")).StartsWith("fuse-ring-", StringComparison.Ordinal)) continue;
                string stat = File.ReadAllText(Path.Combine(task, "stat"));
                // Fields after the command name, which is in parentheses and may hold spaces: field 3 is index 0.
                string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                policies.Add(int.Parse(f[41 - 3], System.Globalization.CultureInfo.InvariantCulture));
            }
            catch (IOException) { } // the thread ended meanwhile
        }
        return policies;
    }

    private static async Task Coreutils(bool ioUring)
    {
        if (!TestMount.CanMount) return;
        string dir = TestMount.NewMountPoint();
        var fs = new MemFs();
        fs.AddFile("hello", "Hello, world!\n");
        try
        {
            using var session = MountMemFs(dir, fs, o => o.IoUring = ioUring);
            Assert.Equal("Hello, world!\n", await TestMount.Sh(dir, "cat hello"));
            Assert.Equal("14 regular file 644\n", await TestMount.Sh(dir, "stat -c '%s %F %a' hello"));
            await TestMount.Sh(dir, "echo x > f && echo yz >> f");
            Assert.Equal("x\nyz\n", await TestMount.Sh(dir, "cat f"));
            await TestMount.Sh(dir, "mkdir d && mv f d/g");
            Assert.Equal("g\n", await TestMount.Sh(dir, "ls d"));
            Assert.Equal("directory\n", await TestMount.Sh(dir, "stat -c %F d"));
            await TestMount.Sh(dir, "ln -s g d/l && ln d/g d/h");
            Assert.Equal("g\n", await TestMount.Sh(dir, "readlink d/l"));
            Assert.Equal("x\nyz\n", await TestMount.Sh(dir, "cat d/l"));
            Assert.Equal("2\n", await TestMount.Sh(dir, "stat -c %h d/g"));
            string ls = await TestMount.Sh(dir, "ls -l d");
            Assert.Contains("l -> g", ls);
            Assert.Contains(" g\n", ls);
            await TestMount.Sh(dir, "chmod 600 d/g && truncate -s 2 d/g && touch -m -d @1000000000 d/g");
            Assert.Equal("600 2 1000000000\n", await TestMount.Sh(dir, "stat -c '%a %s %Y' d/g"));
            Assert.Equal("x\n", await TestMount.Sh(dir, "cat d/h"));
            await TestMount.Sh(dir, "echo new > d/g"); // O_TRUNC through OPEN (ATOMIC_O_TRUNC)
            Assert.Equal("new\n", await TestMount.Sh(dir, "cat d/h"));
            var rmdirFull = await TestMount.Run(dir, "rmdir", "d");
            Assert.NotEqual(0, rmdirFull.ExitCode);
            Assert.Contains("Directory not empty", rmdirFull.Stderr);
            await TestMount.Sh(dir, "rm d/g d/l d/h && rmdir d");
            Assert.Equal("hello\n", await TestMount.Sh(dir, "ls -A"));
            var missing = await TestMount.Run(dir, "cat", "nope");
            Assert.Contains("No such file or directory", missing.Stderr);
            var longName = await TestMount.Run(dir, "touch", new string('n', 256));
            Assert.Contains("File name too long", longName.Stderr);
            // 3 MiB through 1 MiB writes and reads.
            await TestMount.Sh(dir, "head -c 3145728 /dev/urandom > /tmp/hurd-fuse-big.$$ && cp /tmp/hurd-fuse-big.$$ big && cmp /tmp/hurd-fuse-big.$$ big; r=$?; rm -f /tmp/hurd-fuse-big.$$; exit $r");
            Assert.Equal("3145728\n", await TestMount.Sh(dir, "stat -c %s big"));
            Assert.True(session.IsRunning);
            // As root the session raised the mount's readahead window after INIT (FuseMountOptions.ReadAheadKb).
            Assert.Equal("4096\n", await TestMount.Sh(dir, "cat /sys/class/bdi/$(mountpoint -d .)/read_ahead_kb"));
            if (ioUring && FuseSession.IoUringAvailable)
            {
                Assert.True(session.RequestsThroughIoUring > 20, $"{session.RequestsThroughIoUring} requests through the rings");
                // The queue threads are placed by RingPlacement (FuseMountOptions.IoUringIdle, the default): SCHED_IDLE
                // while the machine has idle CPU, normal priority while it is busy (as it may be during the tests).
                var policies = RingThreadPolicies();
                Assert.NotEmpty(policies);
                Assert.All(policies, p => Assert.True(p is 0 or SchedIdle, $"policy {p}"));
                Assert.True(RingPlacement.Registered.Length >= policies.Count, $"{RingPlacement.Registered.Length} threads placed, {policies.Count} ring threads");
            }
            else Assert.Equal(0, session.RequestsThroughIoUring);
        }
        finally { TestMount.Cleanup(dir); }
        Assert.False(TestMount.IsMounted(dir));
        Assert.True(fs.Destroyed);
    }

    [Fact(Timeout = 120000)]
    public async Task ManyFilesInADirectory_ListCompletelyWithReaddirplus()
    {
        if (!TestMount.CanMount) return;
        string dir = TestMount.NewMountPoint();
        try
        {
            using var session = MountMemFs(dir, new MemFs());
            await TestMount.Sh(dir, "mkdir m && cd m && for i in $(seq 1 300); do : > file-with-a-longish-name-$i; done");
            Assert.Equal("300\n", await TestMount.Sh(dir, "ls m | wc -l"));
            Assert.Equal("300\n", await TestMount.Sh(dir, "ls -l m | grep -c '^-rw'"));
            Assert.True(session.Dispatcher.Connection.Has(Abi.InitFlags.DoReaddirplus));
        }
        finally { TestMount.Cleanup(dir); }
    }

    [Fact(Timeout = 120000)]
    public async Task BusyMount_IsDetachedLazily_AndTheDirectoryIsFreed()
    {
        if (!TestMount.CanMount) return;
        string dir = TestMount.NewMountPoint();
        Process? holder = null;
        try
        {
            var session = MountMemFs(dir, new MemFs());
            await TestMount.Sh(dir, "mkdir sub");
            // A child process keeps its working directory inside the mount: umount2 says EBUSY.
            holder = Process.Start(new ProcessStartInfo("sleep", "60") { WorkingDirectory = Path.Combine(dir, "sub"), UseShellExecute = false })!;
            await Task.Delay(200);
            session.Stop(TimeSpan.FromSeconds(2));
            Assert.False(TestMount.IsMounted(dir));
            holder.Kill();
            await holder.WaitForExitAsync();
            // Once the last user is gone, the connection ends and the readers stop.
            Assert.True(session.Wait(TimeSpan.FromSeconds(30)));
            session.Dispose();
        }
        finally
        {
            if (holder is { HasExited: false }) holder.Kill();
            holder?.Dispose();
            TestMount.Cleanup(dir);
        }
        Assert.False(Directory.Exists(dir));
    }

    [Fact(Timeout = 120000)]
    public async Task KilledDaemon_UsersGetENOTCONN_AndClearingStaleMountsFreesTheDirectory()
    {
        if (!TestMount.CanMount) return;
        string dir = TestMount.NewMountPoint();
        Process? daemon = null;
        try
        {
            string dll = typeof(MemFs).Assembly.Location;
            var psi = new ProcessStartInfo(TestMount.DotnetHost(), ["exec", dll, "daemon", dir, "-f"]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            daemon = Process.Start(psi)!;
            string? line = await daemon.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(line == "ready", "daemon said: " + line + " " + (daemon.HasExited ? await daemon.StandardError.ReadToEndAsync() : ""));
            Assert.Equal("Hello, world!\n", await TestMount.Sh(dir, "cat hello"));
            daemon.Kill(); // SIGKILL
            await daemon.WaitForExitAsync();
            var r = await TestMount.Run("/", "stat", Path.Combine(dir, "hello"));
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("Transport endpoint is not connected", r.Stderr);
            Assert.True(TestMount.IsMounted(dir));
            Assert.Equal(1, FuseSession.ClearStaleMounts(TestMount.Subtype, dir));
            Assert.False(TestMount.IsMounted(dir));
        }
        finally
        {
            if (daemon is { HasExited: false }) daemon.Kill();
            daemon?.Dispose();
            TestMount.Cleanup(dir);
        }
        Assert.False(Directory.Exists(dir));
    }

    [Fact(Timeout = 120000)]
    public async Task ClearStaleMounts_LeavesLiveMountsAlone()
    {
        if (!TestMount.CanMount) return;
        string dir = TestMount.NewMountPoint();
        var fs = new MemFs();
        fs.AddFile("hello", "hi\n");
        try
        {
            using var session = MountMemFs(dir, fs);
            Assert.Equal("hi\n", await TestMount.Sh(dir, "cat hello"));
            Assert.Equal(0, FuseSession.ClearStaleMounts(TestMount.Subtype, dir));
            Assert.True(TestMount.IsMounted(dir));
        }
        finally { TestMount.Cleanup(dir); }
    }

    [Fact(Timeout = 120000)]
    public async Task ThroughFusermount3_MountsServesAndUnmounts()
    {
        if (!TestMount.CanMount || !File.Exists("/usr/bin/fusermount3") && !File.Exists("/bin/fusermount3")) return;
        string dir = TestMount.NewMountPoint();
        var fs = new MemFs();
        fs.AddFile("hello", "via fusermount\n");
        try
        {
            using (var session = MountMemFs(dir, fs, o => { o.UseFusermount = true; o.AllowOther = false; }))
            {
                Assert.Equal("via fusermount\n", await TestMount.Sh(dir, "cat hello"));
                Assert.True(TestMount.IsMounted(dir));
            }
            Assert.False(TestMount.IsMounted(dir));
        }
        finally { TestMount.Cleanup(dir); }
    }

    [Fact(Timeout = 120000)]
    public async Task Notifications_AreSentFromTheirOwnThread()
    {
        if (!TestMount.CanMount) return;
        string dir = TestMount.NewMountPoint();
        var fs = new MemFs(TimeSpan.FromSeconds(60));
        fs.AddFile("hello", "hi\n");
        try
        {
            using var session = MountMemFs(dir, fs);
            Assert.Equal("hi\n", await TestMount.Sh(dir, "cat hello"));
            var e1 = await session.NotifyInvalEntry(1, "hello"u8).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(e1 is Hurd.Ipc.Abi.Errno.OK or Hurd.Ipc.Abi.Errno.ENOENT, e1.ToString());
            var e2 = await session.NotifyInvalInode(1).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(e2 is Hurd.Ipc.Abi.Errno.OK or Hurd.Ipc.Abi.Errno.ENOENT, e2.ToString());
            Assert.Equal("hi\n", await TestMount.Sh(dir, "cat hello"));
        }
        finally { TestMount.Cleanup(dir); }
    }

    [Fact(Timeout = 180000)]
    public async Task FstabStyleMount_ThroughMountFuse3_GoesToTheBackground_AndPlainUmountEndsIt()
    {
        if (!TestMount.CanMount || !File.Exists("/sbin/mount.fuse3") && !File.Exists("/usr/sbin/mount.fuse3")) return;
        string dir = TestMount.NewMountPoint();
        string bin = Path.Combine(Path.GetTempPath(), "hurd-fuse-bin-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(bin);
        try
        {
            // An fstab line "PROG#SOURCE DIR fuse OPTS" (or "SOURCE DIR fuse.PROG OPTS" with PROG in root's PATH):
            // mount(8) runs mount.fuse3, which runs "PROG SOURCE DIR -o OPTS". mount(8) resets PATH for helpers,
            // so the test names its wrapper by absolute path.
            string wrapper = Path.Combine(bin, TestMount.Subtype);
            await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nexec '{TestMount.DotnetHost()}' exec '{typeof(MemFs).Assembly.Location}' daemon \"$@\"\n");
            if (OperatingSystem.IsLinux()) File.SetUnixFileMode(wrapper, (UnixFileMode)0x1ED);
            var m = await TestMount.Run("/", "mount", "-t", "fuse", "-o", "nodev,nosuid", wrapper + "#memfs", dir);
            Assert.True(m.ExitCode == 0, $"mount exited {m.ExitCode}: {m.Stdout} {m.Stderr}");
            Assert.True(TestMount.IsMounted(dir));
            Assert.Equal("Hello, world!\n", await TestMount.Sh(dir, "cat hello"));
            Assert.True(TestMount.AnyProcessMentioning(dir)); // the daemon serves in the background
            var u = await TestMount.Run("/", "umount", dir);
            Assert.True(u.ExitCode == 0, u.Stderr);
            Assert.False(TestMount.IsMounted(dir));
            // Unmounted, the daemon's readers see ENODEV and it exits by itself.
            for (int i = 0; i < 300 && TestMount.AnyProcessMentioning(dir); i++) await Task.Delay(100);
            Assert.False(TestMount.AnyProcessMentioning(dir));
        }
        finally
        {
            TestMount.KillProcessesMentioning(dir);
            TestMount.Cleanup(dir);
            try { Directory.Delete(bin, true); } catch { }
        }
    }

    [Fact(Timeout = 180000)]
    public async Task NotRoot_MountsThroughFusermount3_AndUnmountsWithFusermount3()
    {
        if (!TestMount.CanMount) return;
        const string nobody = "65534";
        string[] asNobody = ["--reuid=" + nobody, "--regid=" + nobody, "--clear-groups"];
        string dll = typeof(MemFs).Assembly.Location, host = TestMount.DotnetHost();
        // Needs setpriv, fusermount3, and a dotnet and test assembly that user nobody can reach (not so under /root).
        try
        {
            var probe = await TestMount.Run("/", "setpriv", [.. asNobody, "sh", "-c", $"test -r '{dll}' && test -x '{host}' && command -v fusermount3"]);
            if (probe.ExitCode != 0) return;
        }
        catch (System.ComponentModel.Win32Exception) { return; }
        string dir = TestMount.NewMountPoint();
        Process? daemon = null;
        try
        {
            await TestMount.Run("/", "chown", nobody + ":" + nobody, dir);
            var psi = new ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in (string[])[.. asNobody, "env", "HOME=/tmp", "DOTNET_CLI_HOME=/tmp", host, "exec", dll, "daemon", dir, "-f"]) psi.ArgumentList.Add(a);
            daemon = Process.Start(psi)!;
            string? line = await daemon.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            if (line != "ready")
            {
                await daemon.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
                string err = await daemon.StandardError.ReadToEndAsync();
                // fusermount3 needs its setuid bit to work; sandboxes (nosuid, no_new_privs) take it away.
                if (err.Contains("failed to open /dev/fuse: Permission denied", StringComparison.Ordinal)) return;
                Assert.Fail("daemon said: " + line + " " + err);
            }
            Assert.Equal("ready", line);
            Assert.True(TestMount.IsMounted(dir));
            var cat = await TestMount.Run("/", "setpriv", [.. asNobody, "cat", Path.Combine(dir, "hello")]);
            Assert.Equal("Hello, world!\n", cat.Stdout);
            var u = await TestMount.Run("/", "setpriv", [.. asNobody, "fusermount3", "-u", dir]);
            Assert.True(u.ExitCode == 0, u.Stderr);
            Assert.False(TestMount.IsMounted(dir));
            await daemon.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            if (daemon is { HasExited: false }) daemon.Kill();
            daemon?.Dispose();
            TestMount.Cleanup(dir);
        }
    }

    [Fact(Timeout = 120000)]
    public async Task AbortedConnection_UsersGetENOTCONN_ReadersEnd_AndUnmountFreesTheDirectory()
    {
        if (!TestMount.CanMount) return;
        string dir = TestMount.NewMountPoint();
        var fs = new MemFs();
        fs.AddFile("hello", "hi\n");
        bool fusectlBefore = TestMount.IsMounted("/sys/fs/fuse/connections");
        try
        {
            using var session = MountMemFs(dir, fs);
            Assert.Equal("hi\n", await TestMount.Sh(dir, "cat hello"));
            Assert.Equal(Hurd.Ipc.Abi.Errno.OK, session.Abort());
            var r = await TestMount.Run("/", "cat", Path.Combine(dir, "hello"));
            Assert.Contains("Transport endpoint is not connected", r.Stderr);
            Assert.True(session.Wait(TimeSpan.FromSeconds(30)));
            Assert.False(session.IsRunning);
            Assert.True(TestMount.IsMounted(dir));
            session.Dispose();
            Assert.False(TestMount.IsMounted(dir));
            Assert.True(fs.Destroyed);
        }
        finally { TestMount.Cleanup(dir); }
        Assert.False(Directory.Exists(dir));
        Assert.Equal(fusectlBefore, TestMount.IsMounted("/sys/fs/fuse/connections")); // fusectl only for the moment
        Assert.Equal(Hurd.Ipc.Abi.Errno.ENOENT, FuseSession.AbortConnection(dir));
    }

    [Fact(Timeout = 120000)]
    public async Task NotificationAskedForInsideAHandler_DoesNotDeadlock()
    {
        if (!TestMount.CanMount) return;
        string dir = TestMount.NewMountPoint();
        var fs = new MemFs(TimeSpan.FromSeconds(60));
        fs.AddFile("f", "x\n");
        FuseSession? session = null;
        var sent = new List<Task<Hurd.Ipc.Abi.Errno>>();
        // INVAL_ENTRY of the very entry being unlinked, asked for while the kernel holds the directory's lock:
        // written synchronously it would wait for that lock forever; queued, it goes out after the reply.
        fs.OnUnlink = (parent, name) => { lock (sent) sent.Add(session!.NotifyInvalEntry(parent, name)); };
        try
        {
            session = MountMemFs(dir, fs);
            Assert.Equal("x\n", await TestMount.Sh(dir, "cat f"));
            await TestMount.Sh(dir, "rm f");
            Task<Hurd.Ipc.Abi.Errno> t;
            lock (sent) t = Assert.Single(sent);
            var e = await t.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(e is Hurd.Ipc.Abi.Errno.OK or Hurd.Ipc.Abi.Errno.ENOENT, e.ToString());
            Assert.Equal("", await TestMount.Sh(dir, "ls -A"));
        }
        finally
        {
            session?.Dispose();
            TestMount.Cleanup(dir);
        }
    }
}
