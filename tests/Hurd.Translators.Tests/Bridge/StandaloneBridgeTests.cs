namespace Hurd.Translators.Tests.Bridge;

using System.Diagnostics;
using Hurd.Fuse;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Transport;
using Hurd.Translators.Fuse;
using Hurd.Translators.Hosting;

/// <summary>
/// The bridge standalone, over IPC between processes: the tmpfs daemon runs as a child process mounted on one
/// directory (its own in-process bridge); this process reaches its control port through the bootstrap directory and
/// mounts a second view of the same filesystem with its own bridge over the shared-memory transport. Both views
/// show the same files (timeouts 0 on the standalone side). Root only; skipped when the daemon is not built.
/// </summary>
[Collection("bridge-mounts")]
public sealed class StandaloneBridgeTests
{
    private static string Dll(string project, string name) =>
        Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", project, "release", name + ".dll"));

    [Fact(Timeout = 120_000)]
    public async Task ABridgeInAnotherProcess_ServesTheSameFilesystem_OverIpc()
    {
        string daemonDll = Dll("Tmpfs.Daemon", "tmpfs");
        if (!BridgeMount.CanMount || !File.Exists(daemonDll)) return;
        string first = Directory.CreateTempSubdirectory("hurd-bridge-ipc-").FullName;
        var daemon = Process.Start(new ProcessStartInfo(TranslatorLauncher.DotnetHost)
        {
            ArgumentList = { daemonDll, "16M", "--mount=" + first },
        })!;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            MountRecord? record = null;
            while (DateTime.UtcNow < deadline && (record = MountRecord.Load(first)) is null && !daemon.HasExited) await Task.Delay(100);
            Assert.NotNull(record);
            Assert.Equal(Errno.OK, Bootstrap.Lookup(record!.Control, out var control, 10_000));
            Assert.False(control!.IsLocal); // a port of the daemon's process: calls go over the shared-memory rings

            var options = new FuseBridgeOptions { EntryTimeout = TimeSpan.Zero, AttrTimeout = TimeSpan.Zero };
            using var second = BridgeMount.Start(control, options);
            await File.WriteAllTextAsync(Path.Combine(first, "made-there"), "through the daemon's bridge\n");
            Assert.Equal("through the daemon's bridge\n", await second.Sh("cat made-there"));
            await second.Sh("mkdir d && echo 'through ours' > d/f && chmod 640 d/f");
            Assert.Equal("through ours\n", await File.ReadAllTextAsync(Path.Combine(first, "d", "f")));
            Assert.Equal("640 13\n", await second.Sh("stat -c '%a %s' d/f"));
            Assert.Equal("d\nmade-there\n", await second.Sh("ls"));
            var denied = await second.Run("cat d/f >/dev/null && echo x >> d/f", asNobody: true);
            Assert.Contains("Permission denied", denied.Stderr);
            await second.Sh("rm -r d made-there");
            Assert.Empty(Directory.GetFileSystemEntries(first));
        }
        finally
        {
            if (!daemon.HasExited) { daemon.Kill(); daemon.WaitForExit(10_000); }
            FuseSession.UnmountPath(first, lazy: true);
            MountRecord.Remove(first, daemon.Id);
            try { Directory.Delete(first); } catch (IOException) { }
            daemon.Dispose();
        }
    }
}
