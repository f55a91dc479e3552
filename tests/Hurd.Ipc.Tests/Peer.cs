using System.Diagnostics;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Testing;
using Hurd.Ipc.Transport;

namespace Hurd.Ipc.Tests;

/// <summary>
/// The test run's bootstrap directory: one temporary HURD_RUNTIME_DIR for this test process and the
/// children it starts, removed at exit. Names are unique per test.
/// </summary>
internal static class TestRuntime
{
    public static readonly string Dir = Create();
    private static int s_n;

    private static string Create()
    {
        // A test host that was killed (not exited) could not remove its directory: sweep those of dead processes.
        foreach (var old in Directory.GetDirectories(Path.GetTempPath(), "hurd-ipc-tests-*"))
        {
            if (int.TryParse(Path.GetFileName(old)["hurd-ipc-tests-".Length..], out int pid) && !Directory.Exists($"/proc/{pid}"))
                try { Directory.Delete(old, true); } catch { }
        }
        var d = Path.Combine(Path.GetTempPath(), $"hurd-ipc-tests-{Environment.ProcessId}");
        Directory.CreateDirectory(d);
        Environment.SetEnvironmentVariable("HURD_RUNTIME_DIR", d);
        // The hostile peer runs as nobody and must still reach published sockets.
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(d, (UnixFileMode)0x1FF);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(d, true); } catch { } };
        return d;
    }

    public static string UniqueName(string what)
    {
        _ = Dir;
        return $"test-{what}-{Interlocked.Increment(ref s_n)}";
    }

    /// <summary>Publishes a fresh TestService under a unique name (in this process).</summary>
    public static (TestService svc, ReceivePort port, Publication pub, string name) PublishService(string what)
    {
        var name = UniqueName(what);
        var svc = new TestService();
        var port = svc.CreatePort();
        var e = Bootstrap.Publish(name, port, out var pub);
        Assert.Equal(Errno.OK, e);
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(Path.GetDirectoryName(pub!.Path)!, (UnixFileMode)0x1FF);
        return (svc, port, pub!, name);
    }
}

/// <summary>A child process running Hurd.Ipc.TestPeer; killed (SIGKILL) on dispose.</summary>
internal sealed class Peer : IDisposable
{
    private readonly Process _p;
    public int Pid => _p.Id;

    private static string PeerDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Hurd.sln"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException("repository root not found");
        foreach (var cfg in new[] { "release", "debug" })
        {
            var p = Path.Combine(dir.FullName, "artifacts", "bin", "Hurd.Ipc.TestPeer", cfg, "Hurd.Ipc.TestPeer.dll");
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException("Hurd.Ipc.TestPeer.dll not built");
    }

    public Peer(params string[] args)
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(PeerDll());
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["HURD_RUNTIME_DIR"] = TestRuntime.Dir;
        psi.Environment["HURD_IPC_WORKERS"] = "4";
        _p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start the test peer");
    }

    /// <summary>The next output line, or null at end of output or after <paramref name="timeoutMs"/>.</summary>
    public async Task<string?> ReadLineAsync(int timeoutMs = 20_000)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        try { return await _p.StandardOutput.ReadLineAsync(cts.Token); }
        catch (OperationCanceledException) { return null; }
    }

    /// <summary>Reads lines until one starts with <paramref name="prefix"/>; returns it (or null on timeout/end).</summary>
    public async Task<string?> WaitForAsync(string prefix, int timeoutMs = 20_000)
    {
        long end = Environment.TickCount64 + timeoutMs;
        while (true)
        {
            int left = (int)(end - Environment.TickCount64);
            if (left <= 0) return null;
            var l = await ReadLineAsync(left);
            if (l is null) return null;
            if (l.StartsWith(prefix, StringComparison.Ordinal)) return l;
            if (l.StartsWith("fail", StringComparison.Ordinal)) return l;
        }
    }

    public void Kill()
    {
        try { if (!_p.HasExited) _p.Kill(entireProcessTree: true); } catch { }
    }

    public bool WaitForExit(int ms) => _p.WaitForExit(ms);

    public void Dispose()
    {
        Kill();
        try { _p.WaitForExit(5000); } catch { }
        _p.Dispose();
    }
}
