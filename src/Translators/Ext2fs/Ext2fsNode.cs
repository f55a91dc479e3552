using System.Text;
using Hurd.Ext2;
using Hurd.Ipc.Abi;
using Hurd.Translators;
using CoreXattrFlags = Hurd.Ext2.XattrFlags;
using XattrFlags = Hurd.Translators.XattrFlags;

namespace Hurd.Ext2fs;

/// <summary>
/// What every ext2fs node has: stat and attributes from the inode, xattrs (in the inode or its xattr block), the
/// passive translator record (the <c>gnu.translator</c> xattr, as the Hurd's ext2fs keeps it), open references that
/// keep an unlinked inode alive, sync, statfs and the filesystem's options. The node holds only the inode number:
/// every operation goes to the <see cref="Ext2Fs"/> core, which has the state and the locking.
/// </summary>
public abstract class Ext2fsNode : Node, IStatable, IAttributes, IXattrs, ITranslatable, IOpenHook, ICloseHook, ISyncable,
    IStatFs, IFilesystemOptions
{
    const int TransUnknown = 0, TransNone = 1, TransSet = 2;
    int translatorState;   // TransUnknown until first asked; the record itself is read again when needed
    int held;              // opens counted by the hooks (guarded by Lock)
    bool acquired;         // a core reference is held for them (guarded by Lock)

    private protected Ext2fsNode(Ext2fsFileSystem fs, InodeNumber ino, uint generation, FileMode type) : base(ino.Value)
    {
        Fs = fs;
        Inode = ino;
        Generation = generation;
        Type = type;
    }

    /// <summary>The filesystem this node belongs to.</summary>
    public Ext2fsFileSystem Fs { get; }

    /// <summary>The inode number.</summary>
    public InodeNumber Inode { get; }

    /// <summary>The file type (it never changes for one inode generation).</summary>
    public FileMode Type { get; }

    private protected Ext2Fs Core => Fs.Core;

    /// <summary>ESTALE (an inode no longer in use) is ENOENT for the client: the file was removed.</summary>
    private protected static Errno Gone(Errno e) => e == Errno.ESTALE ? Errno.ENOENT : e;

    /// <inheritdoc/>
    public Errno Stat(Protid who, ref Stat st)
    {
        var e = Core.GetAttr(Inode, out var s);
        if (e != Errno.OK) return Gone(e);
        st.Dev = Fs.Fsid;
        st.Mode = s.Mode;
        st.Nlink = s.Nlink;
        st.Uid = s.Uid;
        st.Gid = s.Gid;
        st.Rdev = s.Rdev;
        st.Size = s.Size;
        st.Blksize = s.Blksize;
        st.Blocks = s.Blocks;
        st.Atime = s.Atime;
        st.Mtime = s.Mtime;
        st.Ctime = s.Ctime;
        st.Author = s.Author;
        st.Generation = s.Generation;
        return Errno.OK;
    }

    /// <inheritdoc/>
    public Errno SetAttributes(in SetAttr attr)
    {
        var req = new SetAttrRequest();
        if ((attr.Valid & AttrMask.Mode) != 0) { req.Mask |= SetAttrMask.Mode; req.Mode = (uint)(attr.Mode & FileMode.PermMask); }
        if ((attr.Valid & AttrMask.Uid) != 0) { req.Mask |= SetAttrMask.Uid; req.Uid = attr.Uid; }
        if ((attr.Valid & AttrMask.Gid) != 0) { req.Mask |= SetAttrMask.Gid; req.Gid = attr.Gid; }
        if ((attr.Valid & AttrMask.Atime) != 0) { req.Mask |= SetAttrMask.Atime; req.Atime = attr.Atime; }
        if ((attr.Valid & AttrMask.Mtime) != 0) { req.Mask |= SetAttrMask.Mtime; req.Mtime = attr.Mtime; }
        return Gone(Core.SetAttr(Inode, req));
    }

    // ---- xattrs ----

    static string Name(ReadOnlySpan<byte> name) => Encoding.UTF8.GetString(name);

    /// <summary>Names the SDK never passes through xattr calls and listings leave out: the translator record has its
    /// own routines (file_get_translator), and copying it as an xattr (cp -a) must not set translators.</summary>
    static bool Hidden(string name) => name.StartsWith("gnu.", StringComparison.Ordinal);

    /// <summary>A name in a namespace ext2 stores (the core answers EOPNOTSUPP for the others).</summary>
    static bool KnownNamespace(ReadOnlySpan<byte> name) =>
        (name.StartsWith("user."u8) && name.Length > 5) || (name.StartsWith("system."u8) && name.Length > 7) ||
        (name.StartsWith("trusted."u8) && name.Length > 8) || (name.StartsWith("security."u8) && name.Length > 9) ||
        (name.StartsWith("gnu."u8) && name.Length > 4);

    /// <inheritdoc/>
    public Errno Getxattr(ReadOnlySpan<byte> name, Span<byte> value, out int size)
    {
        size = 0;
        // Most inodes have no xattr at all, and the SDK asks a directory for its default ACL on every create.
        if (KnownNamespace(name))
        {
            var m = Core.MayHaveXattrs(Inode, out bool maybe);
            if (m != Errno.OK) return Gone(m);
            if (!maybe) return Errno.ENODATA;
        }
        var n = Name(name);
        if (Hidden(n)) return Errno.ENODATA;
        var e = Core.Getxattr(Inode, n, out var v);
        if (e != Errno.OK) return Gone(e);
        size = v.Length;
        if (value.IsEmpty) return Errno.OK;
        if (value.Length < v.Length) return Errno.ERANGE;
        v.CopyTo(value);
        return Errno.OK;
    }

    /// <inheritdoc/>
    public Errno Setxattr(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags)
    {
        var n = Name(name);
        if (Hidden(n)) return Errno.EOPNOTSUPP;
        return Gone(Core.Setxattr(Inode, n, value, (CoreXattrFlags)(int)flags));
    }

    /// <inheritdoc/>
    public Errno Listxattr(Span<byte> list, out int size)
    {
        size = 0;
        var e = Core.Listxattr(Inode, out var names);
        if (e != Errno.OK) return Gone(e);
        foreach (var n in names) if (!Hidden(n)) size += Encoding.UTF8.GetByteCount(n) + 1;
        if (list.IsEmpty) return Errno.OK;
        if (list.Length < size) return Errno.ERANGE;
        int at = 0;
        foreach (var n in names)
        {
            if (Hidden(n)) continue;
            at += Encoding.UTF8.GetBytes(n, list[at..]);
            list[at++] = 0;
        }
        return Errno.OK;
    }

    /// <inheritdoc/>
    public Errno Removexattr(ReadOnlySpan<byte> name)
    {
        var n = Name(name);
        if (Hidden(n)) return Errno.ENODATA;
        return Gone(Core.Removexattr(Inode, n));
    }

    // ---- passive translator record ----

    /// <inheritdoc/>
    /// <remarks>Asked on every lookup walk through the node, so the answer is remembered; only
    /// <see cref="SetTranslator"/> (through this same node: one node per inode) changes it.</remarks>
    public bool HasPassiveTranslator
    {
        get
        {
            int s = Volatile.Read(ref translatorState);
            if (s != TransUnknown) return s == TransSet;
            // A new node (asked once per create) has no xattr and no legacy record: no need to look for one.
            if (Core.MayHaveXattrs(Inode, out bool maybe) == Errno.OK && !maybe)
            {
                Interlocked.CompareExchange(ref translatorState, TransNone, TransUnknown);
                return Volatile.Read(ref translatorState) == TransSet;
            }
            var e = Core.GetPassiveTranslator(Inode, out var rec);
            if (e == Errno.OK && rec.Length > 0) s = TransSet;
            else if (e is Errno.OK or Errno.ENODATA) s = TransNone;
            else return false; // unreadable: not remembered
            Interlocked.CompareExchange(ref translatorState, s, TransUnknown);
            return s == TransSet;
        }
    }

    /// <inheritdoc/>
    public Errno GetTranslator(out ReadOnlyMemory<byte> argz)
    {
        argz = default;
        var e = Core.GetPassiveTranslator(Inode, out var rec);
        if (e == Errno.ENODATA || (e == Errno.OK && rec.Length == 0)) return Errno.EINVAL;
        if (e != Errno.OK) return Gone(e);
        argz = rec;
        return Errno.OK;
    }

    /// <inheritdoc/>
    public Errno SetTranslator(ReadOnlySpan<byte> argz)
    {
        lock (Lock)
        {
            var e = Core.SetPassiveTranslator(Inode, argz);
            Volatile.Write(ref translatorState, TransUnknown);
            return Gone(e);
        }
    }

    // ---- open references ----

    /// <inheritdoc/>
    /// <remarks>The first open takes a core reference, so an unlink leaves the inode allocated (on the orphan list)
    /// until the last close. The open never fails here: a dead inode answers ENOENT/ESTALE on use.</remarks>
    public Errno Open(OpenFile file)
    {
        lock (Lock)
        {
            if (held++ == 0) acquired = Core.Acquire(Inode) == Errno.OK;
        }
        return Errno.OK;
    }

    /// <inheritdoc/>
    public void Close(OpenFile file)
    {
        bool release = false;
        lock (Lock)
        {
            if (held > 0 && --held == 0 && acquired) { acquired = false; release = true; }
        }
        if (release) Core.Release(Inode);
    }

    // ---- filesystem-wide ----

    /// <inheritdoc/>
    /// <remarks>ext2 has no per-file dirty tracking: this writes back the whole cache and fsyncs the image.</remarks>
    public Errno Sync(bool dataOnly) => Core.IsReadOnly ? Errno.OK : Core.Fsync(Inode);

    /// <inheritdoc/>
    public Errno StatFs(ref StatFs st) => Fs.StatFs(ref st);

    /// <inheritdoc/>
    public byte[] GetOptions() => Fs.GetOptions();

    /// <inheritdoc/>
    public Errno SetOptions(ReadOnlySpan<byte> argz) => Fs.SetOptions(argz);
}

/// <summary>A regular file: data through the core's block map (holes read as zeros), 64-bit sizes up to
/// <see cref="Ext2Fs.MaxFileSize"/>, fallocate and SEEK_DATA/SEEK_HOLE.</summary>
public sealed class Ext2fsFile : Ext2fsNode, IReadable, IWritable, ITruncatable, IAllocatable, ISeekableData
{
    internal Ext2fsFile(Ext2fsFileSystem fs, InodeNumber ino, uint generation) : base(fs, ino, generation, FileMode.Regular) { }

    /// <inheritdoc/>
    public Errno Read(OpenFile file, long offset, Span<byte> buffer, out int read) => Gone(Core.Read(Inode, offset, buffer, out read));

    /// <inheritdoc/>
    /// <remarks>Writes to one file are serialised by <see cref="Node.Lock"/>, so an O_APPEND write lands at the size
    /// it read.</remarks>
    public Errno Write(OpenFile file, long offset, ReadOnlySpan<byte> data, out int written, out long end)
    {
        written = 0;
        end = offset;
        lock (Lock)
        {
            if (offset == IWritable.AppendOffset)
            {
                var e = Core.GetAttr(Inode, out var st);
                if (e != Errno.OK) return Gone(e);
                offset = st.Size;
            }
            end = offset;
            if (data.IsEmpty) return Errno.OK;
            if (offset >= Core.MaxFileSize) return Errno.EFBIG;
            var err = Core.Write(Inode, offset, data, out written);
            end = offset + written;
            if (err != Errno.OK && written > 0) err = Errno.OK;
            return Gone(err);
        }
    }

    /// <inheritdoc/>
    public Errno Truncate(long size)
    {
        if (size > Core.MaxFileSize) return Errno.EFBIG;
        lock (Lock)
        {
            // As Linux's ext2_setattr: the same size changes nothing, times included (the SDK stamps them for ftruncate
            // and O_TRUNC, as the VFS does).
            var e = Core.GetAttr(Inode, out var st);
            if (e != Errno.OK) return Gone(e);
            if (st.Size == size) return Errno.OK;
            return Gone(Core.Truncate(Inode, size));
        }
    }

    /// <inheritdoc/>
    public Errno Fallocate(Translators.FallocateMode mode, long offset, long length)
    {
        const Translators.FallocateMode known = Translators.FallocateMode.KeepSize | Translators.FallocateMode.PunchHole | Translators.FallocateMode.ZeroRange;
        if ((mode & ~known) != 0) return Errno.EOPNOTSUPP;
        if (offset + length > Core.MaxFileSize && (mode & Translators.FallocateMode.PunchHole) == 0) return Errno.EFBIG;
        lock (Lock)
        {
            var e = Core.Fallocate(Inode, (Ext2.FallocateMode)(int)mode, offset, length);
            if (e != Errno.OK) return Gone(e);
            // Linux (file_modified in ext4_fallocate and shmem_fallocate) sets mtime and ctime on every fallocate.
            var touch = new SetAttrRequest { Mask = SetAttrMask.Mtime, Mtime = new TimeSpec(0, TimeSpec.UtimeNow) };
            return Gone(Core.SetAttr(Inode, touch));
        }
    }

    /// <inheritdoc/>
    public Errno SeekData(long offset, bool hole, out long result) =>
        Gone(Core.Seek(Inode, offset, hole ? Ext2Fs.SeekHole : Ext2Fs.SeekData, out result));
}

/// <summary>A symbolic link (fast, in the inode, or slow, in a block).</summary>
public sealed class Ext2fsSymlink : Ext2fsNode, ISymlink
{
    internal Ext2fsSymlink(Ext2fsFileSystem fs, InodeNumber ino, uint generation) : base(fs, ino, generation, FileMode.Symlink) { }

    /// <inheritdoc/>
    public Errno Readlink(out ReadOnlyMemory<byte> target)
    {
        var e = Core.ReadLink(Inode, out var t);
        target = t;
        return Gone(e);
    }
}

/// <summary>A FIFO, socket, character or block device: an inode with a type and a device number, no data (the Hurd's
/// short-circuited types).</summary>
public sealed class Ext2fsSpecial : Ext2fsNode
{
    internal Ext2fsSpecial(Ext2fsFileSystem fs, InodeNumber ino, uint generation, FileMode type) : base(fs, ino, generation, type) { }
}
