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

    [Fact(Timeout = 120_000)]
    public async Task PassiveHello_InsideMountedTmpfs_AppearsInTheSameMount()
    {
        if (Environment.UserName != "root") return; // mounting needs root here
        string mnt = Directory.CreateTempSubdirectory("hurd-passive-").FullName;
        var daemon = Process.Start(new ProcessStartInfo(TranslatorLauncher.DotnetHost) { ArgumentList = { Dll("Tmpfs.Daemon", "tmpfs"), "64M", "--mount=" + mnt } })!;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            MountRecord? record = null;
            while (DateTime.UtcNow < deadline && (record = MountRecord.Load(mnt)) is null && !daemon.HasExited) await Task.Delay(100);
            Assert.NotNull(record);
            Assert.Equal(daemon.Id, record!.Pid);

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
        finally
        {
            if (!daemon.HasExited) { daemon.Kill(); daemon.WaitForExit(10_000); }
            Hurd.Fuse.FuseSession.UnmountPath(mnt, lazy: true);
            MountRecord.Remove(mnt, daemon.Id);
            try { Directory.Delete(mnt); } catch (IOException) { }
        }
        // The hello child exits when its parent is gone (it polls its parent pid).
        var until = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < until && HelloChildren().Any()) await Task.Delay(100);
        Assert.Empty(HelloChildren());
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
