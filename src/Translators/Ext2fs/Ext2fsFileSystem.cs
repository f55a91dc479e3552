using Hurd.Ext2;
using Hurd.Ipc.Abi;
using Hurd.Translators;

namespace Hurd.Ext2fs;

/// <summary>
/// One mounted ext2 image served as a node tree: the <see cref="Ext2Fs"/> core, the node cache (one
/// <see cref="Ext2fsNode"/> per inode while anything references it), the options and the periodic sync thread.
/// </summary>
/// <remarks>
/// <para>Locking: the core serialises itself (one reader-writer lock per filesystem); the nodes add only
/// <see cref="Node.Lock"/> for O_APPEND writes and the open-reference count, and the cache has its own lock.</para>
/// <para>Node cache: a dictionary from inode number to a weak reference, checked against the inode's generation
/// and type on every lookup, so a node the FUSE bridge or a protid still holds is the one handed out again, and
/// a recycled inode number gets a fresh node. Dead entries are pruned as the table grows.</para>
/// <para>Open files: the first open of a node takes a core reference (<see cref="Ext2Fs.Acquire"/>), the last
/// close drops it, so a file unlinked while open keeps its inode (on the orphan list) until then.</para>
/// </remarks>
public sealed class Ext2fsFileSystem : IDisposable
{
    readonly Dictionary<uint, WeakReference<Ext2fsNode>> nodes = new();
    readonly Lock cacheLock = new();
    int pruneAt = 4096;
    Ext2fsOptions options;
    Thread? syncThread;
    readonly ManualResetEventSlim stopSync = new();
    readonly AutoResetEvent syncChanged = new(false);
    int disposed;

    /// <summary>Serves <paramref name="core"/> (mounted by the caller) with <paramref name="options"/>; the
    /// filesystem takes ownership of the core (<see cref="Dispose"/> unmounts it).</summary>
    public Ext2fsFileSystem(Ext2Fs core, Ext2fsOptions options)
    {
        Core = core;
        this.options = options;
        Fsid = BitConverter.ToUInt64(core.Superblock.Uuid) ^ BitConverter.ToUInt64(core.Superblock.Uuid[8..]);
        if (core.Synchronous != options.Synchronous) core.Synchronous = options.Synchronous;
        var err = GetNode(InodeNumber.Root, out var root);
        if (err != Errno.OK) throw new InvalidOperationException($"the root inode cannot be read: {err}");
        Root = (Ext2fsDirectory)root!;
        StartSyncThread();
    }

    /// <summary>Opens and mounts the image <paramref name="image"/> with <paramref name="options"/>. The message says
    /// why a mount failed or why it is read-only (empty if nothing to say).</summary>
    public static Errno Open(string image, Ext2fsOptions options, out Ext2fsFileSystem? fs, out string message)
    {
        fs = null;
        var err = Ext2Fs.MountImage(image, new Ext2MountOptions
        {
            ReadOnly = options.ReadOnly,
            Force = options.Force,
            Synchronous = options.Synchronous,
        }, out var core, out message);
        if (err != Errno.OK) return err;
        try { fs = new Ext2fsFileSystem(core!, options with { Image = image, ReadOnly = core!.IsReadOnly }); }
        catch (InvalidOperationException e)
        {
            core!.Dispose();
            message = e.Message;
            return Errno.EIO;
        }
        return Errno.OK;
    }

    /// <summary>The ext2 core.</summary>
    public Ext2Fs Core { get; }

    /// <summary>The root directory (inode 2).</summary>
    public Ext2fsDirectory Root { get; }

    /// <summary>st_dev / f_fsid: from the filesystem UUID.</summary>
    public ulong Fsid { get; }

    /// <summary>The current options.</summary>
    public Ext2fsOptions Options => Volatile.Read(ref options);

    /// <summary>Nodes in the cache whose objects are still alive (for tests).</summary>
    public int CachedNodes
    {
        get
        {
            lock (cacheLock) return nodes.Values.Count(w => w.TryGetTarget(out _));
        }
    }

    /// <summary>The node of inode <paramref name="ino"/>: the cached one if it is alive and still this inode
    /// (same generation and type), else a new one. ESTALE/EIO from the core when the inode is not live.</summary>
    public Errno GetNode(InodeNumber ino, out Node? node)
    {
        node = null;
        var err = Core.Identify(ino, out uint generation, out var type);
        if (err != Errno.OK) return err;
        return GetNode(ino, generation, type, out node);
    }

    /// <summary><see cref="GetNode(InodeNumber, out Node?)"/> for an inode whose generation and type the caller has just
    /// read from the core (<see cref="Ext2Fs.Lookup(InodeNumber, ReadOnlySpan{byte}, out InodeNumber, out uint, out FileMode)"/>).</summary>
    internal Errno GetNode(InodeNumber ino, uint generation, FileMode type, out Node? node)
    {
        lock (cacheLock)
        {
            if (nodes.TryGetValue(ino.Value, out var w) && w.TryGetTarget(out var n) && n.Generation == generation && n.Type == type)
            {
                node = n;
                return Errno.OK;
            }
            Ext2fsNode made = type switch
            {
                FileMode.Directory => new Ext2fsDirectory(this, ino, generation),
                FileMode.Regular => new Ext2fsFile(this, ino, generation),
                FileMode.Symlink => new Ext2fsSymlink(this, ino, generation),
                _ => new Ext2fsSpecial(this, ino, generation, type),
            };
            if (w is not null) w.SetTarget(made);
            else nodes[ino.Value] = new WeakReference<Ext2fsNode>(made);
            if (nodes.Count >= pruneAt) Prune();
            node = made;
            return Errno.OK;
        }
    }

    /// <summary>Returns the cached node of <paramref name="ino"/> without touching the disk, or null.</summary>
    internal Ext2fsNode? Cached(uint ino)
    {
        lock (cacheLock) return nodes.TryGetValue(ino, out var w) && w.TryGetTarget(out var n) ? n : null;
    }

    void Prune()
    {
        var dead = new List<uint>();
        foreach (var (k, w) in nodes) if (!w.TryGetTarget(out _)) dead.Add(k);
        foreach (var k in dead) nodes.Remove(k);
        pruneAt = Math.Max(4096, nodes.Count * 2);
    }

    /// <summary>fsys_get_options: the options as an argz.</summary>
    public byte[] GetOptions() => Options.ToArgz();

    /// <summary>fsys_set_options: applies --readonly/--writable (remount), --sync[=N]/--no-sync. EINVAL for a bad
    /// option (nothing changes); EROFS when the image cannot be made writable.</summary>
    public Errno SetOptions(ReadOnlySpan<byte> argz)
    {
        var cur = Options;
        var e = Ext2fsOptions.Parse(argz, cur, out var o, runtime: true);
        if (e != Errno.OK) return e;
        if (o.ReadOnly != Core.IsReadOnly)
        {
            e = Core.SetReadOnly(o.ReadOnly);
            if (e != Errno.OK) return e;
        }
        if (o.Synchronous != Core.Synchronous) Core.Synchronous = o.Synchronous;
        Volatile.Write(ref options, o with { ReadOnly = Core.IsReadOnly });
        syncChanged.Set();
        return Errno.OK;
    }

    /// <summary>file_statfs for any node.</summary>
    public Errno StatFs(ref StatFs st)
    {
        var e = Core.StatFs(out var s);
        if (e != Errno.OK) return e;
        st = s;
        st.Fsid = Fsid;
        return Errno.OK;
    }

    void StartSyncThread()
    {
        syncThread = new Thread(SyncLoop) { IsBackground = true, Name = "ext2fs sync" };
        syncThread.Start();
    }

    /// <summary>The periodic sync (libdiskfs's sync thread): every <see cref="Ext2fsOptions.SyncInterval"/> seconds
    /// the core writes back in slices and fsyncs (<see cref="Ext2Fs.SyncInSlices"/>); 0 (--no-sync) or synchronous
    /// mode waits for an option change.</summary>
    void SyncLoop()
    {
        var handles = new WaitHandle[] { stopSync.WaitHandle, syncChanged };
        while (true)
        {
            var o = Options;
            int ms = o.SyncInterval > 0 && !o.Synchronous ? (int)Math.Min(int.MaxValue, o.SyncInterval * 1000L) : Timeout.Infinite;
            int which = WaitHandle.WaitAny(handles, ms);
            if (which == 0) return;
            if (which == WaitHandle.WaitTimeout && !Core.IsReadOnly) Core.SyncInSlices();
        }
    }

    /// <summary>Writes everything back and fsyncs the image (sync(2) on this filesystem).</summary>
    public Errno Sync() => Core.Sync();

    /// <summary>Stops the sync thread and unmounts cleanly (write back, VALID set, fsync). Returns the core's answer.</summary>
    public Errno Unmount()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return Errno.OK;
        stopSync.Set();
        syncThread?.Join();
        var e = Core.Unmount();
        Core.Dispose();
        return e;
    }

    /// <summary>Same as <see cref="Unmount"/>.</summary>
    public void Dispose() => Unmount();
}
