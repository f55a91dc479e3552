using System.Diagnostics;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Translators.Hosting;

namespace Hurd.Auth.Tests;

/// <summary>The auth server's filesystem through a real FUSE mount (`auth --mount=DIR`, an auth server of its own
/// published under a test name): what root and nobody read, which handles each may read, and that nothing changes.</summary>
[Collection("auth")]
public class AuthFsTests(AuthFixture fx)
{
    private sealed record Ran(int Code, string Out, string Err);

    /// <summary>Runs a program (as nobody through setpriv when asked), killed after 60 s.</summary>
    private static Ran Run(bool asNobody, params string[] argv)
    {
        var psi = new ProcessStartInfo(asNobody ? "setpriv" : argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asNobody) foreach (var a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "--" }) psi.ArgumentList.Add(a);
        foreach (var a in asNobody ? argv : argv[1..]) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000)) { p.Kill(true); p.WaitForExit(); }
        return new Ran(p.ExitCode, o.Result, e.Result);
    }

    private static bool Mounted(string dir) => File.ReadLines("/proc/self/mountinfo").Any(l => l.Split(' ') is { Length: > 4 } f && f[4] == dir);

    [Fact(Timeout = 180_000)]
    public async Task ThroughFuse_EachReaderSeesItsOwnIds_HandlesOnlyToTheirOwners_AndNothingChanges()
    {
        string dir = Path.Combine(fx.Dir, "authfs-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(dir, (UnixFileMode)0x1ed);
        string name = fx.UniqueName("authfs");
        using var daemon = Child.Start(Child.Dll("Auth", "auth.dll"), ["--name", name, "--mount=" + dir], fx.Dir, asNobody: false);
        try
        {
            long until = Environment.TickCount64 + 60_000;
            while (!(MountRecord.Load(dir) is { } rec && rec.Pid == daemon.Pid))
            {
                Assert.True(Environment.TickCount64 < until, "auth did not mount");
                await Task.Delay(50);
            }
            string self = Path.Combine(dir, "self");
            const string Nobody = @"^euids: 65534\nauids:( 65534)+\negids: 65534\nagids:( 65534)+\n$";
            const string Root = @"^euids: 0\nauids:( 0)+\negids: 0\nagids:( 0)+\n$";
            // Each reader its own ids, whoever read just before (a longer text after a shorter one is not cut).
            Assert.Matches(Root, Run(false, "cat", self).Out);
            Assert.Matches(Nobody, Run(true, "cat", self).Out);
            Assert.Matches(Root, Run(false, "cat", self).Out);
            Assert.Matches(Nobody, Run(true, "cat", self).Out);
            Assert.Equal("handles self", string.Join(' ', Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order()));

            // A handle for nobody's ids (made by root) is nobody's to read; the root handle (0) is not.
            Assert.Equal(Errno.OK, AuthBootstrapProtocol.Connect(name, out var root));
            using var _r = root;
            Assert.Equal(Errno.OK, new AuthClient(root!).auth_makeauth([], [65534], [65534], [65534], [65534], out var hn));
            using var h = SendRight.FromName(hn);
            string handles = Path.Combine(dir, "handles");
            string? nobodys = null;
            foreach (var f in Directory.GetFiles(handles))
                if (File.ReadAllText(f) == "euids: 65534\nauids: 65534\negids: 65534\nagids: 65534\n") nobodys = f;
            Assert.NotNull(nobodys);
            Assert.Equal("euids: 65534\nauids: 65534\negids: 65534\nagids: 65534\n", Run(true, "cat", nobodys!).Out);
            // Root lists every handle (0 among them); nobody only the handles it owns.
            Assert.Contains("0", Run(false, "ls", handles).Out.Split('\n'));
            var listed = Run(true, "ls", handles).Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains(Path.GetFileName(nobodys), listed);
            Assert.DoesNotContain("0", listed);
            Assert.Equal("euids: 0\nauids: 0 0\negids: 0\nagids: 0 0\n", Run(false, "cat", Path.Combine(handles, "0")).Out);
            var denied = Run(true, "cat", Path.Combine(handles, "0"));
            Assert.NotEqual(0, denied.Code);
            Assert.Contains("Permission denied", denied.Err);

            // Read-only: root gets EROFS, nobody EACCES (the mode bits refuse first).
            Assert.Contains("Read-only file system", Run(false, "sh", "-c", $"echo x > {self}").Err);
            Assert.Contains("Read-only file system", Run(false, "sh", "-c", $"echo x >> {self}").Err);
            Assert.Contains("Read-only file system", Run(false, "mkdir", Path.Combine(dir, "d")).Err);
            Assert.Contains("Read-only file system", Run(false, "touch", Path.Combine(dir, "new")).Err);
            Assert.Contains("Read-only file system", Run(false, "rm", "-f", self).Err);
            Assert.Contains("Read-only file system", Run(false, "chmod", "666", self).Err);
            Assert.Contains("Permission denied", Run(true, "sh", "-c", $"echo x > {self}").Err);
            Assert.Matches(Root, Run(false, "cat", self).Out);
        }
        finally
        {
            Run(false, "kill", "-TERM", daemon.Pid.ToString());
            long until = Environment.TickCount64 + 10_000;
            while (Mounted(dir) && Environment.TickCount64 < until) await Task.Delay(50);
            if (Mounted(dir)) Run(false, "umount", "-l", dir);
            daemon.Kill();
            try { Directory.Delete(dir); } catch (IOException) { }
        }
    }
}
