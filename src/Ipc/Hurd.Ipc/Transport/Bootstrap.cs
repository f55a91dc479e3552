using Hurd.Ipc.Abi;
using Hurd.Ipc.Interop;
using Hurd.Ipc.Ports;

namespace Hurd.Ipc.Transport;

/// <summary>
/// How a process finds the servers it starts from, like the Hurd's <c>/servers</c>: a runtime directory
/// of well-known endpoints. A server publishes a port under a name (<c>auth</c>, <c>proc</c>,
/// <c>translators/&lt;mount-id&gt;</c>...), which binds a listening Unix socket at
/// <c>&lt;RuntimeDirectory&gt;/servers/&lt;name&gt;</c>; <see cref="Lookup"/> connects to it and returns a send
/// right to the published port. Who may look a name up is decided by the socket file's permissions
/// (<see cref="Publish"/>'s <c>mode</c>); the server learns each client's pid/uid/gid from the kernel.
/// <para>The runtime directory is <c>$HURD_RUNTIME_DIR</c> if set, else <c>/run/hurd</c> for root, else
/// <c>$XDG_RUNTIME_DIR/hurd</c>, else <c>/tmp/hurd-&lt;uid&gt;</c>.</para>
/// </summary>
public static class Bootstrap
{
    /// <summary>The runtime directory (see the class remarks).</summary>
    public static string RuntimeDirectory
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("HURD_RUNTIME_DIR");
            if (!string.IsNullOrEmpty(env)) return env;
            if (Self.Uid == 0) return "/run/hurd";
            var xdg = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
            if (!string.IsNullOrEmpty(xdg)) return Path.Combine(xdg, "hurd");
            return $"/tmp/hurd-{Self.Uid}";
        }
    }

    /// <summary>The directory of published endpoints: <c>&lt;RuntimeDirectory&gt;/servers</c>.</summary>
    public static string ServersDirectory => Path.Combine(RuntimeDirectory, "servers");

    /// <summary>The socket path of a published name.</summary>
    public static string PathOf(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains("..") || name.StartsWith('/')) throw new ArgumentException($"bad endpoint name '{name}'", nameof(name));
        return Path.Combine(ServersDirectory, name);
    }

    /// <summary>Publishes <paramref name="port"/> under <paramref name="name"/>. Fails with EADDRINUSE if a live
    /// server already holds the name (a stale socket file of a dead one is replaced). Dispose the result to unpublish.</summary>
    public static Errno Publish(string name, ReceivePort port, out Publication? publication, UnixFileMode mode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)
    {
        publication = null;
        string path = PathOf(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var e = Listener.Open(path, port, mode, out var l);
        if (e != Errno.OK) return e;
        publication = new Publication(l!);
        return Errno.OK;
    }

    /// <summary>Connects to the endpoint <paramref name="name"/> and returns a send right to its port.
    /// ENOENT if nobody publishes it, ETIMEDOUT if the server does not answer within <paramref name="timeoutMs"/>.</summary>
    public static Errno Lookup(string name, out SendRight? right, int timeoutMs = 5000) => Connect(PathOf(name), out right, timeoutMs);

    /// <summary>Like <see cref="Lookup"/> for an explicit socket path.</summary>
    public static Errno Connect(string socketPath, out SendRight? right, int timeoutMs = 5000)
    {
        right = null;
        var space = IpcSpace.Current;
        var e = Connection.Connect(space, socketPath, timeoutMs, out var conn, out uint handle);
        if (e != Errno.OK) return e;
        lock (space.Lock)
        {
            var s = space.ReceiveRemoteSend(conn!, handle);
            right = new SendRight(s);
        }
        return Errno.OK;
    }
}

/// <summary>A published endpoint; disposing removes the name and stops accepting (open connections stay).</summary>
public sealed class Publication : IDisposable
{
    private readonly Listener _l;
    internal Publication(Listener l) { _l = l; }
    /// <summary>The socket path.</summary>
    public string Path => _l.Path;
    /// <summary>Unpublishes.</summary>
    public void Dispose() => _l.Dispose();
}

/// <summary>A listening SOCK_SEQPACKET socket whose connections all start with a send right to one port.</summary>
internal sealed unsafe class Listener : IDisposable, IEpollSource
{
    public int Fd { get; }
    public long Id { get; set; }
    public readonly string Path;
    private readonly ReceivePort _port;
    private int _closed;

    private Listener(int fd, string path, ReceivePort port) { Fd = fd; Path = path; _port = port; }

    public void OnEvent(uint events) => AcceptAll();

    public static Errno Open(string path, ReceivePort port, UnixFileMode mode, out Listener? l)
    {
        l = null;
        if (Libc.MakeAddress(path, out var addr) == uint.MaxValue) return Errno.ENAMETOOLONG;
        uint alen = Libc.MakeAddress(path, out addr);
        if (File.Exists(path) || Directory.Exists(path))
        {
            // A live server answers; a stale socket file is removed.
            int probe = Libc.socket(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC, 0);
            int r = Libc.connect(probe, &addr, alen);
            Libc.close(probe);
            if (r == 0) return Errno.EADDRINUSE;
            Libc.unlink(path);
        }
        int fd = Libc.socket(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK, 0);
        if (fd < 0) return (Errno)Libc.Errno;
        if (Libc.bind(fd, &addr, alen) != 0 || Libc.listen(fd, 256) != 0)
        {
            int e = Libc.Errno; Libc.close(fd); return (Errno)e;
        }
        try { if (OperatingSystem.IsLinux()) File.SetUnixFileMode(path, mode); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        l = new Listener(fd, path, port);
        IpcSpace.Current.Server.AddSource(l);
        return Errno.OK;
    }

    public void AcceptAll()
    {
        while (Volatile.Read(ref _closed) == 0)
        {
            int s = Libc.accept4(Fd, null, null, Libc.SOCK_CLOEXEC);
            if (s < 0) return;
            if (_port.IsDestroyed) { Libc.close(s); continue; }
            // The client first says whether it merges into a connection it already has with us, or wants a new one.
            IpcSpace.Current.Server.AddSource(new Ticket(IpcSpace.Current, s, _port, holdsSend: false));
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        IpcSpace.Current.Server.RemoveSource(this);
        Libc.unlink(Path);
        Libc.close(Fd);
    }
}
