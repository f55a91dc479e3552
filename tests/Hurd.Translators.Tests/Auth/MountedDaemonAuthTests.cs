using System.Diagnostics;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Transport;
using Hurd.Translators.Hosting;

namespace Hurd.Translators.Tests.Auth;

/// <summary>
/// Every piece a real process: the auth daemon; the tmpfs daemon mounted with --mount, which finds auth in its
/// bootstrap directory (HURD_RUNTIME_DIR); a passive test-whoami translator on a node owned by nobody, started by the
/// tmpfs daemon on the first lookup through the kernel; and readers (cat, stat) as root and as nobody.
/// </summary>
[Collection("sdk-auth")]
public sealed class MountedDaemonAuthTests(AuthServerFixture auth)
{
    private static (int Code, string Out) Run(string file, bool asNobody, params string[] args)
    {
        var psi = new ProcessStartInfo(asNobody ? "setpriv" : file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asNobody) foreach (var a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", file }) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var err = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000)) { p.Kill(); return (-1, "timeout"); }
        return (p.ExitCode, o.Result + err.Result);
    }

    [Fact(Timeout = 180_000)]
    public async Task TmpfsDaemon_FindsAuth_AndStartsAPassiveTranslatorAsTheNodesOwner()
    {
        if (!Bridge.BridgeMount.CanMount) return;
        string mnt = Directory.CreateTempSubdirectory("hurd-auth-mount-").FullName;
        var psi = new ProcessStartInfo(TranslatorLauncher.DotnetHost) { UseShellExecute = false };
        foreach (var a in new[] { AuthServerFixture.Dll("Tmpfs.Daemon", "tmpfs"), "64M", "--mount=" + mnt }) psi.ArgumentList.Add(a);
        psi.Environment["HURD_RUNTIME_DIR"] = auth.Dir;
        var daemon = Process.Start(psi)!;
        try
        {
            string socket = Path.Combine(auth.Dir, "servers", MountRecord.ControlNameOf(MountRecord.Normalize(mnt)));
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < deadline && !daemon.HasExited && !(File.Exists(socket) && Bridge.BridgeMount.IsMounted(mnt))) await Task.Delay(100);
            Assert.True(Bridge.BridgeMount.IsMounted(mnt), "the tmpfs daemon did not mount");
            Assert.Equal(Errno.OK, Bootstrap.Connect(socket, out var control, 10_000));
            using (control)
            {
                Span<byte> retry = new byte[HurdLimits.RetryNameMax];
                Assert.Equal(Errno.OK, new FsysClient(control!) { TimeoutMs = 30_000 }.fsys_getroot(PortName.Null, [0u], [0u], OpenFlags.Read,
                    out _, retry, out _, out var rootPort));
                using var root = SendRight.FromName(rootPort.Name)!;
                Assert.Equal(Errno.OK, new FsClient(root) { TimeoutMs = 30_000 }.dir_lookup("who"u8, OpenFlags.Write | OpenFlags.Create | OpenFlags.NoTrans,
                    (FileMode)0x1A4, out _, retry, out _, out var nodePort));
                using var node = SendRight.FromName(nodePort.Name)!;
                Assert.Equal(Errno.OK, new FsClient(node).file_chown(Identity.NobodyId, Identity.NobodyId));
                Assert.Equal(Errno.OK, new FsClient(node).file_set_translator(TransFlags.Set, 0, 0, "test-whoami\0"u8, PortName.Null));
            }

            // Through the kernel: the bridge crosses into the translator the lookup started, as nobody, with nobody's handle.
            string who = Path.Combine(mnt, "who");
            // The translator reports the reader's ids as the owner: nobody's port reached it with nobody's ids (the
            // first look, so the kernel has no attributes cached from another reader).
            Assert.Equal((0, "65534 65534\n"), Run("stat", true, "-c", "%u %g", who));
            var (code, text) = Run("cat", false, who);
            Assert.True(code == 0, text);
            Assert.Contains("process uid 65534 gid 65534\n", text);
            Assert.Contains("auth euids=[65534] auids=[65534,65534] egids=[65534] agids=[65534,65534]\n", text);
        }
        finally
        {
            if (!daemon.HasExited) { daemon.Kill(); daemon.WaitForExit(10_000); }
            Hurd.Fuse.FuseSession.UnmountPath(mnt, lazy: true);
            try { Directory.Delete(mnt); } catch (IOException) { }
            daemon.Dispose();
        }
    }
}
