using System.Text;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Interop;
using Hurd.Ipc.Ports;
using Hurd.Translators.Hosting;

namespace Hurd.Cli;

/// <summary>
/// Nodes inside a mounted translator's tree, reached over IPC as a Hurd program reaches them: the
/// daemon's control port, fsys_getroot for the caller's uid and gid, then dir_lookup with the retry
/// protocol (following retries into translators set inside the tree).
/// </summary>
public static class Tree
{
    /// <summary>The timeout of one call (a translator started on a lookup may take a while to come up).</summary>
    public static int CallTimeoutMs { get; set; } = 60_000;

    /// <summary>The root of the filesystem of <paramref name="record"/>, opened for the calling user.</summary>
    public static SendRight Root(MountRecord record, string node)
    {
        using var control = Daemons.Control(record, node);
        Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];
        var e = new FsysClient(control) { TimeoutMs = CallTimeoutMs }.fsys_getroot(PortName.Null, [Self.Uid], [Self.Gid], OpenFlags.None,
            out var doRetry, retry, out int n, out var file);
        if (e != Errno.OK) throw CommandFailed.On(node, e);
        var root = SendRight.FromName(file.Name) ?? throw CommandFailed.On(node, Errno.EIO);
        root.Timeout = TimeSpan.FromMilliseconds(CallTimeoutMs);
        if (doRetry != RetryType.Normal || n != 0)
        {
            using (root) return Lookup(root, Encoding.UTF8.GetString(retry[..n]), OpenFlags.None, 0, node);
        }
        return root;
    }

    /// <summary>
    /// dir_lookup of <paramref name="relative"/> from <paramref name="start"/> (not consumed) with
    /// <paramref name="flags"/>, following Normal and Reauth retries (there is no auth server to
    /// reauthenticate with yet: the port is used as it is). A magical retry (an absolute symlink) leaves
    /// the tree: ELOOP-like failure with a message.
    /// </summary>
    public static SendRight Lookup(SendRight start, string relative, OpenFlags flags, FileMode mode, string node)
    {
        SendRight cur = start;
        bool owned = false;
        byte[] name = Encoding.UTF8.GetBytes(relative.TrimStart('/'));
        var retry = new byte[HurdLimits.RetryNameMax];
        try
        {
            for (int i = 0; i <= HurdLimits.MaxRetries; i++)
            {
                var e = new FsClient(cur) { TimeoutMs = CallTimeoutMs }.dir_lookup(name, flags, mode, out var doRetry, retry, out int n, out var result);
                if (e is Errno.EOPNOTSUPP or Errno.MIG_BAD_ID) e = Errno.ENOTDIR;
                if (e != Errno.OK) throw CommandFailed.On(node, e);
                var next = SendRight.FromName(result.Name) ?? throw CommandFailed.On(node, Errno.EIO);
                next.Timeout = TimeSpan.FromMilliseconds(CallTimeoutMs);
                if (owned) cur.Dispose();
                cur = next;
                owned = true;
                if (doRetry == RetryType.Magical)
                    throw new CommandFailed($"{node}: the path leaves the translator's tree ({Encoding.UTF8.GetString(retry, 0, n)})");
                if (doRetry == RetryType.Normal && n == 0)
                {
                    owned = false;
                    return cur;
                }
                name = retry[..n];
            }
            throw CommandFailed.On(node, Errno.ELOOP);
        }
        finally
        {
            if (owned) cur.Dispose();
        }
    }

    /// <summary>io_stat of a port.</summary>
    public static Stat Stat(SendRight port, string node)
    {
        var e = new IoClient(port) { TimeoutMs = CallTimeoutMs }.io_stat(out var st);
        if (e != Errno.OK) throw CommandFailed.On(node, e);
        return st;
    }

    /// <summary>The passive record of the node behind <paramref name="port"/> (opened with O_NOTRANS), or null if it has none.</summary>
    public static string[]? GetTranslator(SendRight port, string node)
    {
        var buf = new byte[64 * 1024];
        var e = new FsClient(port) { TimeoutMs = CallTimeoutMs }.file_get_translator(buf, out int n);
        if (e == Errno.EINVAL) return null;
        if (e != Errno.OK) throw CommandFailed.On(node, e);
        return Native.SplitArgz(buf.AsSpan(0, n));
    }
}
