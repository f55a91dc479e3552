namespace Hurd.Translators.Tests.Bridge;

using System.Diagnostics;
using Hurd.Fuse;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Translators.Fuse;

/// <summary>
/// A <see cref="FuseBridge"/> over a <see cref="MiniFs"/>, mounted on a fresh directory under /tmp (root only), with
/// helpers that run ordinary programs as child processes with a deadline. Dispose unmounts (lazily if busy),
/// deallocates the bridge's ports and removes the directory; it never throws.
/// </summary>
public sealed class BridgeMount : IDisposable
{
    public const string Subtype = "hurdbridgetest";
    public const string Prefix = "/tmp/hurd-bridge-test-";

    public static bool CanMount => OperatingSystem.IsLinux() && File.Exists("/dev/fuse") && Hurd.Ipc.Interop.Self.Uid == 0;

    private readonly SendRight _control;
    private FuseSession? _session;

    public string Dir { get; }
    public FuseBridge Bridge { get; }

    private BridgeMount(string dir, SendRight control, FuseBridge bridge)
    {
        Dir = dir;
        _control = control;
        Bridge = bridge;
    }

    /// <summary>Mounts a bridge to the filesystem behind <paramref name="control"/> (taken over: released by Dispose).</summary>
    public static BridgeMount Start(SendRight control, FuseBridgeOptions? options = null)
    {
        FuseSession.ClearStaleMounts(Subtype, Prefix);
        string dir = Prefix + Guid.NewGuid().ToString("N")[..12];
        Directory.CreateDirectory(dir);
        var e = FuseBridge.Connect(control, options, out var bridge);
        if (e != Errno.OK) { control.Dispose(); Directory.Delete(dir); throw new InvalidOperationException($"connect: {e}"); }
        var m = new BridgeMount(dir, control, bridge!);
        try
        {
            var o = new FuseMountOptions { MountPoint = dir, Subtype = Subtype, Readers = 2 };
            bridge!.Options.ApplyTo(o);
            m._session = FuseSession.Mount(bridge, o);
        }
        catch
        {
            m.Dispose();
            throw;
        }
        return m;
    }

    public void Dispose()
    {
        try { _session?.Unmount(); } catch { }
        try { _session?.Dispose(); } catch { }
        try { if (IsMounted(Dir)) FuseSession.UnmountPath(Dir, lazy: true); } catch { }
        try { Bridge.Dispose(); } catch { }
        try { _control.Dispose(); } catch { }
        for (int i = 0; i < 50; i++)
        {
            try { if (Directory.Exists(Dir)) Directory.Delete(Dir, recursive: false); return; }
            catch { Thread.Sleep(100); }
        }
    }

    public static bool IsMounted(string dir) =>
        File.ReadAllLines("/proc/self/mountinfo").Any(l => l.Split(' ').ElementAtOrDefault(4) == dir);

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs <c>sh -c <paramref name="script"/></c> in the mount, as root or (with <paramref name="asNobody"/>) as
    /// uid/gid 65534 with no supplementary groups, with a 30 s deadline.</summary>
    public async Task<Result> Run(string script, bool asNobody = false)
    {
        var psi = new ProcessStartInfo(asNobody ? "setpriv" : "sh")
        {
            WorkingDirectory = Dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        if (asNobody) foreach (var a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "sh" }) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        psi.Environment["LC_ALL"] = "C";
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            try { p.Kill(true); } catch { }
            throw new TimeoutException($"sh -c '{script}' did not finish");
        }
        return new Result(p.ExitCode, await so, await se);
    }

    /// <summary>Like <see cref="Run"/>, failing the test on a non-zero exit; returns stdout.</summary>
    public async Task<string> Sh(string script, bool asNobody = false)
    {
        var r = await Run(script, asNobody);
        Assert.True(r.ExitCode == 0, $"sh -c '{script}'{(asNobody ? " as nobody" : "")} exited {r.ExitCode}: {r.Stderr}");
        return r.Stdout;
    }
}
