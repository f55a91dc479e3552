using System.Diagnostics;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Transport;

namespace Hurd.Auth.Tests;

/// <summary>
/// One auth daemon (the real <c>auth</c> executable, a child process) for every test, in a temporary
/// HURD_RUNTIME_DIR (mode 0777 so a peer running as nobody reaches it). Killed and removed at the end.
/// </summary>
public sealed class AuthFixture : IDisposable
{
    public readonly string Dir;
    public readonly Child Daemon;
    private static int s_n;

    public AuthFixture()
    {
        Dir = Path.Combine(Path.GetTempPath(), $"hurd-auth-tests-{Environment.ProcessId}");
        Directory.CreateDirectory(Dir);
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(Dir, (UnixFileMode)0x1FF);
        Directory.CreateDirectory(Path.Combine(Dir, "servers"));
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(Path.Combine(Dir, "servers"), (UnixFileMode)0x1FF);
        Environment.SetEnvironmentVariable("HURD_RUNTIME_DIR", Dir);
        Daemon = Child.Start(Child.Dll("Auth", "auth.dll"), [], Dir, asNobody: false);
        var l = Daemon.WaitForAsync("ready").GetAwaiter().GetResult();
        if (l is null || !l.StartsWith("ready", StringComparison.Ordinal)) { Dispose(); throw new InvalidOperationException($"auth did not start: {l}"); }
    }

    public string UniqueName(string what) => $"test-{what}-{Interlocked.Increment(ref s_n)}";

    public void Dispose()
    {
        Daemon.Dispose();
        try { Directory.Delete(Dir, true); } catch { }
    }
}

[CollectionDefinition("auth")]
public sealed class AuthCollection : ICollectionFixture<AuthFixture> { }

/// <summary>A child process (killed on dispose), optionally run as nobody through setpriv.</summary>
public sealed class Child : IDisposable
{
    private readonly Process _p;
    public int Pid => _p.Id;

    private Child(Process p) { _p = p; }

    public static string Dll(string project, string dll)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Hurd.sln"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException("repository root not found");
        foreach (var cfg in new[] { "release", "debug" })
        {
            var p = Path.Combine(dir.FullName, "artifacts", "bin", project, cfg, dll);
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException($"{dll} not built");
    }

    public static Child Peer(string runtimeDir, bool asNobody, params string[] args) =>
        Start(Dll("Hurd.Auth.TestPeer", "Hurd.Auth.TestPeer.dll"), args, runtimeDir, asNobody);

    public static Child Start(string dll, string[] args, string runtimeDir, bool asNobody)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var psi = new ProcessStartInfo(asNobody ? "setpriv" : dotnet)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (asNobody)
        {
            foreach (var a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "--", dotnet }) psi.ArgumentList.Add(a);
            psi.Environment["HOME"] = "/tmp";
            psi.Environment["DOTNET_CLI_HOME"] = "/tmp";
        }
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["HURD_RUNTIME_DIR"] = runtimeDir;
        psi.Environment["HURD_IPC_WORKERS"] = "4";
        return new Child(Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + dll));
    }

    /// <summary>Reads lines until one starts with <paramref name="prefix"/> (or "fail"); null on timeout or end.</summary>
    public async Task<string?> WaitForAsync(string prefix, int timeoutMs = 30_000)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        try
        {
            while (true)
            {
                var l = await _p.StandardOutput.ReadLineAsync(cts.Token);
                if (l is null) return null;
                if (l.StartsWith(prefix, StringComparison.Ordinal) || l.StartsWith("fail", StringComparison.Ordinal)) return l;
            }
        }
        catch (OperationCanceledException) { return null; }
    }

    /// <summary>Writes a line to the child's stdin.</summary>
    public void Send(string line) { _p.StandardInput.WriteLine(line); _p.StandardInput.Flush(); }

    public void Kill() { try { if (!_p.HasExited) _p.Kill(entireProcessTree: true); } catch { } }

    public void Dispose()
    {
        Kill();
        try { _p.WaitForExit(5000); } catch { }
        _p.Dispose();
    }
}

/// <summary>Helpers over the daemon's ports from the test process (root).</summary>
internal static class A
{
    public static SendRight Connect()
    {
        Assert.Equal(Errno.OK, AuthBootstrapProtocol.Connect(out var h));
        return h!;
    }

    public static string Ids(SendRight h)
    {
        Assert.Equal(Errno.OK, AuthBootstrapProtocol.GetIds(h, out var eu, out var au, out var eg, out var ag));
        return new AuthIds(eu, au, eg, ag).ToString();
    }

    public static Errno Make(SendRight on, SendRight[] others, uint[] eu, uint[] au, uint[] eg, uint[] ag, out SendRight? made)
    {
        made = null;
        var names = others.Select(o => o.Name).ToArray();
        var e = new Hurd.Interfaces.AuthClient(on).auth_makeauth(names, eu, au, eg, ag, out var n);
        if (e == Errno.OK) made = SendRight.FromName(n);
        return e;
    }

    public static (ReceivePort giver, Publication pub) PublishGiver(string name, ReceivePort rendezvous)
    {
        var g = Giver.Create(rendezvous);
        Assert.Equal(Errno.OK, Bootstrap.Publish(name, g, out var pub));
        return (g, pub!);
    }
}
