using Hurd.Ext2;
using Hurd.Ipc.Abi;
using Hurd.Translators;

namespace Hurd.Ext2fs;

/// <summary>
/// A directory: lookups and namespace changes go to the core by inode number and name; the nodes handed out come
/// from the filesystem's node cache. Readdir cookies are the core's (the byte offset of the next entry in the
/// directory file; 0 is ".", which is the first entry on disk, then ".."), so they stay valid while entries come
/// and go: a removed entry's space is merged into its neighbour, never moved.
/// </summary>
public sealed class Ext2fsDirectory : Ext2fsNode, IDirectory
{
    internal Ext2fsDirectory(Ext2fsFileSystem fs, InodeNumber ino, uint generation) : base(fs, ino, generation, FileMode.Directory) { }

    Errno Node(Errno e, InodeNumber child, out Node? node)
    {
        node = null;
        if (e != Errno.OK) return Gone(e);
        return Fs.GetNode(child, out node);
    }

    /// <inheritdoc/>
    public Errno Lookup(ReadOnlySpan<byte> name, out Node? node)
    {
        node = null;
        // The entry and the inode it names in one core call (one read lock, no stat decoded): the cached node is checked
        // against the generation and type.
        var e = Core.Lookup(Inode, name, out var child, out uint generation, out var type);
        // The directory's own errors (ESTALE: it was removed) as for every operation; the entry's inode's as they come
        // (an entry naming an inode not in use is the image's problem, not a vanished file).
        if (e != Errno.OK) return child.Value == 0 ? Gone(e) : e;
        return Fs.GetNode(child, generation, type, out node);
    }

    /// <inheritdoc/>
    public Errno Create(ReadOnlySpan<byte> name, in NewNode attrs, out Node? node) =>
        Node(Core.Mknod(Inode, name, attrs.Mode, attrs.Uid, attrs.Gid, attrs.Rdev, out var child), child, out node);

    /// <inheritdoc/>
    public Errno Mkdir(ReadOnlySpan<byte> name, in NewNode attrs, out Node? node) =>
        Node(Core.Mkdir(Inode, name, attrs.Mode, attrs.Uid, attrs.Gid, out var child), child, out node);

    /// <inheritdoc/>
    public Errno Symlink(ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, in NewNode attrs, out Node? node) =>
        Node(Core.Symlink(Inode, name, target, attrs.Uid, attrs.Gid, out var child), child, out node);

    /// <inheritdoc/>
    public Errno Link(ReadOnlySpan<byte> name, Node target)
    {
        if (target is not Ext2fsNode t || t.Fs != Fs) return Errno.EXDEV;
        if (t is Ext2fsDirectory) return Errno.EPERM;
        var e = Core.Link(t.Inode, Inode, name);
        // The core reads the target as a live inode: one unlinked everywhere (kept by an open) is ENOENT.
        return e == Errno.ESTALE ? Errno.ENOENT : e;
    }

    /// <inheritdoc/>
    public Errno Unlink(ReadOnlySpan<byte> name) => Gone(Core.Unlink(Inode, name));

    /// <inheritdoc/>
    public Errno Rmdir(ReadOnlySpan<byte> name)
    {
        if (Core.Lookup(Inode, name, out var child) == Errno.OK && Fs.Cached(child.Value) is { ActiveTranslator: not null }) return Errno.EBUSY;
        return Gone(Core.Rmdir(Inode, name));
    }

    /// <inheritdoc/>
    public Errno Rename(ReadOnlySpan<byte> oldName, Node newDir, ReadOnlySpan<byte> newName, Translators.RenameFlags flags)
    {
        if (newDir is not Ext2fsDirectory nd || nd.Fs != Fs) return Errno.EXDEV;
        if ((flags & ~(Translators.RenameFlags.NoReplace | Translators.RenameFlags.Exchange)) != 0) return Errno.EINVAL;
        return Gone(Core.Rename(Inode, oldName, nd.Inode, newName, (Ext2.RenameFlags)(int)flags));
    }

    /// <summary>One batch of entries read under the core's lock, handed to the sink after it is released (the sink
    /// may look entries up or open them, which must not happen inside the core's read lock). Big enough that a listing
    /// restarts the core's walk rarely (each restart rescans the entries before the cookie in its block), reused per
    /// thread.</summary>
    sealed class Batch
    {
        public const int Max = 512;
        public readonly byte[] Names = new byte[Max * 32];
        public readonly (int Start, int Length, uint Ino, DirEntryType Type, long Next)[] Entries = new (int, int, uint, DirEntryType, long)[Max];
        public int Count, Used;

        /// <summary>False when the batch is full (by entries, or by name bytes).</summary>
        public bool Add(ReadOnlySpan<byte> name, InodeNumber ino, DirEntryType type, long next)
        {
            if (Count == Max || Used + name.Length > Names.Length) return false;
            name.CopyTo(Names.AsSpan(Used));
            Entries[Count++] = (Used, name.Length, ino.Value, type, next);
            Used += name.Length;
            return true;
        }
    }

    // Taken while a listing runs (a sink that lists another directory on the same thread gets a fresh one).
    [ThreadStatic] static Batch? t_batch;

    static FileMode ModeOf(DirEntryType t) => t switch
    {
        DirEntryType.Regular => FileMode.Regular,
        DirEntryType.Directory => FileMode.Directory,
        DirEntryType.CharDevice => FileMode.CharDevice,
        DirEntryType.BlockDevice => FileMode.BlockDevice,
        DirEntryType.Fifo => FileMode.Fifo,
        DirEntryType.Socket => FileMode.Socket,
        DirEntryType.Symlink => FileMode.Symlink,
        _ => FileMode.None,
    };

    /// <inheritdoc/>
    /// <remarks>Entries other than "." come without their node (the contract allows it): looking each up in the node
    /// cache was the largest single cost of listing a big directory, and the server's only sink (the peropen's
    /// snapshot) does not use it.</remarks>
    public Errno ReadDir(long cookie, IDirEntrySink sink)
    {
        var batch = t_batch ?? new Batch();
        t_batch = null;
        try
        {
            long pos = cookie;
            while (true)
            {
                batch.Count = 0;
                batch.Used = 0;
                bool more = false;
                var e = Core.ReadDir(Inode, pos, (name, ino, type, next) =>
                {
                    if (batch.Add(name, ino, type, next)) return true;
                    more = true;
                    return false;
                });
                if (e != Errno.OK) return Gone(e);
                for (int i = 0; i < batch.Count; i++)
                {
                    var (start, len, ino, type, next) = batch.Entries[i];
                    var mode = ModeOf(type);
                    if (mode == FileMode.None && Core.GetAttr(new InodeNumber(ino), out var st) == Errno.OK) mode = st.Mode.Type();
                    var name = batch.Names.AsSpan(start, len);
                    bool dot = len == 1 && name[0] == '.';
                    if (!sink.Add(name, ino, mode, next, dot ? this : null)) return Errno.OK;
                    pos = next;
                }
                if (!more) return Errno.OK;
            }
        }
        finally { t_batch = batch; }
    }
}
