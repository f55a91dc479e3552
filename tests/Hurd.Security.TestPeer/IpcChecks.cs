using System.Text;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Transport;

namespace Hurd.Security.Testing;

/// <summary>
/// The <c>ipc CONTROL_SOCKET GIVER_SOCKET</c> mode: a real IPC client of a translator, run as whatever user setpriv
/// made it. Prints one line per check, "name result": whether it can connect to the translator's published control
/// socket itself; then, with the control port a giver (routine 1 on GIVER_SOCKET) hands it, what fsys_getroot claiming
/// uid 0 and gid 0 lets it open (secret: root's 0600 file, public: a 0644 one), what io_restrict_auth claiming uid 0
/// on that port lets it open, and what fsys_getroot claiming its own ids lets it open.
/// </summary>
internal static class IpcChecks
{
    public static int Run(string[] args)
    {
        var e = Bootstrap.Connect(args[0], out var direct, 5000);
        Console.WriteLine($"connect-control {e}");
        direct?.Dispose();

        e = Bootstrap.Connect(args[1], out var giver, 5000);
        if (e != Errno.OK) { Console.WriteLine($"fail giver {e}"); return 1; }
        SendRight? control;
        var call = giver!.BeginCall(1);
        try
        {
            e = call.Invoke();
            if (e != Errno.OK) { Console.WriteLine($"fail giver-call {e}"); return 1; }
            control = SendRight.FromName(call.Reply.ReadOptionalRight(out _));
        }
        finally { call.Dispose(); }
        if (control is null) { Console.WriteLine("fail no control port"); return 1; }
        var fsys = new FsysClient(control) { TimeoutMs = 10_000 };

        e = GetRoot(fsys, [0], [0], out var root0);
        Console.WriteLine($"getroot-0 {e}");
        if (root0 is not null)
        {
            Console.WriteLine($"getroot-0-secret {Read(root0, "secret")}");
            Console.WriteLine($"getroot-0-public {Read(root0, "public")}");
            e = new IoClient(root0) { TimeoutMs = 10_000 }.io_restrict_auth(out var rn, [0], [0]);
            using var restricted = e == Errno.OK ? SendRight.FromName(rn) : null;
            Console.WriteLine($"restrict-0-secret {(restricted is null ? e.ToString() : Read(restricted, "secret"))}");
            root0.Dispose();
        }
        uint uid = Hurd.Ipc.Interop.Self.Uid, gid = Hurd.Ipc.Interop.Self.Gid;
        e = GetRoot(fsys, [uid], [gid], out var self);
        Console.WriteLine($"getroot-self-secret {(self is null ? e.ToString() : Read(self, "secret"))}");
        Console.WriteLine($"getroot-self-public {(self is null ? e.ToString() : Read(self, "public"))}");
        self?.Dispose();
        control.Dispose();
        giver.Dispose();
        Console.WriteLine("done");
        return 0;
    }

    static Errno GetRoot(FsysClient fsys, uint[] uids, uint[] gids, out SendRight? root)
    {
        root = null;
        Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];
        var e = fsys.fsys_getroot(PortName.Null, uids, gids, OpenFlags.None, out _, retry, out _, out var file);
        if (e == Errno.OK) root = SendRight.FromName(file.Name);
        return e == Errno.OK && root is null ? Errno.EIO : e;
    }

    /// <summary>dir_lookup(name, O_READ) on <paramref name="dir"/>, then io_read: "OK text" or the errno.</summary>
    internal static string Read(SendRight dir, string name)
    {
        Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];
        var e = new FsClient(dir) { TimeoutMs = 10_000 }.dir_lookup(Encoding.UTF8.GetBytes(name), OpenFlags.Read, 0, out _, retry, out _, out var port);
        if (e != Errno.OK) return e.ToString();
        using var f = SendRight.FromName(port.Name);
        if (f is null) return "EIO";
        var buf = new byte[256];
        e = new IoClient(f) { TimeoutMs = 10_000 }.io_read(buf, out int n, 0, buf.Length);
        return e != Errno.OK ? "read " + e : "OK " + Encoding.UTF8.GetString(buf, 0, n).Trim();
    }
}

/// <summary>
/// The <c>reauth AUTH_SOCKET GIVER_SOCKET</c> mode: the giver hands this process a port of a translator's root that
/// carries root's ids (holding a port is the authority, as on the Hurd); the process reauthenticates it with its own
/// auth handle (io_reauthenticate + auth_user_authenticate, <see cref="Hurd.Translators.Serving.AuthPorts.Reauthenticate"/>)
/// and prints what each port opens, and who owns a file created through the new one.
/// </summary>
internal static class ReauthChecks
{
    public static int Run(string[] args)
    {
        var e = Bootstrap.Connect(args[1], out var giver, 5000);
        if (e != Errno.OK) { Console.WriteLine($"fail giver {e}"); return 1; }
        SendRight? port;
        var call = giver!.BeginCall(1);
        try
        {
            e = call.Invoke();
            if (e != Errno.OK) { Console.WriteLine($"fail giver-call {e}"); return 1; }
            port = SendRight.FromName(call.Reply.ReadOptionalRight(out _));
        }
        finally { call.Dispose(); }
        if (port is null) { Console.WriteLine("fail no port"); return 1; }
        Console.WriteLine($"given-secret {IpcChecks.Read(port, "secret")}");
        e = Hurd.Translators.Serving.AuthPorts.ConnectAt(args[0], out var handle, 10_000);
        if (e != Errno.OK) { Console.WriteLine($"fail auth {e}"); return 1; }
        e = Hurd.Translators.Serving.AuthPorts.Reauthenticate(port, handle!, TimeSpan.FromSeconds(30), CancellationToken.None, out var mine);
        Console.WriteLine($"reauth {e}");
        if (mine is not null)
        {
            Console.WriteLine($"reauth-secret {IpcChecks.Read(mine, "secret")}");
            Console.WriteLine($"reauth-public {IpcChecks.Read(mine, "public")}");
            Console.WriteLine($"reauth-group {IpcChecks.Read(mine, "group")}");
            Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];
            e = new FsClient(mine) { TimeoutMs = 10_000 }.dir_lookup("made"u8, OpenFlags.Write | OpenFlags.Create, (Hurd.Ipc.Abi.FileMode)0x1A4, out _, retry, out _, out var made);
            string owner = e.ToString();
            if (e == Errno.OK)
            {
                using var m = SendRight.FromName(made.Name)!;
                e = new IoClient(m) { TimeoutMs = 10_000 }.io_stat(out var st);
                owner = e == Errno.OK ? $"OK {st.Uid} {st.Gid}" : e.ToString();
            }
            Console.WriteLine($"reauth-create {owner}");
            mine.Dispose();
        }
        handle!.Dispose();
        port.Dispose();
        giver.Dispose();
        Console.WriteLine("done");
        return 0;
    }
}
