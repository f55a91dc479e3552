using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;
using Hurd.Ipc.Transport;

namespace Hurd.Security.Tests;

/// <summary>
/// Identity across real processes over IPC: a client switched to nobody cannot reach a translator's control socket
/// (owner-only), and when a control port is handed to it anyway, claiming uid 0 in fsys_getroot or io_restrict_auth
/// gives it no more than its own kernel-attested ids: root's 0600 file stays closed, a 0644 file opens. Root, doing
/// the same, opens both. (The auth server's own rules, makeauth and the rendezvous, are tested with real processes in
/// tests/Hurd.Auth.Tests; io_reauthenticate in tests/Hurd.Translators.Tests/Auth.)
/// </summary>
public sealed class IpcSecurityTests
{
    const int T = 240_000;

    [Fact(Timeout = T)]
    public async Task ClaimedIds_AreClampedToTheCallersOwn_RootGetsWhatItAsks()
    {
        await Task.Yield();
        if (World.Unavailable is { } why) { Console.WriteLine("skipped: " + why); return; }
        using var w = new World("ipc");
        string ours = w.PathOf("ours");
        w.MountOurTmpfs(ours);
        File.WriteAllText(Path.Combine(ours, "secret"), "secret\n");
        File.SetUnixFileMode(Path.Combine(ours, "secret"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(Path.Combine(ours, "public"), "public\n");
        File.SetUnixFileMode(Path.Combine(ours, "public"), (UnixFileMode)0x1A4);

        string control = w.TranslatorControl;
        using var giver = ControlGiver.Publish(w, control);
        string giverPath = giver.Path;

        var nobody = Checks(w.Peer(User.Nobody, "", "ipc", control, giverPath));
        Assert.Equal("EACCES", nobody["connect-control"]);
        Assert.Equal("OK", nobody["getroot-0"]);
        Assert.Equal("EACCES", nobody["getroot-0-secret"]);
        Assert.Equal("OK public", nobody["getroot-0-public"]);
        Assert.Equal("EACCES", nobody["restrict-0-secret"]);
        Assert.Equal("EACCES", nobody["getroot-self-secret"]);
        Assert.Equal("OK public", nobody["getroot-self-public"]);

        var root = Checks(w.Peer(User.Root, "", "ipc", control, giverPath));
        Assert.Equal("OK", root["connect-control"]);
        Assert.Equal("OK secret", root["getroot-0-secret"]);
        Assert.Equal("OK secret", root["restrict-0-secret"]);
        Assert.Equal("OK secret", root["getroot-self-secret"]);
    }

    /// <summary>
    /// io_reauthenticate across real processes, with the real auth daemon: a process running as nobody that was
    /// handed a port carrying root's ids (holding a port is the authority, as on the Hurd) reauthenticates it with its
    /// own auth handle; the new port has exactly the ids auth names for it (uid 65534, its groups), whatever the port
    /// had: root's 0600 file no longer opens, a file it creates is nobody's, and a 0640 file of group users opens only
    /// when it is in users.
    /// </summary>
    [Theory(Timeout = T)]
    [InlineData("nobody")]
    [InlineData("nobody+users")]
    public async Task Reauthentication_GivesTheCallersOwnIds_NotThePorts(string userName)
    {
        await Task.Yield();
        if (World.Unavailable is { } why) { Console.WriteLine("skipped: " + why); return; }
        var user = userName == "nobody" ? User.Nobody : User.NobodyInUsers;
        using var w = new World("reauth");
        w.StartAuth();
        string ours = w.PathOf("ours");
        w.MountOurTmpfs(ours);
        File.WriteAllText(Path.Combine(ours, "secret"), "secret\n");
        File.SetUnixFileMode(Path.Combine(ours, "secret"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(Path.Combine(ours, "public"), "public\n");
        File.SetUnixFileMode(Path.Combine(ours, "public"), (UnixFileMode)0x1A4);
        File.WriteAllText(Path.Combine(ours, "group"), "group\n");
        File.SetUnixFileMode(Path.Combine(ours, "group"), (UnixFileMode)0x1A0);
        Assert.Equal(0, w.Exec(User.Root, "chgrp", ["100", Path.Combine(ours, "group")]).ExitCode);

        Assert.Equal(Errno.OK, Bootstrap.Connect(w.TranslatorControl, out var ctl));
        using var _ctl = ctl;
        Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];
        Assert.Equal(Errno.OK, new FsysClient(ctl!) { TimeoutMs = 10_000 }.fsys_getroot(PortName.Null, [0], [0], OpenFlags.None, out _, retry, out _, out var rootFile));
        using var giver = ControlGiver.Publish(w, SendRight.FromName(rootFile.Name)!);

        var r = Checks(w.Peer(user, "", "reauth", Path.Combine(w.Runtime, "servers", "auth"), giver.Path));
        Assert.Equal("OK secret", r["given-secret"]);
        Assert.Equal("OK", r["reauth"]);
        Assert.Equal("EACCES", r["reauth-secret"]);
        Assert.Equal("OK public", r["reauth-public"]);
        Assert.Equal(user == User.NobodyInUsers ? "OK group" : "EACCES", r["reauth-group"]);
        Assert.Equal("OK 65534 65534", r["reauth-create"]);
    }

    static Dictionary<string, string> Checks(Run r)
    {
        Assert.True(r.ExitCode == 0 && r.Out.Contains("done"), "peer: " + r);
        return r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");
    }
}

/// <summary>
/// A port, published in a world's runtime directory for everyone (mode 0666), whose routine 1 hands out a send right
/// (a translator's control port, or any other): how an unprivileged test peer comes to hold one.
/// </summary>
public sealed class ControlGiver : IDisposable
{
    readonly SendRight control;
    readonly ReceivePort port;
    readonly Publication publication;

    ControlGiver(SendRight control, ReceivePort port, Publication publication)
    {
        this.control = control; this.port = port; this.publication = publication;
    }

    /// <summary>The socket to connect to.</summary>
    public string Path => publication.Path;

    /// <summary>Tests of this assembly run in parallel: one runtime-directory switch at a time.</summary>
    static readonly Lock EnvLock = new();

    /// <summary>Connects (as this process, root) to the control socket <paramref name="controlSocket"/> and publishes
    /// a giver for it.</summary>
    public static ControlGiver Publish(World w, string controlSocket)
    {
        Assert.Equal(Errno.OK, Bootstrap.Connect(controlSocket, out var ctl));
        return Publish(w, ctl!);
    }

    /// <summary>Publishes a giver for <paramref name="ctl"/> (any send right; the giver owns it from now on).</summary>
    public static ControlGiver Publish(World w, SendRight ctl)
    {
        var giver = ReceivePort.Create(ctl!, static (SendRight c, ref RpcRequest req) =>
        {
            if (req.Id != 1) return Errno.MIG_BAD_ID;
            req.ReplyBody.WriteInt32(0);
            req.ReplyBody.WriteOptionalRight(c.Name, Disposition.CopySend);
            return Errno.OK;
        });
        // Names are relative to the runtime directory: the world's, for this call only (no other test of this assembly
        // uses the variable in this process).
        Errno e;
        Publication? pub;
        lock (EnvLock)
        {
            var saved = Environment.GetEnvironmentVariable("HURD_RUNTIME_DIR");
            Environment.SetEnvironmentVariable("HURD_RUNTIME_DIR", w.Runtime);
            try { e = Bootstrap.Publish("test-giver-" + Guid.NewGuid().ToString("N")[..8], giver, out pub); }
            finally { Environment.SetEnvironmentVariable("HURD_RUNTIME_DIR", saved); }
        }
        if (e != Errno.OK) { giver.Dispose(); ctl!.Dispose(); Assert.Fail("publish: " + e); }
        return new ControlGiver(ctl!, giver, pub!);
    }

    public void Dispose()
    {
        publication.Dispose();
        port.Dispose();
        control.Dispose();
    }
}
