using System.Diagnostics;
using System.Text;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Transport;
using Hurd.Translators.Hosting;

namespace Hurd.Translators.Tests.Serving;

/// <summary>
/// The real daemons through the real Linux mount: the tmpfs translator started as a process with
/// --mount, reached over IPC through its published control port, a passive hello translator set on a
/// node inside it and read back through the kernel with cat.
/// </summary>
public class MountedTranslatorTests
{
    private static string Dll(string project, string name) =>
        Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", project, "release", name + ".dll"));

    private static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string o = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        if (!p.WaitForExit(30_000)) p.Kill();
        return o;
    }

    /// <summary>Starts the tmpfs daemon mounted on a new directory and waits (60 s at most) for its mount record.</summary>
    private static async Task<(Process Daemon, string Mnt, MountRecord Record)> StartTmpfs(string prefix)
    {
        string mnt = Directory.CreateTempSubdirectory(prefix).FullName;
        var daemon = Process.Start(new ProcessStartInfo(TranslatorLauncher.DotnetHost) { ArgumentList = { Dll("Tmpfs.Daemon", "tmpfs"), "64M", "--mount=" + mnt } })!;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        MountRecord? record = null;
        while (DateTime.UtcNow < deadline && (record = MountRecord.Load(mnt)) is null && !daemon.HasExited) await Task.Delay(100);
        if (record is null) Stop(daemon, mnt);
        Assert.NotNull(record);
        Assert.Equal(daemon.Id, record!.Pid);
        return (daemon, mnt, record);
    }

    /// <summary>Kills the daemon and leaves no mount, record or directory behind.</summary>
    private static void Stop(Process daemon, string mnt)
    {
        if (!daemon.HasExited) { daemon.Kill(); daemon.WaitForExit(10_000); }
        Hurd.Fuse.FuseSession.UnmountPath(mnt, lazy: true);
        MountRecord.Remove(mnt, daemon.Id);
        try { Directory.Delete(mnt); } catch (IOException) { }
    }

    [Fact(Timeout = 120_000)]
    public async Task PassiveHello_InsideMountedTmpfs_AppearsInTheSameMount()
    {
        if (Environment.UserName != "root") return; // mounting needs root here
        var (daemon, mnt, record) = await StartTmpfs("hurd-passive-");
        try
        {
            var le = Bootstrap.Lookup(record.Control, out var control, 10_000);
            Assert.True(le == Errno.OK, $"lookup of {Bootstrap.PathOf(record.Control)} (exists: {File.Exists(Bootstrap.PathOf(record.Control))}): {le}");
            using (control)
            {
                Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];
                Assert.Equal(Errno.OK, new FsysClient(control!).fsys_getroot(PortName.Null, [0u], [0u], OpenFlags.Read,
                    out _, retry, out _, out var rootPort));
                using var root = SendRight.FromName(rootPort.Name)!;
                Assert.Equal(Errno.OK, new FsClient(root).dir_lookup("hello"u8, OpenFlags.Write | OpenFlags.Create | OpenFlags.NoTrans,
                    (FileMode)0x1A4, out _, retry, out _, out var nodePort));
                using var node = SendRight.FromName(nodePort.Name)!;
                Assert.Equal(Errno.OK, new FsClient(node).file_set_translator(TransFlags.Set, 0, 0, "hello\0--contents=passive!\n\0"u8, PortName.Null));
            }

            // The kernel's path: the bridge follows the retry into the hello daemon the lookup started.
            Assert.Equal("passive!\n", Run("cat", Path.Combine(mnt, "hello")));
            Assert.Contains("regular file", Run("stat", "-c", "%F", Path.Combine(mnt, "hello")));
        }
        finally { Stop(daemon, mnt); }
        // The hello child exits when its parent is gone (it polls its parent pid).
        var until = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < until && HelloChildren().Any()) await Task.Delay(100);
        Assert.Empty(HelloChildren());
    }

    /// <summary>A listener in this process hears of the changes a program makes through the daemon's FUSE mount: the
    /// bridge's requests are changes like any other client's (dir_notice_changes / file_notice_changes across
    /// processes).</summary>
    [Fact(Timeout = 120_000)]
    public async Task ChangeNotices_ReachAnotherProcess_ForChangesMadeThroughTheMount()
    {
        if (Environment.UserName != "root") return; // mounting needs root here
        var (daemon, mnt, record) = await StartTmpfs("hurd-notice-");
        try
        {
            Assert.Equal(Errno.OK, Bootstrap.Lookup(record.Control, out var control, 10_000));
            using (control)
            using (var dirs = new ChangeNoticeTests.Listener())
            using (var files = new ChangeNoticeTests.Listener())
            {
                Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];
                Assert.Equal(Errno.OK, new FsysClient(control!).fsys_getroot(PortName.Null, [0u], [0u], OpenFlags.Read,
                    out _, retry, out _, out var rootPort));
                using var root = SendRight.FromName(rootPort.Name)!;
                Assert.Equal(Errno.OK, dirs.Register(root, dir: true));
                Assert.Equal("0 Null", dirs.Next());

                File.WriteAllText(Path.Combine(mnt, "a"), "");
                Assert.Equal("1 New a", dirs.Next());
                Directory.CreateDirectory(Path.Combine(mnt, "b"));
                Assert.Equal("2 New b", dirs.Next());
                File.Move(Path.Combine(mnt, "a"), Path.Combine(mnt, "c"));
                Assert.Equal("3 Unlink a", dirs.Next());
                Assert.Equal("4 New c", dirs.Next());

                Assert.Equal(Errno.OK, new FsClient(root).dir_lookup("c"u8, OpenFlags.Read, 0, out _, retry, out _, out var cPort));
                using (var c = SendRight.FromName(cPort.Name)!)
                    Assert.Equal(Errno.OK, files.Register(c, dir: false));
                Assert.Equal("0 Null 0 0", files.Next());
                // O_TRUNC of an empty file (no change of size: nothing to tell), then one write.
                File.WriteAllText(Path.Combine(mnt, "c"), "hello");
                Assert.Equal("1 Write 0 5", files.Next());

                // A listener that stops reading loses messages, never the filesystem's time: 100,000 one-byte writes
                // through the mount (a WRITE each) go on at full speed while its queue is full, and the ticks it gets
                // after show the gap.
                using var gate = new ManualResetEventSlim(false);
                files.Gate = gate;
                var dd = Run("dd", "if=/dev/zero", "of=" + Path.Combine(mnt, "c"), "bs=1", "count=100000", "conv=notrunc");
                Assert.Contains("100000 bytes", dd);
                Assert.Equal("2 Write 0 1", files.Next());
                gate.Set();
                // What the queue held comes now (until nothing more for half a second); then the queue has room again.
                int queued = 0;
                for (string m; (m = files.Next(500)) != "(none)";) queued++;
                Assert.True(queued < 99_999, $"{queued} messages after the gate: none was dropped?");
                File.AppendAllText(Path.Combine(mnt, "c"), "!");
                Assert.Equal("100002 Write 100000 100001", files.Next()); // every write had its tick

                File.Delete(Path.Combine(mnt, "c"));
                Assert.Equal("5 Unlink c", dirs.Next());
                Directory.Delete(Path.Combine(mnt, "b"));
                Assert.Equal("6 Unlink b", dirs.Next());
            }
        }
        finally { Stop(daemon, mnt); }
    }

    private static IEnumerable<int> HelloChildren() =>
        Directory.EnumerateDirectories("/proc").Select(d => Path.GetFileName(d)).Where(n => n.All(char.IsDigit)).Select(int.Parse)
            .Where(pid =>
            {
                try { return File.ReadAllText($"/proc/{pid}/cmdline").Contains("--contents=passive!"); }
                catch (IOException) { return false; }
                catch (UnauthorizedAccessException) { return false; }
            });
}
