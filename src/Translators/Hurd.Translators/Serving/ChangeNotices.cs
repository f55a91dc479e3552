using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;

namespace Hurd.Translators.Serving;

/// <summary>
/// The Hurd's change notifications (fs.defs <c>dir_notice_changes</c> / <c>file_notice_changes</c>, sent with
/// fs_notify.defs): per node, the ports that asked to be told of its changes. Whoever makes a change through this
/// filesystem's ports (an IPC client, the libc shim, the FUSE bridge on behalf of the kernel) has it sent as a one-way
/// <c>dir_changed</c> / <c>file_changed</c> to every port registered on the node, after the change succeeded and before
/// its caller is answered.
/// </summary>
/// <remarks>
/// As in libdiskfs: the first message on a registration is <c>*_CHANGED_NULL</c> with the node's current tick, and
/// every later change of the node carries the next tick, so a client that sees a gap knows it missed messages. A server
/// never waits for a slow client: a message that finds the port's queue full is dropped (the gap tells); a port that
/// is gone is dropped from the list (at its dead-name notification, or at the first send that finds it dead). Limits:
/// <see cref="MaxPerNode"/> registrations per node and <see cref="MaxTotal"/> per filesystem, so that a hostile
/// client cannot make every change cost unbounded sends or the daemon unbounded memory (ENOSPC beyond).
/// </remarks>
internal sealed class ChangeNotices
{
    /// <summary>Registrations per node and kind, at most.</summary>
    public const int MaxPerNode = 64;

    /// <summary>Registrations per filesystem, at most.</summary>
    public const int MaxTotal = 4096;

    sealed class Watched
    {
        public readonly List<SendRight> Dir = [], File = [];
        public uint DirTick, FileTick;
    }

    // By inode number and generation: an inode number reused for a new file (ext2 reuses freed inodes) names another
    // node, which those who watched the old one must not hear of.
    readonly Dictionary<(ulong Ino, uint Gen), Watched> _byIno = new();
    readonly Lock _lock = new();
    int _total; // registrations; read without the lock by every change (0: nothing to do)

    static (ulong, uint) Key(Node node) => (node.Ino, node.Generation);

    /// <summary>Registrations now.</summary>
    public int Registrations => Volatile.Read(ref _total);

    /// <summary>False while nothing is registered: the one test every change pays.</summary>
    public bool Any => Volatile.Read(ref _total) != 0;

    /// <summary>True when <paramref name="node"/> has directory registrations.</summary>
    public bool WatchesDir(Node node)
    {
        if (!Any) return false;
        lock (_lock) return _byIno.TryGetValue(Key(node), out var w) && w.Dir.Count > 0;
    }

    /// <summary>True when <paramref name="node"/> has file registrations.</summary>
    public bool WatchesFile(Node node)
    {
        if (!Any) return false;
        lock (_lock) return _byIno.TryGetValue(Key(node), out var w) && w.File.Count > 0;
    }

    /// <summary>
    /// Registers <paramref name="port"/> (this takes it over: it is disposed when the registration ends or is refused)
    /// for the directory (<paramref name="dir"/>) or file changes of <paramref name="node"/>, after sending it the
    /// NULL message: a port that cannot take that one is refused with the send's error.
    /// </summary>
    public Errno Add(Node node, SendRight port, bool dir)
    {
        // Never wait on the client's queue: a send that cannot go at once fails (ETIMEDOUT) instead.
        port.Timeout = TimeSpan.Zero;
        var key = Key(node);
        uint tick;
        lock (_lock)
        {
            if (_total >= MaxTotal) { port.Dispose(); return Errno.ENOSPC; }
            _byIno.TryGetValue(key, out var w);
            if (w is not null && (dir ? w.Dir : w.File).Count >= MaxPerNode) { port.Dispose(); return Errno.ENOSPC; }
            tick = w is null ? 0 : dir ? w.DirTick : w.FileTick;
        }
        var client = new FsNotifyClient(port);
        var e = dir ? client.dir_changed(tick, DirChangedType.Null, default)
            : client.file_changed(tick, FileChangedType.Null, 0, 0);
        if (e != Errno.OK) { port.Dispose(); return e; }
        lock (_lock)
        {
            if (!_byIno.TryGetValue(key, out var w)) _byIno[key] = w = new Watched();
            var list = dir ? w.Dir : w.File;
            // Checked again: registrations made while this one's NULL message went out count too.
            if (_total >= MaxTotal || list.Count >= MaxPerNode) e = Errno.ENOSPC;
            else { list.Add(port); _total++; }
            Trim(key, w);
        }
        if (e != Errno.OK) { port.Dispose(); return e; }
        port.OnDeadName(_ => Remove(key, port));
        return Errno.OK;
    }

    /// <summary>Tells the ports registered on directory <paramref name="dir"/> that <paramref name="name"/> changed.</summary>
    public void DirChanged(Node dir, DirChangedType change, ReadOnlySpan<byte> name)
    {
        if (!Any || Take(Key(dir), isDir: true, out uint tick) is not { } ports) return;
        foreach (var p in ports) Sent(Key(dir), p, new FsNotifyClient(p).dir_changed(tick, change, name));
    }

    /// <summary>Tells the ports registered on file <paramref name="file"/> of a change of its bytes in
    /// [<paramref name="start"/>, <paramref name="end"/>) (-1: unknown) or of its attributes.</summary>
    public void FileChanged(Node file, FileChangedType change, long start, long end)
    {
        if (!Any || Take(Key(file), isDir: false, out uint tick) is not { } ports) return;
        foreach (var p in ports) Sent(Key(file), p, new FsNotifyClient(p).file_changed(tick, change, start, end));
    }

    /// <summary>The node's ports (a copy: the sends run without the lock, since a port served in this process runs its
    /// handler on the sending thread) and its next tick; null when none.</summary>
    List<SendRight>? Take((ulong, uint) ino, bool isDir, out uint tick)
    {
        tick = 0;
        lock (_lock)
        {
            if (!_byIno.TryGetValue(ino, out var w)) return null;
            var list = isDir ? w.Dir : w.File;
            if (list.Count == 0) return null;
            tick = isDir ? ++w.DirTick : ++w.FileTick;
            return [.. list];
        }
    }

    /// <summary>After a send: a port that is gone (or no longer a right) leaves the list; a full queue only loses this
    /// message.</summary>
    void Sent((ulong, uint) ino, SendRight port, Errno e)
    {
        if (e is Errno.OK or Errno.ETIMEDOUT or Errno.EAGAIN) return;
        Remove(ino, port);
    }

    void Remove((ulong, uint) ino, SendRight port)
    {
        lock (_lock)
        {
            if (!_byIno.TryGetValue(ino, out var w)) return;
            if (!w.Dir.Remove(port) && !w.File.Remove(port)) return;
            _total--;
            Trim(ino, w);
        }
        port.Dispose();
    }

    /// <summary>Forgets a node's entry once nothing is registered on it (its ticks restart at 0 with the next
    /// registration: the NULL message carries the tick, so a client never compares ticks across registrations).</summary>
    void Trim((ulong, uint) ino, Watched w)
    {
        if (w.Dir.Count == 0 && w.File.Count == 0) _byIno.Remove(ino);
    }

    /// <summary>Ends every registration (the filesystem goes away).</summary>
    public void Clear()
    {
        List<SendRight> all = [];
        lock (_lock)
        {
            foreach (var w in _byIno.Values) { all.AddRange(w.Dir); all.AddRange(w.File); }
            _byIno.Clear();
            _total = 0;
        }
        foreach (var p in all) p.Dispose();
    }
}
