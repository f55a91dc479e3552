using Hurd.Ipc.Abi;
using Hurd.Translators;

namespace Hurd.Tmpfs;

/// <summary>
/// What every tmpfs node has: attributes, link count, xattrs, a passive translator record, and the rule that a node
/// is freed (its space and inode given back) when it has neither links nor opens.
/// </summary>
public abstract class TmpfsNode : Node, IStatable, IAttributes, IXattrs, ITranslatable, ICloseHook, ISyncable, IStatFs, IFilesystemOptions
{
    /// <inheritdoc/>
    public byte[] GetOptions() => Fs.GetOptions();

    /// <inheritdoc/>
    public Errno SetOptions(ReadOnlySpan<byte> argz) => Fs.SetOptions(argz);

    /// <summary>The filesystem this node belongs to.</summary>
    public TmpfsFileSystem Fs { get; }

    // Guarded by Lock.
    internal FileMode mode;
    internal uint uid, gid, nlink;
    internal ulong rdev;
    internal TimeSpec atime, mtime, ctime;
    List<KeyValuePair<byte[], byte[]>>? xattrs;
    byte[]? translator;
    long metaBytes; // xattrs + translator record, charged to the filesystem
    int inodeFreed;

    private protected TmpfsNode(TmpfsFileSystem fs, ulong ino, in NewNode attrs) : base(ino)
    {
        Fs = fs;
        mode = attrs.Mode;
        uid = attrs.Uid;
        gid = attrs.Gid;
        rdev = attrs.Rdev;
        atime = mtime = ctime = TimeSpec.Now();
    }

    /// <summary>The link count.</summary>
    public uint LinkCount { get { lock (Lock) return nlink; } }

    /// <summary>Fills the type-specific fields (size, blocks) while <see cref="Node.Lock"/> is held.</summary>
    private protected virtual void StatData(ref Stat st) { }

    /// <inheritdoc/>
    public Errno Stat(Protid who, ref Stat st)
    {
        lock (Lock)
        {
            st.Dev = Fs.Fsid;
            st.Mode = mode;
            st.Nlink = nlink;
            st.Uid = uid;
            st.Gid = gid;
            st.Author = uid;
            st.Rdev = rdev;
            st.Atime = atime;
            st.Mtime = mtime;
            st.Ctime = ctime;
            st.Blksize = TmpfsFileSystem.PageSize;
            StatData(ref st);
        }
        return Errno.OK;
    }

    /// <inheritdoc/>
    public Errno SetAttributes(in SetAttr attr)
    {
        if (Fs.ReadOnly) return Errno.EROFS;
        lock (Lock)
        {
            if ((attr.Valid & AttrMask.Mode) != 0) mode = (mode & FileMode.TypeMask) | (attr.Mode & FileMode.PermMask);
            if ((attr.Valid & AttrMask.Uid) != 0) uid = attr.Uid;
            if ((attr.Valid & AttrMask.Gid) != 0) gid = attr.Gid;
            if ((attr.Valid & AttrMask.Atime) != 0) atime = attr.Atime;
            if ((attr.Valid & AttrMask.Mtime) != 0) mtime = attr.Mtime;
            ctime = TimeSpec.Now();
        }
        return Errno.OK;
    }

    /// <summary>Sets ctime (and mtime) to now; caller holds no lock or holds <see cref="Node.Lock"/>.</summary>
    internal void Touch(bool modified)
    {
        lock (Lock)
        {
            var now = TimeSpec.Now();
            ctime = now;
            if (modified) mtime = now;
        }
    }

    /// <summary>Called under the tree lock when a link goes; frees the node if nothing else holds it.</summary>
    internal void DropLink()
    {
        bool free;
        lock (Lock)
        {
            if (nlink > 0) nlink--;
            if (mode.IsDirectory()) nlink = 0; // a removed directory has no links at all
            ctime = TimeSpec.Now();
            free = nlink == 0 && OpenCount == 0;
        }
        if (free) Free();
    }

    /// <summary>Gives back what the node holds (data, target, xattrs, record) and, once, its inode.</summary>
    private protected virtual void FreeData() { }

    void Free()
    {
        FreeData();
        lock (Lock)
        {
            xattrs = null;
            translator = null;
            Fs.Release(metaBytes);
            metaBytes = 0;
        }
        if (Interlocked.Exchange(ref inodeFreed, 1) == 0) Fs.ReleaseInode();
    }

    /// <inheritdoc/>
    public void Close(OpenFile file)
    {
        bool free;
        lock (Lock) free = nlink == 0 && OpenCount == 0;
        if (free) Free();
    }

    /// <inheritdoc/>
    public Errno Sync(bool dataOnly) => Errno.OK;

    /// <inheritdoc/>
    public Errno StatFs(ref StatFs st)
    {
        Fs.StatFs(ref st);
        return Errno.OK;
    }

    static long XattrCost(int nameLen, int valueLen) => 16 + nameLen + valueLen;

    int FindXattr(ReadOnlySpan<byte> name)
    {
        if (xattrs is null) return -1;
        for (int i = 0; i < xattrs.Count; i++)
            if (xattrs[i].Key.AsSpan().SequenceEqual(name)) return i;
        return -1;
    }

    /// <inheritdoc/>
    public Errno Getxattr(ReadOnlySpan<byte> name, Span<byte> value, out int size)
    {
        size = 0;
        lock (Lock)
        {
            int i = FindXattr(name);
            if (i < 0) return Errno.ENODATA;
            var v = xattrs![i].Value;
            size = v.Length;
            if (value.IsEmpty) return Errno.OK;
            if (value.Length < v.Length) return Errno.ERANGE;
            v.CopyTo(value);
            return Errno.OK;
        }
    }

    /// <inheritdoc/>
    public Errno Setxattr(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags)
    {
        if (Fs.ReadOnly) return Errno.EROFS;
        lock (Lock)
        {
            int i = FindXattr(name);
            if (i >= 0 && (flags & XattrFlags.Create) != 0) return Errno.EEXIST;
            if (i < 0 && (flags & XattrFlags.Replace) != 0) return Errno.ENODATA;
            long oldCost = i >= 0 ? XattrCost(name.Length, xattrs![i].Value.Length) : 0;
            long newCost = XattrCost(name.Length, value.Length);
            if (newCost > oldCost && !Fs.TryReserve(newCost - oldCost)) return Errno.ENOSPC;
            if (newCost < oldCost) Fs.Release(oldCost - newCost);
            metaBytes += newCost - oldCost;
            var pair = new KeyValuePair<byte[], byte[]>(name.ToArray(), value.ToArray());
            if (i >= 0) xattrs![i] = pair;
            else (xattrs ??= new()).Add(pair);
            ctime = TimeSpec.Now();
            return Errno.OK;
        }
    }

    /// <inheritdoc/>
    public Errno Listxattr(Span<byte> list, out int size)
    {
        lock (Lock)
        {
            size = 0;
            if (xattrs is null) return Errno.OK;
            foreach (var kv in xattrs) size += kv.Key.Length + 1;
            if (list.IsEmpty) return Errno.OK;
            if (list.Length < size) return Errno.ERANGE;
            int n = 0;
            foreach (var kv in xattrs)
            {
                kv.Key.CopyTo(list[n..]);
                n += kv.Key.Length;
                list[n++] = 0;
            }
            return Errno.OK;
        }
    }

    /// <inheritdoc/>
    public Errno Removexattr(ReadOnlySpan<byte> name)
    {
        if (Fs.ReadOnly) return Errno.EROFS;
        lock (Lock)
        {
            int i = FindXattr(name);
            if (i < 0) return Errno.ENODATA;
            long cost = XattrCost(name.Length, xattrs![i].Value.Length);
            xattrs.RemoveAt(i);
            Fs.Release(cost);
            metaBytes -= cost;
            ctime = TimeSpec.Now();
            return Errno.OK;
        }
    }

    /// <inheritdoc/>
    public bool HasPassiveTranslator { get { lock (Lock) return translator is not null; } }

    /// <inheritdoc/>
    public Errno GetTranslator(out ReadOnlyMemory<byte> argz)
    {
        lock (Lock)
        {
            argz = translator;
            return translator is null ? Errno.EINVAL : Errno.OK;
        }
    }

    /// <inheritdoc/>
    public Errno SetTranslator(ReadOnlySpan<byte> argz)
    {
        if (Fs.ReadOnly) return Errno.EROFS;
        lock (Lock)
        {
            long oldCost = translator?.Length ?? 0, newCost = argz.Length;
            if (newCost > oldCost && !Fs.TryReserve(newCost - oldCost)) return Errno.ENOSPC;
            if (newCost < oldCost) Fs.Release(oldCost - newCost);
            metaBytes += newCost - oldCost;
            translator = argz.IsEmpty ? null : argz.ToArray();
            ctime = TimeSpec.Now();
            return Errno.OK;
        }
    }
}

/// <summary>A FIFO, socket, character or block device: a node with a type and a device number, no data
/// (the Hurd's short-circuited types, stored as plain nodes).</summary>
public sealed class TmpfsSpecial : TmpfsNode
{
    internal TmpfsSpecial(TmpfsFileSystem fs, ulong ino, in NewNode attrs) : base(fs, ino, attrs) { nlink = 1; }
}

/// <summary>A symbolic link; its target is charged to the size limit.</summary>
public sealed class TmpfsSymlink : TmpfsNode, ISymlink
{
    readonly byte[] target;

    internal TmpfsSymlink(TmpfsFileSystem fs, ulong ino, in NewNode attrs, byte[] target) : base(fs, ino, attrs)
    {
        this.target = target;
        nlink = 1;
    }

    /// <inheritdoc/>
    public Errno Readlink(out ReadOnlyMemory<byte> target)
    {
        target = this.target;
        return Errno.OK;
    }

    private protected override void StatData(ref Stat st) => st.Size = target.Length;

    int released;
    private protected override void FreeData()
    {
        if (Interlocked.Exchange(ref released, 1) == 0) Fs.Release(target.Length);
    }
}
