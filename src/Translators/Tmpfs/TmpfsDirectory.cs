using System.Diagnostics.CodeAnalysis;
using Hurd.Ipc.Abi;
using Hurd.Translators;

namespace Hurd.Tmpfs;

/// <summary>
/// A directory. Entries are kept in a hash table by name (looked up without allocating) and in a list in creation
/// order; each entry has a sequence number that is its readdir cookie, so a listing in progress stays valid while
/// entries come and go (removed entries are tombstoned and compacted later; the list stays sorted by cookie).
/// Cookie 0 is ".", 1 is "..", entries start at 2.
/// </summary>
public sealed class TmpfsDirectory : TmpfsNode, IDirectory
{
    /// <summary>st_size of a directory grows by this per entry (Linux tmpfs's BOGO_DIRENT_SIZE).</summary>
    public const int BogoDirentSize = 20;

    sealed class Entry(byte[] name, TmpfsNode node, long seq)
    {
        public readonly byte[] Name = name;
        public TmpfsNode Node = node;
        public readonly long Seq = seq;
        public bool Removed;
    }

    readonly Dictionary<byte[], Entry> byName = new(NameComparer.Instance);
    readonly Dictionary<byte[], Entry>.AlternateLookup<ReadOnlySpan<byte>> bySpan;
    readonly List<Entry> order = new();
    int tombstones;
    long nextSeq = 2;
    TmpfsDirectory parent;

    internal TmpfsDirectory(TmpfsFileSystem fs, ulong ino, in NewNode attrs, TmpfsDirectory? parent) : base(fs, ino, attrs)
    {
        bySpan = byName.GetAlternateLookup<ReadOnlySpan<byte>>();
        this.parent = parent ?? this;
        nlink = 2;
    }

    /// <summary>Number of entries (without "." and "..").</summary>
    public int Count { get { Fs.Tree.EnterReadLock(); try { return byName.Count; } finally { Fs.Tree.ExitReadLock(); } } }

    private protected override void StatData(ref Stat st) => st.Size = (byName.Count + 2) * (long)BogoDirentSize;

    bool Dead => nlink == 0;

    /// <inheritdoc/>
    public Errno Lookup(ReadOnlySpan<byte> name, out Node? node)
    {
        node = null;
        Fs.Tree.EnterReadLock();
        try
        {
            if (Dead) return Errno.ENOENT;
            if (name.SequenceEqual("."u8)) { node = this; return Errno.OK; }
            if (name.SequenceEqual(".."u8)) { node = parent; return Errno.OK; }
            if (!bySpan.TryGetValue(name, out var e)) return Errno.ENOENT;
            node = e.Node;
            return Errno.OK;
        }
        finally { Fs.Tree.ExitReadLock(); }
    }

    /// <summary>Adds an entry; caller holds the tree lock for writing and has reserved its space.</summary>
    void AddEntry(byte[] name, TmpfsNode node)
    {
        var e = new Entry(name, node, nextSeq++);
        byName.Add(name, e);
        order.Add(e);
    }

    /// <summary>Removes an entry (tombstone); caller holds the tree lock for writing. Gives back its space.</summary>
    void RemoveEntry(Entry e)
    {
        byName.Remove(e.Name);
        e.Removed = true;
        Fs.Release(TmpfsFileSystem.DirentSize(e.Name.Length));
        if (++tombstones > 32 && tombstones > order.Count / 2)
        {
            order.RemoveAll(x => x.Removed);
            tombstones = 0;
        }
    }

    Errno Make(ReadOnlySpan<byte> name, Func<ulong, TmpfsNode> create, long extraBytes, out Node? node)
    {
        node = null;
        if (Fs.ReadOnly) return Errno.EROFS;
        Fs.Tree.EnterWriteLock();
        try
        {
            if (Dead) return Errno.ENOENT;
            if (bySpan.ContainsKey(name)) return Errno.EEXIST;
            long cost = TmpfsFileSystem.DirentSize(name.Length) + extraBytes;
            if (!Fs.TryReserveInode()) return Errno.ENOSPC;
            if (!Fs.TryReserve(cost)) { Fs.ReleaseInode(); return Errno.ENOSPC; }
            var n = create(Fs.NextIno());
            AddEntry(name.ToArray(), n);
            Touch(modified: true);
            node = n;
            return Errno.OK;
        }
        finally { Fs.Tree.ExitWriteLock(); }
    }

    /// <inheritdoc/>
    public Errno Create(ReadOnlySpan<byte> name, in NewNode attrs, out Node? node)
    {
        var a = attrs;
        return Make(name, ino => a.Mode.IsRegular() ? new TmpfsFile(Fs, ino, a) : new TmpfsSpecial(Fs, ino, a), 0, out node);
    }

    /// <inheritdoc/>
    public Errno Mkdir(ReadOnlySpan<byte> name, in NewNode attrs, out Node? node)
    {
        var a = attrs;
        var e = Make(name, ino => new TmpfsDirectory(Fs, ino, a, this), 0, out node);
        if (e == Errno.OK) lock (Lock) nlink++;
        return e;
    }

    /// <inheritdoc/>
    public Errno Symlink(ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, in NewNode attrs, out Node? node)
    {
        var a = attrs;
        var t = target.ToArray();
        return Make(name, ino => new TmpfsSymlink(Fs, ino, a, t), t.Length, out node);
    }

    /// <inheritdoc/>
    public Errno Link(ReadOnlySpan<byte> name, Node target)
    {
        if (target is not TmpfsNode t || t.Fs != Fs) return Errno.EXDEV;
        if (t is TmpfsDirectory) return Errno.EPERM;
        if (Fs.ReadOnly) return Errno.EROFS;
        Fs.Tree.EnterWriteLock();
        try
        {
            if (Dead) return Errno.ENOENT;
            if (bySpan.ContainsKey(name)) return Errno.EEXIST;
            lock (t.Lock)
            {
                if (t.nlink == 0) return Errno.ENOENT;
                if (t.nlink == uint.MaxValue) return Errno.EMLINK;
            }
            if (!Fs.TryReserve(TmpfsFileSystem.DirentSize(name.Length))) return Errno.ENOSPC;
            AddEntry(name.ToArray(), t);
            lock (t.Lock) { t.nlink++; t.ctime = TimeSpec.Now(); }
            Touch(modified: true);
            return Errno.OK;
        }
        finally { Fs.Tree.ExitWriteLock(); }
    }

    /// <inheritdoc/>
    public Errno Unlink(ReadOnlySpan<byte> name)
    {
        if (Fs.ReadOnly) return Errno.EROFS;
        Fs.Tree.EnterWriteLock();
        try
        {
            if (!bySpan.TryGetValue(name, out var e)) return Errno.ENOENT;
            if (e.Node is TmpfsDirectory) return Errno.EISDIR;
            RemoveEntry(e);
            e.Node.DropLink();
            Touch(modified: true);
            return Errno.OK;
        }
        finally { Fs.Tree.ExitWriteLock(); }
    }

    /// <inheritdoc/>
    public Errno Rmdir(ReadOnlySpan<byte> name)
    {
        if (Fs.ReadOnly) return Errno.EROFS;
        Fs.Tree.EnterWriteLock();
        try
        {
            if (!bySpan.TryGetValue(name, out var e)) return Errno.ENOENT;
            if (e.Node is not TmpfsDirectory d) return Errno.ENOTDIR;
            if (d.byName.Count != 0) return Errno.ENOTEMPTY;
            if (d.ActiveTranslator is not null) return Errno.EBUSY;
            RemoveEntry(e);
            d.DropLink();
            lock (Lock) nlink--;
            Touch(modified: true);
            return Errno.OK;
        }
        finally { Fs.Tree.ExitWriteLock(); }
    }

    /// <summary>True when <paramref name="d"/> is <paramref name="ancestor"/> or lies below it. Tree lock held.</summary>
    static bool IsWithin(TmpfsDirectory d, TmpfsDirectory ancestor)
    {
        for (var x = d; ; x = x.parent)
        {
            if (x == ancestor) return true;
            if (x.parent == x) return false;
        }
    }

    /// <inheritdoc/>
    public Errno Rename(ReadOnlySpan<byte> oldName, Node newDir, ReadOnlySpan<byte> newName, RenameFlags flags)
    {
        if (newDir is not TmpfsDirectory nd || nd.Fs != Fs) return Errno.EXDEV;
        if (Fs.ReadOnly) return Errno.EROFS;
        Fs.Tree.EnterWriteLock();
        try
        {
            if (Dead || nd.Dead) return Errno.ENOENT;
            if (!bySpan.TryGetValue(oldName, out var src)) return Errno.ENOENT;
            nd.bySpan.TryGetValue(newName, out var dst);
            var sNode = src.Node;
            bool sDir = sNode is TmpfsDirectory;

            if ((flags & RenameFlags.Exchange) != 0)
            {
                if (dst is null) return Errno.ENOENT;
                if (dst == src) return Errno.OK;
                var dNode = dst.Node;
                bool dDir = dNode is TmpfsDirectory;
                if (nd != this)
                {
                    if (sDir && IsWithin(nd, (TmpfsDirectory)sNode)) return Errno.EINVAL;
                    if (dDir && IsWithin(this, (TmpfsDirectory)dNode)) return Errno.EINVAL;
                }
                src.Node = dNode;
                dst.Node = sNode;
                if (nd != this)
                {
                    if (sDir) { ((TmpfsDirectory)sNode).parent = nd; }
                    if (dDir) { ((TmpfsDirectory)dNode).parent = this; }
                    if (sDir != dDir)
                    {
                        int delta = sDir ? 1 : -1; // nd gains sNode's dir-ness, this loses it
                        lock (nd.Lock) nd.nlink = (uint)(nd.nlink + delta);
                        lock (Lock) nlink = (uint)(nlink - delta);
                    }
                }
                sNode.Touch(modified: false);
                dNode.Touch(modified: false);
                Touch(modified: true);
                if (nd != this) nd.Touch(modified: true);
                return Errno.OK;
            }

            if (dst is not null && (flags & RenameFlags.NoReplace) != 0) return Errno.EEXIST;
            // Linux's "trap" checks come before everything else: the source may not be an ancestor of the target's
            // directory (EINVAL), the target may not be an ancestor of the source's directory (ENOTEMPTY).
            if (sDir && IsWithin(nd, (TmpfsDirectory)sNode)) return Errno.EINVAL;
            if (dst?.Node is TmpfsDirectory ancestor && IsWithin(this, ancestor)) return Errno.ENOTEMPTY;
            if (dst is not null && dst.Node == sNode) return Errno.OK; // two links to one node: POSIX says do nothing
            if (dst is not null)
            {
                if (dst.Node is TmpfsDirectory dd)
                {
                    if (!sDir) return Errno.EISDIR;
                    if (dd.byName.Count != 0) return Errno.ENOTEMPTY;
                    if (dd.ActiveTranslator is not null) return Errno.EBUSY;
                }
                else if (sDir) return Errno.ENOTDIR;
            }
            long cost = TmpfsFileSystem.DirentSize(newName.Length);
            if (!Fs.TryReserve(cost)) return Errno.ENOSPC;
            if (dst is not null)
            {
                nd.RemoveEntry(dst);
                bool victimDir = dst.Node is TmpfsDirectory;
                dst.Node.DropLink();
                if (victimDir) lock (nd.Lock) nd.nlink--;
            }
            RemoveEntry(src);
            nd.AddEntry(newName.ToArray(), sNode);
            if (sDir && nd != this)
            {
                ((TmpfsDirectory)sNode).parent = nd;
                lock (Lock) nlink--;
                lock (nd.Lock) nd.nlink++;
            }
            sNode.Touch(modified: false);
            Touch(modified: true);
            if (nd != this) nd.Touch(modified: true);
            return Errno.OK;
        }
        finally { Fs.Tree.ExitWriteLock(); }
    }

    /// <inheritdoc/>
    public Errno ReadDir(long cookie, IDirEntrySink sink)
    {
        Fs.Tree.EnterReadLock();
        try
        {
            if (Dead) return Errno.ENOENT;
            if (cookie <= 0 && !sink.Add("."u8, Ino, FileMode.Directory, 1, this)) return Errno.OK;
            if (cookie <= 1 && !sink.Add(".."u8, parent.Ino, FileMode.Directory, 2, parent)) return Errno.OK;
            // Binary search for the first entry with Seq >= cookie (the list is sorted by Seq).
            int lo = 0, hi = order.Count;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (order[mid].Seq < cookie) lo = mid + 1; else hi = mid;
            }
            for (int i = lo; i < order.Count; i++)
            {
                var e = order[i];
                if (e.Removed) continue;
                if (!sink.Add(e.Name, e.Node.Ino, e.Node.mode.Type(), e.Seq + 1, e.Node)) break;
            }
            return Errno.OK;
        }
        finally { Fs.Tree.ExitReadLock(); }
    }

    sealed class NameComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly NameComparer Instance = new();
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode([DisallowNull] byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);
        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);
        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var h = new HashCode();
            h.AddBytes(alternate);
            return h.ToHashCode();
        }
        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}
