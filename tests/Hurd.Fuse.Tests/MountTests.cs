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
    public async Task CoreutilsOnTheMount_BehaveAsOnAnyFilesystem()
    {
        if (!TestMount.CanMount) return;
        string dir = TestMount.NewMountPoint();
        var fs = new MemFs();
        fs.AddFile("hello", "Hello, world!\n");
        try
        {
            using var session = MountMemFs(dir, fs);
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
            var psi = new ProcessStartInfo(DotnetHost(), ["exec", dll, "daemon", dir, "-f"]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
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

    private static string DotnetHost()
    {
        string? p = Environment.ProcessPath;
        if (p != null && Path.GetFileNameWithoutExtension(p) == "dotnet") return p;
        string? root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (root != null && File.Exists(Path.Combine(root, "dotnet"))) return Path.Combine(root, "dotnet");
        return "dotnet";
    }
}
