using System.Diagnostics;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Translators.Hosting;
using Hurd.Translators.Serving;

namespace Hurd.Translators.Tests.Auth;

/// <summary>
/// The real auth daemon as a child process, publishing in a runtime directory of its own (mode 0755; this process's
/// HURD_RUNTIME_DIR is left alone: other tests run beside these), and the root handle it gives this process (root).
/// Killed and removed at the end.
/// </summary>
public sealed class AuthServerFixture : IDisposable
{
    public readonly string Dir;
    public readonly string Socket;
    private readonly Process _daemon;
    private SendRight? _root;

    public AuthServerFixture()
    {
        Dir = Directory.CreateTempSubdirectory("hurd-sdk-auth-").FullName;
        // Searchable by all, as /run/hurd is: translators started as another user reach their bootstrap port in it.
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(Dir, (UnixFileMode)0x1ED);
        Socket = Path.Combine(Dir, "servers", "auth");
        var psi = new ProcessStartInfo(TranslatorLauncher.DotnetHost) { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll("Auth", "auth"));
        psi.Environment["HURD_RUNTIME_DIR"] = Dir;
        _daemon = Process.Start(psi)!;
        var ready = _daemon.StandardOutput.ReadLineAsync();
        if (!ready.Wait(60_000) || ready.Result is not { } l || !l.StartsWith("ready", StringComparison.Ordinal))
        {
            Dispose();
            throw new InvalidOperationException("the auth daemon did not start");
        }
    }

    /// <summary>The root handle (this process is root): a new reference each time, owned by the caller.</summary>
    public SendRight RootHandle()
    {
        if (_root is null)
        {
            Assert.Equal(Errno.OK, AuthPorts.ConnectAt(Socket, out var h, 10_000));
            _root = h!;
        }
        return _root.Copy();
    }

    /// <summary>A handle with <paramref name="ids"/>, made from the root handle.</summary>
    public SendRight Handle(Identity ids)
    {
        using var root = RootHandle();
        Assert.Equal(Errno.OK, AuthPorts.MakeAuth(root, ids, out var h));
        return h!;
    }

    public static string Dll(string project, string name) =>
        Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", project, "release", name + ".dll"));

    public void Dispose()
    {
        _root?.Dispose();
        try { if (!_daemon.HasExited) { _daemon.Kill(); _daemon.WaitForExit(10_000); } } catch (InvalidOperationException) { }
        _daemon.Dispose();
        try { Directory.Delete(Dir, true); } catch (IOException) { }
    }
}

[CollectionDefinition("sdk-auth")]
public sealed class AuthServerCollection : ICollectionFixture<AuthServerFixture> { }
