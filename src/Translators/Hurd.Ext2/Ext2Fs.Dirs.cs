using System.Text;
using Hurd.Ipc.Abi;

namespace Hurd.Ext2;

/// <summary>
/// Receives one directory entry from <see cref="Ext2Fs.ReadDir"/>; return false to stop.
/// <paramref name="nextOffset"/> is the cookie that resumes after this entry. The visitor runs under the
/// filesystem's read lock: it may call read operations, never changing ones.
/// </summary>
public delegate bool DirEntryVisitor(ReadOnlySpan<byte> name, InodeNumber ino, DirEntryType type, long nextOffset);

/// <summary>renameat2 flags (Linux values).</summary>
[Flags]
public enum RenameFlags
{
    None = 0, NoReplace = 1, Exchange = 2,
}

public sealed partial class Ext2Fs
{
    /// <summary>Most links an inode may have (EXT2_LINK_MAX).</summary>
    public const int LinkMax = 32000;

    const int PrevUnknown = -2;

    struct DirSlot
    {
        public long Lblk;
        public uint Pblk;
        /// <summary>The entry's offset in its block; PrevOff is the previous entry's, -1 if it is the first,
        /// <see cref="PrevUnknown"/> if the finder did not compute it (<see cref="DirRemove"/> then does).</summary>
        public int Off, PrevOff;
        public uint Ino;
        public byte Type;
    }

    // INCOMPAT bits never change while mounted: read once at mount (EntryAt asks for every entry it decodes).
    bool HasFiletype => _hasFiletype;

    static int RecLenFor(int nameLen) => (8 + nameLen + 3) & ~3;

    /// <summary>Decodes the entry at <paramref name="off"/>; EIO on anything malformed (rec_len 0, crossing the block, bad inode).</summary>
    Errno EntryAt(byte[] data, int off, out int recLen, out uint ino, out int nameLen)
    {
        recLen = 0; ino = 0; nameLen = 0;
        if (off + 8 > BlockSize) return Errno.EIO;
        ino = Le.U32(data, off);
        recLen = Le.U16(data, off + 4);
        nameLen = data[off + 6];
        if (recLen < 8 || (recLen & 3) != 0 || off + recLen > BlockSize) return Errno.EIO;
        if (ino != 0)
        {
            if (!HasFiletype && data[off + 7] != 0) return Errno.EIO; // name_len is 16-bit without filetype
            if (nameLen == 0 || 8 + nameLen > recLen || ino > InodesCount) return Errno.EIO;
        }
        return Errno.OK;
    }

    /// <summary>Number of blocks of a directory; EIO if its size is not a whole number of blocks.</summary>
    Errno DirBlocks(Inode dir, out long n)
    {
        long size = dir.SizeLow;
        n = size / BlockSize;
        return size % BlockSize != 0 || n == 0 || n > BlocksCount ? Errno.EIO : Errno.OK;
    }

    Errno DirBlock(Inode dir, long lblk, out uint pblk, out byte[] data)
    {
        data = null!;
        var err = Bmap(dir, lblk, out pblk, out _);
        if (err != Errno.OK) return err;
        if (pblk == 0) return Errno.EIO; // directories have no holes
        return Cache.Get(pblk, out data);
    }

    Errno DirFind(Inode dir, ReadOnlySpan<byte> name, out DirSlot slot)
    {
        var ierr = DirFindIndexed(dir, name, out slot, out bool used);
        if (used || ierr != Errno.OK) return ierr;
        slot = default;
        var err = DirBlocks(dir, out long nblocks);
        if (err != Errno.OK) return err;
        for (long lblk = 0; lblk < nblocks; lblk++)
        {
            err = DirBlock(dir, lblk, out uint pb, out var data);
            if (err != Errno.OK) return err;
            int prev = -1;
            for (int off = 0; off < BlockSize;)
            {
                err = EntryAt(data, off, out int recLen, out uint ino, out int nameLen);
                if (err != Errno.OK) return err;
                if (ino != 0 && nameLen == name.Length && data.AsSpan(off + 8, nameLen).SequenceEqual(name))
                {
                    slot = new DirSlot { Lblk = lblk, Pblk = pb, Off = off, PrevOff = prev, Ino = ino, Type = data[off + 7] };
                    return Errno.OK;
                }
                prev = off;
                off += recLen;
            }
        }
        return Errno.ENOENT;
    }

    /// <summary>Adds an entry, reusing free space in an existing block or appending one. Clears EXT2_INDEX_FL. Does not write <paramref name="dir"/>.</summary>
    Errno DirAdd(Inode dir, ReadOnlySpan<byte> name, uint ino, DirEntryType type)
    {
        int need = RecLenFor(name.Length);
        var err = DirBlocks(dir, out long nblocks);
        if (err != Errno.OK) return err;
        dir.Flags &= ~Inode.FlagIndex;
        long startBlock = DirIndexBlockWithRoom(dir, need, nblocks);
        for (long lblk = Math.Max(0, startBlock); lblk < nblocks; lblk++)
        {
            err = DirBlock(dir, lblk, out uint pb, out var data);
            if (err != Errno.OK) return err;
            for (int off = 0; off < BlockSize;)
            {
                err = EntryAt(data, off, out int recLen, out uint eino, out int nameLen);
                if (err != Errno.OK) return err;
                if (eino == 0 && recLen >= need)
                {
                    PutEntry(data, off, recLen, name, ino, type);
                    Cache.MarkDirty(pb, data);
                    DirIndexAdded(dir, name, lblk, off, data);
                    return Errno.OK;
                }
                if (eino != 0)
                {
                    int used = RecLenFor(nameLen);
                    if (recLen - used >= need)
                    {
                        Le.U16(data, off + 4, (ushort)used);
                        PutEntry(data, off + used, recLen - used, name, ino, type);
                        Cache.MarkDirty(pb, data);
                        DirIndexAdded(dir, name, lblk, off + used, data);
                        return Errno.OK;
                    }
                }
                off += recLen;
            }
        }
        // Append a block.
        if (dir.SizeLow > uint.MaxValue - (uint)BlockSize) return Errno.EFBIG;
        err = BmapAlloc(dir, nblocks, AllocGoal(dir, nblocks), out uint nb, out _);
        if (err != Errno.OK) return err;
        err = Cache.GetZeroed(nb, out var fresh);
        if (err != Errno.OK) return err;
        PutEntry(fresh, 0, BlockSize, name, ino, type);
        dir.SizeLow += (uint)BlockSize;
        DirIndexAdded(dir, name, nblocks, 0, fresh);
        return Errno.OK;
    }

    void PutEntry(byte[] data, int off, int recLen, ReadOnlySpan<byte> name, uint ino, DirEntryType type)
    {
        Le.U32(data, off, ino);
        Le.U16(data, off + 4, (ushort)recLen);
        data[off + 6] = (byte)name.Length;
        data[off + 7] = HasFiletype ? (byte)type : (byte)0;
        name.CopyTo(data.AsSpan(off + 8));
        int pad = RecLenFor(name.Length) - 8 - name.Length;
        data.AsSpan(off + 8 + name.Length, pad).Clear();
    }

    /// <summary>Removes the entry at <paramref name="slot"/> (merging it into the previous one). Clears EXT2_INDEX_FL.</summary>
    Errno DirRemove(Inode dir, in DirSlot slot)
    {
        var err = Cache.Get(slot.Pblk, out var data);
        if (err != Errno.OK) return err;
        int prevOff = slot.PrevOff;
        if (prevOff == PrevUnknown)
        {
            // Found through the index, which gives the entry's offset only: walk the block to the entry before it.
            prevOff = -1;
            int off = 0;
            while (off < slot.Off)
            {
                err = EntryAt(data, off, out int recLen, out _, out _);
                if (err != Errno.OK) return err;
                prevOff = off;
                off += recLen;
            }
            if (off != slot.Off) return Errno.EIO;
        }
        dir.Flags &= ~Inode.FlagIndex;
        Span<byte> name = stackalloc byte[255];
        int nameLen = data[slot.Off + 6];
        data.AsSpan(slot.Off + 8, nameLen).CopyTo(name);
        if (prevOff >= 0)
        {
            int prevLen = Le.U16(data, prevOff + 4), len = Le.U16(data, slot.Off + 4);
            Le.U16(data, prevOff + 4, (ushort)(prevLen + len));
        }
        else Le.U32(data, slot.Off, 0);
        Cache.MarkDirty(slot.Pblk, data);
        DirIndexRemoved(dir, name[..nameLen], slot.Lblk, data);
        return Errno.OK;
    }

    /// <summary>Points an existing entry at another inode (rename over an existing name).</summary>
    Errno DirSetEntry(Inode dir, in DirSlot slot, uint ino, DirEntryType type)
    {
        var err = Cache.Get(slot.Pblk, out var data);
        if (err != Errno.OK) return err;
        dir.Flags &= ~Inode.FlagIndex;
        Le.U32(data, slot.Off, ino);
        if (HasFiletype) data[slot.Off + 7] = (byte)type;
        Cache.MarkDirty(slot.Pblk, data);
        return Errno.OK;
    }

    Errno DirIsEmpty(Inode dir, out bool empty)
    {
        empty = false;
        var err = DirBlocks(dir, out long nblocks);
        if (err != Errno.OK) return err;
        for (long lblk = 0; lblk < nblocks; lblk++)
        {
            err = DirBlock(dir, lblk, out _, out var data);
            if (err != Errno.OK) return err;
            for (int off = 0; off < BlockSize;)
            {
                err = EntryAt(data, off, out int recLen, out uint ino, out int nameLen);
                if (err != Errno.OK) return err;
                if (ino != 0)
                {
                    var nm = data.AsSpan(off + 8, nameLen);
                    if (!(nm.SequenceEqual("."u8) || nm.SequenceEqual(".."u8))) return Errno.OK;
                }
                off += recLen;
            }
        }
        empty = true;
        return Errno.OK;
    }

    static Errno CheckName(ReadOnlySpan<byte> name)
    {
        if (name.Length == 0) return Errno.ENOENT;
        if (name.Length > 255) return Errno.ENAMETOOLONG;
        if (name.IndexOfAny((byte)'/', (byte)0) >= 0) return Errno.EINVAL;
        return Errno.OK;
    }

    static bool IsDots(ReadOnlySpan<byte> name) => name.SequenceEqual("."u8) || name.SequenceEqual(".."u8);

    // ───────────────────────────── read-side operations ─────────────────────────────

    /// <summary>Looks <paramref name="name"/> up in directory <paramref name="dir"/> ("." and ".." included).</summary>
    public Errno Lookup(InodeNumber dir, ReadOnlySpan<byte> name, out InodeNumber ino)
    {
        ino = default;
        if (name.Length > 255) return Errno.ENAMETOOLONG;
        var err = BeginRead();
        if (err != Errno.OK) return err;
        try
        {
            err = FindInDir(dir, name, out var slot);
            if (err == Errno.OK) ino = new InodeNumber(slot.Ino);
            return err;
        }
        finally { EndRead(); }
    }

    /// <summary>The entry <paramref name="name"/> of directory <paramref name="dir"/>, under the caller's read lock (the
    /// scratch copy of the directory's inode is not used after it returns).</summary>
    Errno FindInDir(InodeNumber dir, ReadOnlySpan<byte> name, out DirSlot slot)
    {
        slot = default;
        var err = ReadLiveInodeScratch(dir.Value, out var d);
        if (err != Errno.OK) return err;
        if (!d.IsDirectory) return Errno.ENOTDIR;
        return DirFind(d, name, out slot);
    }

    /// <summary>
    /// <see cref="Lookup"/>, then what names the inode found (its generation and file type, as <see cref="Identify"/>),
    /// under one read lock: the node layer checks its cached node against them on every lookup. When the entry was
    /// found but its inode cannot be read, <paramref name="ino"/> is set and the error is the inode's.
    /// </summary>
    public Errno Lookup(InodeNumber dir, ReadOnlySpan<byte> name, out InodeNumber ino, out uint generation, out FileMode type)
    {
        ino = default;
        generation = 0;
        type = FileMode.None;
        if (name.Length > 255) return Errno.ENAMETOOLONG;
        var err = BeginRead();
        if (err != Errno.OK) return err;
        try
        {
            err = FindInDir(dir, name, out var slot);
            if (err != Errno.OK) return err;
            ino = new InodeNumber(slot.Ino);
            err = ReadLiveInodeScratch(slot.Ino, out var child);
            if (err != Errno.OK) return err;
            generation = child.Generation;
            type = ((FileMode)child.Mode).Type();
            return Errno.OK;
        }
        finally { EndRead(); }
    }

    /// <summary>The generation and file type of live inode <paramref name="ino"/> (what <see cref="GetAttr"/> gives for
    /// them, without decoding the rest). ESTALE for an inode not in use, EIO for a reserved or out-of-range one.</summary>
    public Errno Identify(InodeNumber ino, out uint generation, out FileMode type)
    {
        generation = 0;
        type = FileMode.None;
        var err = BeginRead();
        if (err != Errno.OK) return err;
        try
        {
            err = ReadLiveInodeScratch(ino.Value, out var inode);
            if (err != Errno.OK) return err;
            generation = inode.Generation;
            type = ((FileMode)inode.Mode).Type();
            return Errno.OK;
        }
        finally { EndRead(); }
    }

    /// <summary>
    /// Lists a directory from cookie <paramref name="offset"/> (0 = start; otherwise a nextOffset the
    /// visitor was given). Entries removed meanwhile are skipped, never repeated.
    /// </summary>
    public Errno ReadDir(InodeNumber dir, long offset, DirEntryVisitor visitor)
    {
        if (offset < 0) return Errno.EINVAL;
        var err = BeginRead();
        if (err != Errno.OK) return err;
        try
        {
            err = ReadLiveInode(dir.Value, out var d);
            if (err != Errno.OK) return err;
            if (!d.IsDirectory) return Errno.ENOTDIR;
            err = DirBlocks(d, out long nblocks);
            if (err != Errno.OK) return err;
            for (long lblk = offset / BlockSize; lblk < nblocks; lblk++)
            {
                err = DirBlock(d, lblk, out _, out var data);
                if (err != Errno.OK) return err;
                long basePos = lblk * BlockSize;
                for (int off = 0; off < BlockSize;)
                {
                    err = EntryAt(data, off, out int recLen, out uint ino, out int nameLen);
                    if (err != Errno.OK) return err;
                    if (ino != 0 && basePos + off >= offset)
                    {
                        var type = HasFiletype ? (DirEntryType)data[off + 7]
                            : ReadInode(ino, out var child) == Errno.OK ? Ext2Format.TypeOf(child.Mode) : DirEntryType.Unknown;
                        if (!visitor(data.AsSpan(off + 8, nameLen), new InodeNumber(ino), type, basePos + off + recLen)) return Errno.OK;
                    }
                    off += recLen;
                }
            }
            return Errno.OK;
        }
        finally { EndRead(); }
    }

    // ───────────────────────────── creating ─────────────────────────────

    /// <summary>Checks a parent for adding <paramref name="name"/>: a live directory, the name valid and absent.</summary>
    Errno PrepareAdd(uint parent, ReadOnlySpan<byte> name, out Inode dir)
    {
        dir = null!;
        var err = CheckName(name);
        if (err != Errno.OK) return err;
        err = ReadLiveInode(parent, out dir);
        if (err != Errno.OK) return err;
        if (!dir.IsDirectory) return Errno.ENOTDIR;
        if (dir.LinksCount == 0) return Errno.ENOENT; // removed directory
        if (IsDots(name)) return Errno.EEXIST;
        err = DirFind(dir, name, out _);
        if (err == Errno.OK) return Errno.EEXIST;
        return err == Errno.ENOENT ? Errno.OK : err;
    }

    Errno NewInode(Inode dir, ushort mode, uint uid, uint gid, out Inode child)
    {
        var err = AllocInode(dir.Number, (mode & 0xF000) == 0x4000, out child);
        if (err != Errno.OK) return err;
        var now = Now();
        child.Mode = mode;
        child.Uid = uid;
        child.Gid = gid;
        child.LinksCount = 1;
        child.Atime = now; child.Mtime = now; child.Ctime = now; child.Crtime = now;
        if (IsHurdImage) Le.U32(child.Raw, 0x7C, uid); // the Hurd's i_author
        return Errno.OK;
    }

    /// <summary>Undoes <see cref="NewInode"/> after a later step failed.</summary>
    void AbortNewInode(Inode child)
    {
        DropDirIndex(child.Number);
        child.LinksCount = 0;
        if (HasBlockPointers(child)) FreeBlocksRange(child, 0, long.MaxValue);
        child.Dtime = (uint)Math.Max(1, Now().Sec);
        WriteInode(child);
        FreeInodeBit(child.Number, child.IsDirectory);
    }

    Errno Link(Inode dir, ReadOnlySpan<byte> name, Inode child)
    {
        var err = DirAdd(dir, name, child.Number, Ext2Format.TypeOf(child.Mode));
        var now = Now();
        dir.Mtime = now; dir.Ctime = now;
        var w = WriteInode(dir);
        return err != Errno.OK ? err : w;
    }

    /// <summary>
    /// Creates a regular file, FIFO, socket or device node (mknod). <paramref name="mode"/> carries the
    /// type (none means regular) and permissions; <paramref name="rdev"/> is a makedev() value for devices.
    /// </summary>
    public Errno Mknod(InodeNumber dir, ReadOnlySpan<byte> name, FileMode mode, uint uid, uint gid, ulong rdev, out InodeNumber ino)
    {
        ino = default;
        uint m = (uint)mode & 0xFFFF;
        if ((m & 0xF000) == 0) m |= 0x8000;
        var t = Ext2Format.TypeOf(m);
        if (t is DirEntryType.Directory or DirEntryType.Symlink or DirEntryType.Unknown) return Errno.EINVAL;
        var err = BeginWrite();
        if (err != Errno.OK) return err;
        try
        {
            err = PrepareAdd(dir.Value, name, out var d);
            if (err != Errno.OK) return err;
            err = NewInode(d, (ushort)m, uid, gid, out var child);
            if (err != Errno.OK) return err;
            if (t is DirEntryType.CharDevice or DirEntryType.BlockDevice) Ext2Format.EncodeDevice(child, rdev);
            err = WriteInode(child);
            if (err == Errno.OK) err = Link(d, name, child);
            if (err != Errno.OK) { AbortNewInode(child); return err; }
            ino = new InodeNumber(child.Number);
            return Errno.OK;
        }
        finally { EndWrite(); }
    }

    /// <summary>Creates a regular file (see <see cref="Mknod"/>).</summary>
    public Errno Create(InodeNumber dir, ReadOnlySpan<byte> name, FileMode mode, uint uid, uint gid, out InodeNumber ino) =>
        Mknod(dir, name, (FileMode)(((uint)mode & 0xFFF) | 0x8000), uid, gid, 0, out ino);

    /// <summary>Creates a directory with "." and ".."; the parent gains a link (EMLINK at <see cref="LinkMax"/>).</summary>
    public Errno Mkdir(InodeNumber dir, ReadOnlySpan<byte> name, FileMode mode, uint uid, uint gid, out InodeNumber ino)
    {
        ino = default;
        var err = BeginWrite();
        if (err != Errno.OK) return err;
        try
        {
            err = PrepareAdd(dir.Value, name, out var d);
            if (err != Errno.OK) return err;
            if (d.LinksCount >= LinkMax) return Errno.EMLINK;
            err = NewInode(d, (ushort)(0x4000 | ((uint)mode & 0xFFF)), uid, gid, out var child);
            if (err != Errno.OK) return err;
            child.LinksCount = 2;
            err = BmapAlloc(child, 0, AllocGoal(child, 0), out uint b, out _);
            if (err == Errno.OK)
            {
                err = Cache.GetZeroed(b, out var data);
                if (err == Errno.OK) InitDirBlock(data, child.Number, d.Number);
            }
            if (err == Errno.OK) { child.SizeLow = (uint)BlockSize; err = WriteInode(child); }
            if (err == Errno.OK)
            {
                d.LinksCount++;
                err = Link(d, name, child);
                if (err != Errno.OK) d.LinksCount--;
            }
            if (err != Errno.OK) { AbortNewInode(child); WriteInode(d); return err; }
            ino = new InodeNumber(child.Number);
            return Errno.OK;
        }
        finally { EndWrite(); }
    }

    void InitDirBlock(byte[] data, uint self, uint parent)
    {
        PutEntry(data, 0, 12, "."u8, self, DirEntryType.Directory);
        PutEntry(data, 12, BlockSize - 12, ".."u8, parent, DirEntryType.Directory);
    }

    /// <summary>Creates a symlink: a target under 60 bytes lives in the inode (fast), a longer one in a block. ENAMETOOLONG past a block.</summary>
    public Errno Symlink(InodeNumber dir, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, uint uid, uint gid, out InodeNumber ino)
    {
        ino = default;
        if (target.Length == 0) return Errno.ENOENT;
        if (target.Length >= BlockSize || target.Length >= 4096) return Errno.ENAMETOOLONG;
        var err = BeginWrite();
        if (err != Errno.OK) return err;
        try
        {
            err = PrepareAdd(dir.Value, name, out var d);
            if (err != Errno.OK) return err;
            err = NewInode(d, 0xA1FF, uid, gid, out var child);
            if (err != Errno.OK) return err;
            if (target.Length < 60) target.CopyTo(child.BlockArea);
            else
            {
                err = BmapAlloc(child, 0, AllocGoal(child, 0), out uint b, out _);
                if (err == Errno.OK && (err = Cache.GetZeroed(b, out var data)) == Errno.OK) target.CopyTo(data);
            }
            child.SizeLow = (uint)target.Length;
            if (err == Errno.OK) err = WriteInode(child);
            if (err == Errno.OK) err = Link(d, name, child);
            if (err != Errno.OK) { AbortNewInode(child); return err; }
            ino = new InodeNumber(child.Number);
            return Errno.OK;
        }
        finally { EndWrite(); }
    }

    /// <summary>Adds a hard link <paramref name="name"/> in <paramref name="dir"/> to <paramref name="target"/> (EPERM for a directory).</summary>
    public Errno Link(InodeNumber target, InodeNumber dir, ReadOnlySpan<byte> name)
    {
        var err = BeginWrite();
        if (err != Errno.OK) return err;
        try
        {
            err = ReadLiveInode(target.Value, out var t);
            if (err != Errno.OK) return err;
            if (t.IsDirectory) return Errno.EPERM;
            if (t.LinksCount == 0) return Errno.ENOENT;
            if (t.LinksCount >= LinkMax) return Errno.EMLINK;
            err = PrepareAdd(dir.Value, name, out var d);
            if (err != Errno.OK) return err;
            err = Link(d, name, t);
            if (err != Errno.OK) return err;
            t.LinksCount++;
            t.Ctime = Now();
            return WriteInode(t);
        }
        finally { EndWrite(); }
    }

    // ───────────────────────────── removing ─────────────────────────────

    /// <summary>Removes a non-directory name; the inode goes with its last link (or at its last <see cref="Release"/>).</summary>
    public Errno Unlink(InodeNumber dir, ReadOnlySpan<byte> name)
    {
        var err = CheckName(name);
        if (err != Errno.OK) return err;
        err = BeginWrite();
        if (err != Errno.OK) return err;
        try
        {
            err = ReadLiveInode(dir.Value, out var d);
            if (err != Errno.OK) return err;
            if (!d.IsDirectory) return Errno.ENOTDIR;
            if (IsDots(name)) return Errno.EISDIR;
            err = DirFind(d, name, out var slot);
            if (err != Errno.OK) return err;
            err = ReadLiveInode(slot.Ino, out var child);
            if (err != Errno.OK) return err == Errno.ESTALE ? Errno.EIO : err;
            if (child.IsDirectory) return Errno.EISDIR;
            err = DirRemove(d, slot);
            if (err != Errno.OK) return err;
            var now = Now();
            d.Mtime = now; d.Ctime = now;
            err = WriteInode(d);
            if (err != Errno.OK) return err;
            return DropLink(child, now);
        }
        finally { EndWrite(); }
    }

    Errno DropLink(Inode child, TimeSpec now)
    {
        if (child.LinksCount > 0) child.LinksCount--;
        child.Ctime = now;
        return child.LinksCount == 0 ? DropLastLink(child) : WriteInode(child);
    }

    /// <summary>Removes an empty directory (ENOTEMPTY otherwise); the parent loses a link.</summary>
    public Errno Rmdir(InodeNumber dir, ReadOnlySpan<byte> name)
    {
        var err = CheckName(name);
        if (err != Errno.OK) return err;
        if (name.SequenceEqual("."u8)) return Errno.EINVAL;
        if (name.SequenceEqual(".."u8)) return Errno.ENOTEMPTY;
        err = BeginWrite();
        if (err != Errno.OK) return err;
        try
        {
            err = ReadLiveInode(dir.Value, out var d);
            if (err != Errno.OK) return err;
            if (!d.IsDirectory) return Errno.ENOTDIR;
            err = DirFind(d, name, out var slot);
            if (err != Errno.OK) return err;
            if (slot.Ino == d.Number) return Errno.EINVAL;
            err = ReadLiveInode(slot.Ino, out var child);
            if (err != Errno.OK) return err == Errno.ESTALE ? Errno.EIO : err;
            if (!child.IsDirectory) return Errno.ENOTDIR;
            if (child.Number == 2) return Errno.EBUSY;
            err = DirIsEmpty(child, out bool empty);
            if (err != Errno.OK) return err;
            if (!empty) return Errno.ENOTEMPTY;
            err = DirRemove(d, slot);
            if (err != Errno.OK) return err;
            var now = Now();
            if (d.LinksCount > 2) d.LinksCount--;
            d.Mtime = now; d.Ctime = now;
            err = WriteInode(d);
            if (err != Errno.OK) return err;
            child.LinksCount = 0;
            child.Ctime = now;
            return DropLastLink(child);
        }
        finally { EndWrite(); }
    }

    // ───────────────────────────── rename ─────────────────────────────

    /// <summary>True if directory <paramref name="dir"/> is <paramref name="ancestor"/> or below it (walks ".." up to the root).</summary>
    Errno IsWithin(uint dir, uint ancestor, out bool within)
    {
        within = false;
        uint cur = dir;
        for (uint steps = 0; steps <= InodesCount; steps++)
        {
            if (cur == ancestor) { within = true; return Errno.OK; }
            if (cur == 2) return Errno.OK;
            var err = ReadInode(cur, out var node);
            if (err != Errno.OK) return err;
            if (!node.IsDirectory) return Errno.EIO;
            err = DirFind(node, ".."u8, out var up);
            if (err != Errno.OK) return err == Errno.ENOENT ? Errno.EIO : err;
            if (up.Ino == cur) return Errno.EIO;
            cur = up.Ino;
        }
        return Errno.EIO;
    }

    /// <summary>Rewrites the ".." entry of directory <paramref name="child"/> to <paramref name="newParent"/>.</summary>
    Errno SetDotDot(Inode child, uint newParent)
    {
        var err = DirFind(child, ".."u8, out var slot);
        if (err != Errno.OK) return err == Errno.ENOENT ? Errno.EIO : err;
        err = Cache.Get(slot.Pblk, out var data);
        if (err != Errno.OK) return err;
        Le.U32(data, slot.Off, newParent);
        Cache.MarkDirty(slot.Pblk, data);
        return Errno.OK;
    }

    /// <summary>
    /// renameat2 at the directory level: replaces an existing target of a compatible type (a directory
    /// target must be empty), or fails with EEXIST under <see cref="RenameFlags.NoReplace"/>, or swaps the
    /// two names under <see cref="RenameFlags.Exchange"/>. Moving a directory rewrites its ".." and the
    /// parents' link counts; moving one into its own subtree is EINVAL.
    /// </summary>
    public Errno Rename(InodeNumber srcDir, ReadOnlySpan<byte> srcName, InodeNumber dstDir, ReadOnlySpan<byte> dstName, RenameFlags flags = RenameFlags.None)
    {
        if ((flags & ~(RenameFlags.NoReplace | RenameFlags.Exchange)) != 0 || flags == (RenameFlags.NoReplace | RenameFlags.Exchange)) return Errno.EINVAL;
        var err = CheckName(srcName);
        if (err == Errno.OK) err = CheckName(dstName);
        if (err != Errno.OK) return err;
        if (IsDots(srcName) || IsDots(dstName)) return Errno.EINVAL;
        err = BeginWrite();
        if (err != Errno.OK) return err;
        try { return RenameLocked(srcDir.Value, srcName, dstDir.Value, dstName, flags); }
        finally { EndWrite(); }
    }

    Errno RenameLocked(uint srcDir, ReadOnlySpan<byte> srcName, uint dstDir, ReadOnlySpan<byte> dstName, RenameFlags flags)
    {
        var err = ReadLiveInode(srcDir, out var a);
        if (err != Errno.OK) return err;
        if (!a.IsDirectory) return Errno.ENOTDIR;
        Inode b = a;
        if (dstDir != srcDir)
        {
            err = ReadLiveInode(dstDir, out b);
            if (err != Errno.OK) return err;
            if (!b.IsDirectory) return Errno.ENOTDIR;
        }
        if (b.LinksCount == 0) return Errno.ENOENT;
        err = DirFind(a, srcName, out var sslot);
        if (err != Errno.OK) return err;
        err = ReadLiveInode(sslot.Ino, out var s);
        if (err != Errno.OK) return err == Errno.ESTALE ? Errno.EIO : err;
        if (s.Number == a.Number || s.Number == b.Number) return Errno.EINVAL;
        err = DirFind(b, dstName, out var dslot);
        bool dstExists = err == Errno.OK;
        if (err != Errno.OK && err != Errno.ENOENT) return err;
        var now = Now();
        bool sDir = s.IsDirectory;

        if ((flags & RenameFlags.Exchange) != 0)
        {
            if (!dstExists) return Errno.ENOENT;
            if (dslot.Ino == s.Number) return Errno.OK;
            err = ReadLiveInode(dslot.Ino, out var t);
            if (err != Errno.OK) return err == Errno.ESTALE ? Errno.EIO : err;
            bool tDir = t.IsDirectory;
            if (a != b)
            {
                if (sDir) { err = IsWithin(b.Number, s.Number, out bool w); if (err != Errno.OK) return err; if (w) return Errno.EINVAL; }
                if (tDir) { err = IsWithin(a.Number, t.Number, out bool w); if (err != Errno.OK) return err; if (w) return Errno.EINVAL; }
                if (sDir != tDir)
                {
                    if (sDir && b.LinksCount >= LinkMax) return Errno.EMLINK;
                    if (tDir && a.LinksCount >= LinkMax) return Errno.EMLINK;
                }
            }
            err = DirSetEntry(a, sslot, t.Number, Ext2Format.TypeOf(t.Mode));
            if (err == Errno.OK) err = DirSetEntry(b, dslot, s.Number, Ext2Format.TypeOf(s.Mode));
            if (err != Errno.OK) return err;
            if (a != b)
            {
                if (sDir) { err = SetDotDot(s, b.Number); if (err != Errno.OK) return err; a.LinksCount--; b.LinksCount++; }
                if (tDir) { err = SetDotDot(t, a.Number); if (err != Errno.OK) return err; b.LinksCount--; a.LinksCount++; }
            }
            s.Ctime = now; t.Ctime = now;
            a.Mtime = now; a.Ctime = now; b.Mtime = now; b.Ctime = now;
            WriteInode(s); WriteInode(t); WriteInode(a);
            return a != b ? WriteInode(b) : Errno.OK;
        }

        if (dstExists && (flags & RenameFlags.NoReplace) != 0) return Errno.EEXIST;
        if (dstExists && dslot.Ino == s.Number) return Errno.OK; // another link to the same inode: nothing to do
        if (sDir && a != b)
        {
            err = IsWithin(b.Number, s.Number, out bool w);
            if (err != Errno.OK) return err;
            if (w) return Errno.EINVAL;
        }
        if (dstExists)
        {
            err = ReadLiveInode(dslot.Ino, out var t);
            if (err != Errno.OK) return err == Errno.ESTALE ? Errno.EIO : err;
            if (sDir && !t.IsDirectory) return Errno.ENOTDIR;
            if (!sDir && t.IsDirectory) return Errno.EISDIR;
            if (t.IsDirectory)
            {
                err = DirIsEmpty(t, out bool empty);
                if (err != Errno.OK) return err;
                if (!empty) return Errno.ENOTEMPTY;
            }
            err = DirSetEntry(b, dslot, s.Number, Ext2Format.TypeOf(s.Mode));
            if (err != Errno.OK) return err;
            if (t.IsDirectory)
            {
                t.LinksCount = 0;
                t.Ctime = now;
                if (b.LinksCount > 2) b.LinksCount--;
                err = DropLastLink(t);
            }
            else err = DropLink(t, now);
            if (err != Errno.OK) return err;
        }
        else
        {
            if (sDir && a != b && b.LinksCount >= LinkMax) return Errno.EMLINK;
            err = DirAdd(b, dstName, s.Number, Ext2Format.TypeOf(s.Mode));
            if (err != Errno.OK) { WriteInode(b); return err; }
        }
        // The add may have split entries in the same block: find the source again.
        err = DirFind(a, srcName, out sslot);
        if (err == Errno.OK && sslot.Ino == s.Number) err = DirRemove(a, sslot);
        else if (err == Errno.OK) err = Errno.EIO;
        if (err != Errno.OK) return err;
        if (sDir && a != b)
        {
            err = SetDotDot(s, b.Number);
            if (err != Errno.OK) return err;
            if (a.LinksCount > 2) a.LinksCount--;
            b.LinksCount++;
        }
        s.Ctime = now;
        a.Mtime = now; a.Ctime = now; b.Mtime = now; b.Ctime = now;
        WriteInode(s);
        err = WriteInode(a);
        if (a != b) err = WriteInode(b);
        return err;
    }
}

/// <summary>String (UTF-8) conveniences over the byte-name operations of <see cref="Ext2Fs"/>.</summary>
public static class Ext2FsNames
{
    static byte[] U(string s) => Encoding.UTF8.GetBytes(s);
    public static Errno Lookup(this Ext2Fs fs, InodeNumber dir, string name, out InodeNumber ino) => fs.Lookup(dir, U(name), out ino);
    public static Errno Create(this Ext2Fs fs, InodeNumber dir, string name, FileMode mode, uint uid, uint gid, out InodeNumber ino) => fs.Create(dir, U(name), mode, uid, gid, out ino);
    public static Errno Mkdir(this Ext2Fs fs, InodeNumber dir, string name, FileMode mode, uint uid, uint gid, out InodeNumber ino) => fs.Mkdir(dir, U(name), mode, uid, gid, out ino);
    public static Errno Mknod(this Ext2Fs fs, InodeNumber dir, string name, FileMode mode, uint uid, uint gid, ulong rdev, out InodeNumber ino) => fs.Mknod(dir, U(name), mode, uid, gid, rdev, out ino);
    public static Errno Symlink(this Ext2Fs fs, InodeNumber dir, string name, string target, uint uid, uint gid, out InodeNumber ino) => fs.Symlink(dir, U(name), U(target), uid, gid, out ino);
    public static Errno Link(this Ext2Fs fs, InodeNumber target, InodeNumber dir, string name) => fs.Link(target, dir, U(name));
    public static Errno Unlink(this Ext2Fs fs, InodeNumber dir, string name) => fs.Unlink(dir, U(name));
    public static Errno Rmdir(this Ext2Fs fs, InodeNumber dir, string name) => fs.Rmdir(dir, U(name));
    public static Errno Rename(this Ext2Fs fs, InodeNumber srcDir, string srcName, InodeNumber dstDir, string dstName, RenameFlags flags = RenameFlags.None) =>
        fs.Rename(srcDir, U(srcName), dstDir, U(dstName), flags);

    /// <summary>Resolves a slash-separated path from the root, not following symlinks (a test and tool helper).</summary>
    public static Errno Resolve(this Ext2Fs fs, string path, out InodeNumber ino)
    {
        ino = InodeNumber.Root;
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var err = fs.Lookup(ino, part, out ino);
            if (err != Errno.OK) return err;
        }
        return Errno.OK;
    }

    /// <summary>All entries of a directory as (name, inode, type) (a test and tool helper).</summary>
    public static Errno List(this Ext2Fs fs, InodeNumber dir, out List<(string Name, InodeNumber Ino, DirEntryType Type)> entries)
    {
        var list = new List<(string, InodeNumber, DirEntryType)>();
        var err = fs.ReadDir(dir, 0, (name, ino, type, _) => { list.Add((Encoding.UTF8.GetString(name), ino, type)); return true; });
        entries = list;
        return err;
    }
}
