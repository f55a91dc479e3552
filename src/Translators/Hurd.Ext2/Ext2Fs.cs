using Hurd.Ipc.Abi;

namespace Hurd.Ext2;

/// <summary>Options for <see cref="Ext2Fs.Mount"/>.</summary>
public sealed class Ext2MountOptions
{
    /// <summary>Mount read-only (never write the image).</summary>
    public bool ReadOnly { get; init; }
    /// <summary>Mount read-write even if the image was not cleanly unmounted (the Hurd's default is read-only).</summary>
    public bool Force { get; init; }
    /// <summary>
    /// Synchronous mode (the Hurd's --sync): every change is written to the image and fsynced before
    /// the operation returns.
    /// </summary>
    public bool Synchronous { get; init; }
    /// <summary>Block cache capacity in blocks (default 16384).</summary>
    public int CacheBlocks { get; init; } = 16384;
    /// <summary>Clock for timestamps (tests pin it); default <see cref="TimeSpec.Now"/>.</summary>
    public Func<TimeSpec>? Clock { get; init; }
}

/// <summary>
/// An ext2 (revision 0/1) filesystem on an <see cref="IBlockDevice"/>: the core a libdiskfs-style
/// translator sits on. Operations are inode-level (<see cref="InodeNumber"/> plus a name), never paths,
/// and answer an <see cref="Errno"/>; a corrupt structure answers EIO and never crashes or hangs.
/// </summary>
/// <remarks>
/// Locking: one reader-writer lock per filesystem. Lookups, reads, stat and readdir take it shared;
/// every change takes it exclusive. The block cache has its own lock. Callers need no locking.
/// Writes go to the write-back <see cref="BlockCache"/>; <see cref="Sync"/> and <see cref="Unmount"/>
/// put them in the image (and fsync it). Inode-level reference counts (<see cref="Acquire"/> /
/// <see cref="Release"/>) keep an unlinked-but-open inode alive on the orphan list until its last release.
/// Access times are not updated on reads (noatime).
/// </remarks>
public sealed partial class Ext2Fs : IDisposable
{
    readonly IBlockDevice _dev;
    internal readonly BlockCache Cache;
    readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.SupportsRecursion);
    readonly Func<TimeSpec> _clock;
    readonly Superblock _sb;
    readonly byte[] _gdt;
    readonly Dictionary<uint, int> _refs = new();
    bool _sbDirty, _gdtDirty, _unmounted, _synchronous;
    uint _orlovSeed;

    /// <summary>Block size in bytes.</summary>
    public int BlockSize { get; }
    internal readonly uint FirstDataBlock, BlocksPerGroup, InodesPerGroup, GroupCount, BlocksCount, InodesCount, FirstIno;
    internal readonly int InodeSize, PointersPerBlock, ItableBlocks, GdtBlocks;
    readonly int _ppbShift;

    /// <summary>True if the filesystem refuses changes (EROFS).</summary>
    public bool IsReadOnly { get; private set; }
    bool _hardReadOnly;
    /// <summary>Why the mount is read-only or what was noticed at mount (empty if nothing).</summary>
    public string MountMessage { get; private set; } = "";
    /// <summary>The superblock (read it under no lock only for diagnostics).</summary>
    public Superblock Superblock => _sb;

    Ext2Fs(IBlockDevice dev, Superblock sb, byte[] gdt, Ext2MountOptions o, bool readOnly, string message)
    {
        _dev = dev; _sb = sb; _gdt = gdt;
        _clock = o.Clock ?? TimeSpec.Now;
        BlockSize = sb.BlockSize;
        FirstDataBlock = sb.FirstDataBlock; BlocksPerGroup = sb.BlocksPerGroup; InodesPerGroup = sb.InodesPerGroup;
        BlocksCount = sb.BlocksCount; InodesCount = sb.InodesCount; FirstIno = sb.FirstIno; InodeSize = sb.InodeSize;
        GroupCount = (uint)((BlocksCount - FirstDataBlock + (ulong)BlocksPerGroup - 1) / BlocksPerGroup);
        PointersPerBlock = BlockSize / 4;
        _ppbShift = System.Numerics.BitOperations.Log2((uint)PointersPerBlock);
        ItableBlocks = (int)(((ulong)InodesPerGroup * (ulong)InodeSize + (ulong)BlockSize - 1) / (ulong)BlockSize);
        GdtBlocks = (int)((GroupCount * 32 + BlockSize - 1) / BlockSize);
        IsReadOnly = readOnly;
        MountMessage = message;
        Cache = new BlockCache(dev, BlockSize, BlocksCount, o.CacheBlocks);
        _orlovSeed = BitConverter.ToUInt32(sb.Uuid);
        _synchronous = o.Synchronous;
        _inodeCursor = new int[GroupCount];
        _hasFiletype = (sb.FeatureIncompat & Ext2Features.IncompatFiletype) != 0;
        _blockCursor = new int[GroupCount];
    }

    TimeSpec Now() => _clock();

    // ───────────────────────────── mount / unmount ─────────────────────────────

    /// <summary>
    /// Mounts the filesystem on <paramref name="dev"/>. Refuses (EINVAL, with <paramref name="message"/>
    /// saying why) an image that is not ext2, is inconsistent, or uses an INCOMPAT feature this core lacks;
    /// mounts read-only (and says why) for an unsupported RO_COMPAT feature, a journal, a read-only device,
    /// or an unclean image without <see cref="Ext2MountOptions.Force"/>. A writable mount clears VALID,
    /// bumps s_mnt_count, sets s_mtime and frees the ext3-style orphan list.
    /// </summary>
    public static Errno Mount(IBlockDevice dev, Ext2MountOptions? options, out Ext2Fs? fs, out string message)
    {
        options ??= new Ext2MountOptions();
        fs = null;
        message = "";
        var raw = new byte[1024];
        if (dev.Size < 2048 || dev.Read(1024, raw) != Errno.OK) { message = "device too small for an ext2 superblock"; return Errno.EINVAL; }
        var sb = new Superblock(raw);
        string? bad = Validate(sb, dev.Size);
        if (bad != null) { message = bad; return Errno.EINVAL; }
        uint incompat = sb.FeatureIncompat & ~Ext2Features.SupportedIncompat;
        if (incompat != 0)
        {
            message = $"unsupported INCOMPAT feature {Ext2Features.IncompatName(incompat & (uint)-(int)incompat)} (0x{incompat:x}): refusing to mount";
            return Errno.EINVAL;
        }
        int bs = sb.BlockSize;
        uint groups = (uint)((sb.BlocksCount - sb.FirstDataBlock + (ulong)sb.BlocksPerGroup - 1) / sb.BlocksPerGroup);
        int gdtBlocks = (int)((groups * 32 + bs - 1) / bs);
        var gdt = new byte[gdtBlocks * bs];
        if (dev.ReadBlocks(sb.FirstDataBlock + 1, bs, gdt) != Errno.OK) { message = "cannot read the group descriptors"; return Errno.EIO; }
        bad = ValidateGroups(sb, gdt, groups, gdtBlocks);
        if (bad != null) { message = bad; return Errno.EINVAL; }

        var notes = new List<string>();
        bool hard = dev.IsReadOnly;
        if (!options.ReadOnly && dev.IsReadOnly) notes.Add("device is read-only: mounted read-only");
        uint roc = sb.FeatureRoCompat & ~Ext2Features.SupportedRoCompat;
        if (roc != 0) { hard = true; if (!options.ReadOnly) notes.Add($"unsupported RO_COMPAT feature {Ext2Features.RoCompatName(roc & (uint)-(int)roc)} (0x{roc:x}): mounted read-only"); }
        if ((sb.FeatureCompat & Ext2Features.CompatHasJournal) != 0) { hard = true; if (!options.ReadOnly) notes.Add("has_journal: this core does not write a journal, mounted read-only"); }
        bool ro = options.ReadOnly || hard;
        if (!ro && ((sb.State & Superblock.StateValid) == 0 || (sb.State & Superblock.StateError) != 0))
        {
            if (options.Force) notes.Add("filesystem was not cleanly unmounted (or has errors); mounted read-write as forced");
            else { ro = true; notes.Add("filesystem was not cleanly unmounted (or has errors): mounted read-only; run e2fsck or force"); }
        }
        var f = new Ext2Fs(dev, sb, gdt, options, ro, string.Join("; ", notes)) { _hardReadOnly = hard };
        var root = f.ReadInode(2, out var rootInode);
        if (root != Errno.OK || !rootInode.IsDirectory) { message = "root inode is not a directory"; return Errno.EINVAL; }
        if (!ro)
        {
            f._lock.EnterWriteLock();
            try
            {
                var err = f.GoWritableLocked(bumpMountCount: true);
                if (err != Errno.OK) { message = "cannot write the superblock"; return err; }
            }
            finally { f._lock.ExitWriteLock(); }
        }
        fs = f;
        message = f.MountMessage;
        return Errno.OK;
    }

    /// <summary>Clears VALID, optionally bumps s_mnt_count, sets s_mtime, frees the orphan chain and syncs.</summary>
    Errno GoWritableLocked(bool bumpMountCount)
    {
        var now = Now();
        _sb.State = (ushort)(_sb.State & ~Superblock.StateValid);
        if (bumpMountCount) _sb.MntCount++;
        _sb.Mtime = (uint)now.Sec;
        _sb.Wtime = (uint)now.Sec;
        _sbDirty = true;
        var err = CleanOrphans();
        if (err != Errno.OK) MountMessage = (MountMessage.Length > 0 ? MountMessage + "; " : "") + "orphan list is corrupt, left alone";
        return SyncLocked();
    }

    /// <summary>
    /// Remounts read-only (writes everything, sets VALID) or read-write (clears VALID, frees orphans):
    /// fsysopts --readonly / --writable. Going writable answers EROFS when the mount is read-only for a
    /// reason that cannot change (read-only device, unsupported RO_COMPAT feature, journal); it is the
    /// explicit override for an unclean image.
    /// </summary>
    public Errno SetReadOnly(bool readOnly)
    {
        _lock.EnterWriteLock();
        try
        {
            if (_unmounted) return Errno.EIO;
            if (readOnly == IsReadOnly) return Errno.OK;
            if (readOnly)
            {
                _sb.State |= Superblock.StateValid;
                _sbDirty = true;
                var err = SyncLocked();
                IsReadOnly = true;
                return err;
            }
            if (_hardReadOnly) return Errno.EROFS;
            IsReadOnly = false;
            var e = GoWritableLocked(bumpMountCount: false);
            if (e != Errno.OK) IsReadOnly = true;
            return e;
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>
    /// Opens the image file <paramref name="path"/> and mounts it; the filesystem owns the device and
    /// closes it in <see cref="Dispose"/>.
    /// </summary>
    public static Errno MountImage(string path, Ext2MountOptions? options, out Ext2Fs? fs, out string message)
    {
        fs = null;
        FileBlockDevice dev;
        // Opened read-write when the file allows it, even for a read-only mount, so that a later
        // SetReadOnly(false) (fsysopts --writable) can work; a read-only file gives a hard read-only mount.
        try
        {
            try { dev = new FileBlockDevice(path, readOnly: false); }
            catch (UnauthorizedAccessException) { dev = new FileBlockDevice(path, readOnly: true); }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            message = $"{path}: {e.Message}";
            return e is UnauthorizedAccessException ? Errno.EACCES : e is FileNotFoundException or DirectoryNotFoundException ? Errno.ENOENT : Errno.EIO;
        }
        var err = Mount(dev, options, out fs, out message);
        if (err != Errno.OK) { dev.Dispose(); return err; }
        fs!._ownedDevice = dev;
        return Errno.OK;
    }

    IDisposable? _ownedDevice;

    static string? Validate(Superblock sb, long devSize)
    {
        if (sb.Magic != Superblock.Ext2Magic) return $"bad magic 0x{sb.Magic:x4}: not an ext2 filesystem";
        if (sb.RevLevel > 1) return $"unknown revision {sb.RevLevel}";
        if (sb.LogBlockSize > 2) return $"block size {(sb.LogBlockSize < 20 ? 1024L << (int)sb.LogBlockSize : -1)} not supported (1, 2 or 4 KiB)";
        int bs = sb.BlockSize;
        if (sb.FirstDataBlock != (bs == 1024 ? 1u : 0u)) return $"bad first data block {sb.FirstDataBlock}";
        int isz = sb.InodeSize;
        if (isz < 128 || isz > bs || (isz & (isz - 1)) != 0) return $"bad inode size {isz}";
        if (sb.BlocksPerGroup == 0 || sb.BlocksPerGroup > 8 * (uint)bs || sb.BlocksPerGroup % 8 != 0) return $"bad blocks per group {sb.BlocksPerGroup}";
        if (sb.InodesPerGroup == 0 || sb.InodesPerGroup > 8 * (uint)bs) return $"bad inodes per group {sb.InodesPerGroup}";
        if (sb.BlocksCount <= sb.FirstDataBlock + 1) return $"bad block count {sb.BlocksCount}";
        if ((long)sb.BlocksCount * bs > devSize) return $"filesystem ({(long)sb.BlocksCount * bs} bytes) is larger than the device ({devSize} bytes)";
        ulong groups = (sb.BlocksCount - sb.FirstDataBlock + (ulong)sb.BlocksPerGroup - 1) / sb.BlocksPerGroup;
        if ((ulong)sb.InodesCount != groups * sb.InodesPerGroup) return $"inode count {sb.InodesCount} is not {groups} groups × {sb.InodesPerGroup}";
        if (sb.FirstIno < 11 || sb.FirstIno >= sb.InodesCount) return $"bad first inode {sb.FirstIno}";
        if (sb.FreeBlocksCount > sb.BlocksCount || sb.FreeInodesCount > sb.InodesCount) return "free counts larger than the filesystem";
        if (sb.RevLevel == 1 && isz > 128)
        {
            // nothing more: extra_isize is checked per inode
        }
        return null;
    }

    static string? ValidateGroups(Superblock sb, byte[] gdt, uint groups, int gdtBlocks)
    {
        int bs = sb.BlockSize;
        uint itable = (uint)(((ulong)sb.InodesPerGroup * sb.InodeSize + (ulong)bs - 1) / (ulong)bs);
        ulong freeBlocks = 0, freeInodes = 0;
        for (uint g = 0; g < groups; g++)
        {
            int o = (int)g * 32;
            uint bb = Le.U32(gdt, o), ib = Le.U32(gdt, o + 4), it = Le.U32(gdt, o + 8);
            ulong first = sb.FirstDataBlock + (ulong)g * sb.BlocksPerGroup;
            ulong last = Math.Min(first + sb.BlocksPerGroup, sb.BlocksCount);
            if (bb < first || bb >= last || ib < first || ib >= last || it < first || (ulong)it + itable > last)
                return $"group {g}: bitmap or inode table outside the group (block bitmap {bb}, inode bitmap {ib}, inode table {it})";
            if (bb <= sb.FirstDataBlock + (uint)gdtBlocks || ib <= sb.FirstDataBlock + (uint)gdtBlocks || it <= sb.FirstDataBlock + (uint)gdtBlocks)
                return $"group {g}: metadata overlaps the group descriptors";
            uint fb = Le.U16(gdt, o + 12), fi = Le.U16(gdt, o + 14);
            if (fb > last - first || fi > sb.InodesPerGroup) return $"group {g}: free counts out of range";
            freeBlocks += fb; freeInodes += fi;
        }
        return null;
    }

    /// <summary>
    /// Unmounts: releases orphans still referenced, sets VALID, writes everything and fsyncs the image.
    /// The device is not disposed (the caller owns it). Further calls answer EIO.
    /// </summary>
    public Errno Unmount()
    {
        _lock.EnterWriteLock();
        try
        {
            if (_unmounted) return Errno.OK;
            Errno err = Errno.OK;
            if (!IsReadOnly)
            {
                foreach (var ino in _refs.Keys.ToArray())
                {
                    _refs.Remove(ino);
                    if (ReadInode(ino, out var inode) == Errno.OK && inode.LinksCount == 0 && inode.Mode != 0)
                    {
                        OrphanRemove(ino);
                        DeleteInode(inode);
                    }
                }
                var now = Now();
                _sb.State |= Superblock.StateValid;
                _sb.Wtime = (uint)now.Sec;
                _sbDirty = true;
                err = SyncLocked();
            }
            _unmounted = true;
            return err;
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>
    /// Drops the filesystem without a clean unmount, as if the process died after the last sync
    /// (dirty blocks are lost, VALID stays clear). For crash tests.
    /// </summary>
    public void Abandon()
    {
        _lock.EnterWriteLock();
        _unmounted = true;
        _lock.ExitWriteLock();
    }

    /// <summary>Unmounts (see <see cref="Unmount"/>) if not done yet; closes the device if <see cref="MountImage"/> opened it.</summary>
    public void Dispose()
    {
        if (!_unmounted) Unmount();
        _ownedDevice?.Dispose();
        _ownedDevice = null;
    }

    /// <summary>Writes every change to the image and fsyncs it: when this returns OK the data is on disk.</summary>
    /// <remarks>The changes are written to the image file under the write lock (a consistent state), the fsync runs
    /// after it is released: it can take long (the image's dirty pages go to the disk), and other operations go on
    /// meanwhile. What they change may or may not be in that fsync; everything done before the call is.</remarks>
    public Errno Sync()
    {
        if (IsReadOnly) return Errno.OK;
        Errno err;
        _lock.EnterWriteLock();
        try
        {
            if (_unmounted) return Errno.EIO;
            err = WriteBackLocked();
        }
        finally { _lock.ExitWriteLock(); }
        var flushed = _dev.Flush();
        return err != Errno.OK ? err : flushed;
    }

    /// <summary>Blocks written per hold of the lock by <see cref="SyncInSlices"/>: 1 MiB at 4 KiB blocks, about a
    /// millisecond of writing into the image's page cache.</summary>
    public const int SyncSliceBlocks = 256;

    /// <summary>
    /// The periodic sync (libdiskfs's sync thread): <see cref="Sync"/>, but the dirty blocks go to the image
    /// <see cref="SyncSliceBlocks"/> at a time, each slice under the write lock, so that requests wait at most for one
    /// slice instead of for everything a burst of changes left (an untar leaves ~20 MB of metadata and file tails: one
    /// hold of 10-20 ms). The image is then not one instant's state until the last slice, which also writes the
    /// superblock, the group descriptors and whatever changed meanwhile; Linux's own ext2 writes back in any order
    /// too, and a crash in between is what e2fsck repairs. Explicit syncs (fsync, syncfs, unmount) stay whole.
    /// </summary>
    public Errno SyncInSlices()
    {
        if (IsReadOnly) return Errno.OK;
        Errno err;
        // As many slices as there are dirty blocks now, at most: blocks that writers keep dirtying meanwhile go in
        // the last one, so a sync ends however busy the filesystem is.
        int slices = Cache.DirtyCount / SyncSliceBlocks;
        while (true)
        {
            _lock.EnterWriteLock();
            try
            {
                if (_unmounted) return Errno.EIO;
                // The last slice: everything left, with the superblock and the descriptors.
                if (slices-- <= 0 || Cache.DirtyCount <= SyncSliceBlocks) { err = WriteBackLocked(); break; }
                err = Cache.FlushSome(SyncSliceBlocks, out _);
                if (err != Errno.OK) break;
            }
            finally { _lock.ExitWriteLock(); }
            Thread.Yield(); // let the requests that queued behind this slice in first
        }
        var flushed = _dev.Flush();
        return err != Errno.OK ? err : flushed;
    }

    /// <summary>Writes everything back and fsyncs, all under the lock (unmount, remount, synchronous mode).</summary>
    Errno SyncLocked()
    {
        if (IsReadOnly) return Errno.OK;
        var err = WriteBackLocked();
        return err != Errno.OK ? err : _dev.Flush();
    }

    /// <summary>Puts the superblock and the primary GDT in the cache and writes every dirty block to the image file
    /// (no fsync).</summary>
    Errno WriteBackLocked()
    {
        if (_gdtDirty)
        {
            for (int i = 0; i < GdtBlocks; i++)
            {
                uint b = FirstDataBlock + 1 + (uint)i;
                var err = Cache.Get(b, out var data);
                if (err != Errno.OK) return err;
                _gdt.AsSpan(i * BlockSize, BlockSize).CopyTo(data);
                Cache.MarkDirty(b, data);
            }
            _gdtDirty = false;
        }
        if (_sbDirty)
        {
            _sb.Wtime = (uint)Now().Sec;
            // The superblock lives at byte 1024: block 1 with 1 KiB blocks, inside block 0 otherwise.
            uint b = BlockSize == 1024 ? 1u : 0u;
            int off = BlockSize == 1024 ? 0 : 1024;
            var err = Cache.Get(b, out var data);
            if (err != Errno.OK) return err;
            _sb.Raw.CopyTo(data, off);
            Cache.MarkDirty(b, data);
            _sbDirty = false;
        }
        return Cache.Flush(durable: false);
    }

    /// <summary>Filesystem statistics (statfs).</summary>
    public Errno StatFs(out StatFs st)
    {
        _lock.EnterReadLock();
        try
        {
            st = default;
            st.Type = 0xEF53;
            st.Bsize = BlockSize;
            st.Frsize = BlockSize;
            st.Blocks = BlocksCount - FirstDataBlock;
            st.Bfree = _sb.FreeBlocksCount;
            st.Bavail = Math.Max(0, (long)_sb.FreeBlocksCount - _sb.RBlocksCount);
            st.Files = InodesCount;
            st.Ffree = _sb.FreeInodesCount;
            st.Fsid = BitConverter.ToUInt64(_sb.Uuid) ^ BitConverter.ToUInt64(_sb.Uuid[8..]);
            st.Namelen = 255;
            st.Flags = IsReadOnly ? 1 : 0;
            return Errno.OK;
        }
        finally { _lock.ExitReadLock(); }
    }

    // ───────────────────────────── group descriptors ─────────────────────────────

    internal uint GdBlockBitmap(uint g) => Le.U32(_gdt, (int)g * 32);
    internal uint GdInodeBitmap(uint g) => Le.U32(_gdt, (int)g * 32 + 4);
    internal uint GdInodeTable(uint g) => Le.U32(_gdt, (int)g * 32 + 8);
    internal ushort GdFreeBlocks(uint g) => Le.U16(_gdt, (int)g * 32 + 12);
    internal ushort GdFreeInodes(uint g) => Le.U16(_gdt, (int)g * 32 + 14);
    internal ushort GdUsedDirs(uint g) => Le.U16(_gdt, (int)g * 32 + 16);
    void GdAdd(uint g, int field, int delta) { int o = (int)g * 32 + field; Le.U16(_gdt, o, (ushort)(Le.U16(_gdt, o) + delta)); _gdtDirty = true; }

    internal uint GroupFirstBlock(uint g) => FirstDataBlock + g * BlocksPerGroup;
    internal uint GroupBlockCount(uint g) => Math.Min(BlocksPerGroup, BlocksCount - GroupFirstBlock(g));

    /// <summary>True if group <paramref name="g"/> holds a superblock backup (sparse_super: 0, 1, powers of 3, 5, 7).</summary>
    internal static bool GroupHasSuper(uint g, bool sparse)
    {
        if (!sparse || g <= 1) return true;
        return IsPower(g, 3) || IsPower(g, 5) || IsPower(g, 7);
        static bool IsPower(uint n, uint b) { while (n % b == 0) n /= b; return n == 1; }
    }

    /// <summary>True if <paramref name="block"/> is group metadata (superblock/GDT copies, bitmaps, inode table).</summary>
    internal bool IsMetadataBlock(uint block)
    {
        if (block < FirstDataBlock + 1 + (uint)GdtBlocks) return true;
        uint g = (block - FirstDataBlock) / BlocksPerGroup;
        if (g >= GroupCount) return true;
        uint first = GroupFirstBlock(g);
        if (GroupHasSuper(g, (_sb.FeatureRoCompat & Ext2Features.RoCompatSparseSuper) != 0) &&
            block < first + 1 + (uint)GdtBlocks + _sb.ReservedGdtBlocks) return true;
        if (block == GdBlockBitmap(g) || block == GdInodeBitmap(g)) return true;
        uint it = GdInodeTable(g);
        return block >= it && block < it + (uint)ItableBlocks;
    }

    /// <summary>True if <paramref name="block"/> can be a data or indirect block pointer.</summary>
    internal bool ValidDataBlock(uint block) => block >= FirstDataBlock && block < BlocksCount;

    // ───────────────────────────── inodes on disk ─────────────────────────────

    bool ValidIno(uint ino) => ino >= 1 && ino <= InodesCount;

    Errno InodeLocation(uint ino, out uint block, out int offset)
    {
        block = 0; offset = 0;
        if (!ValidIno(ino)) return Errno.EIO;
        uint g = (ino - 1) / InodesPerGroup, idx = (ino - 1) % InodesPerGroup;
        long byteOff = (long)idx * InodeSize;
        block = GdInodeTable(g) + (uint)(byteOff / BlockSize);
        offset = (int)(byteOff % BlockSize);
        return Errno.OK;
    }

    /// <summary>Reads inode <paramref name="ino"/> into a private copy. EIO if the number is out of range.</summary>
    internal Errno ReadInode(uint ino, out Inode inode)
    {
        inode = null!;
        var err = InodeLocation(ino, out uint block, out int off);
        if (err != Errno.OK) return err;
        err = Cache.Get(block, out var data);
        if (err != Errno.OK) return err;
        var raw = new byte[InodeSize];
        data.AsSpan(off, InodeSize).CopyTo(raw);
        inode = new Inode(ino, raw);
        // An extra_isize the record cannot hold would put the extra fields outside it: ignore them.
        if (InodeSize > 128 && (inode.ExtraIsize > InodeSize - 128 || (inode.ExtraIsize & 3) != 0)) inode.ExtraIsize = 0;
        return Errno.OK;
    }

    /// <summary>Reads a live inode (in use: links or open references, non-zero mode). EIO for anything else.</summary>
    internal Errno ReadLiveInode(uint ino, out Inode inode)
    {
        // Reserved inodes (bad blocks, resize, journal...) are never files: a directory entry naming one is corruption.
        if (ino < FirstIno && ino != 2) { inode = null!; return Errno.EIO; }
        var err = ReadInode(ino, out inode);
        if (err != Errno.OK) return err;
        if (inode.Mode == 0 || (inode.LinksCount == 0 && !_refs.ContainsKey(ino))) return Errno.ESTALE;
        return Errno.OK;
    }

    [ThreadStatic] static Inode? t_scratch;

    /// <summary>
    /// <see cref="ReadLiveInode"/> into this thread's scratch copy instead of a new one (no allocation: stat, lookup and
    /// read run it thousands of times a second). Only for a read-only operation that reads one inode this way, keeps it
    /// no longer than the call, and runs no callback meanwhile (a callback could reuse the scratch copy).
    /// </summary>
    Errno ReadLiveInodeScratch(uint ino, out Inode inode)
    {
        inode = null!;
        if (ino < FirstIno && ino != 2) return Errno.EIO;
        var err = ReadInodeScratch(ino, out inode);
        if (err != Errno.OK) return err;
        if (inode.Mode == 0 || (inode.LinksCount == 0 && !_refs.ContainsKey(ino))) return Errno.ESTALE;
        return Errno.OK;
    }

    /// <summary><see cref="ReadInode"/> into this thread's scratch copy (same rules as <see cref="ReadLiveInodeScratch"/>).</summary>
    Errno ReadInodeScratch(uint ino, out Inode inode)
    {
        inode = null!;
        var err = InodeLocation(ino, out uint block, out int off);
        if (err != Errno.OK) return err;
        err = Cache.Get(block, out var data);
        if (err != Errno.OK) return err;
        var s = t_scratch;
        if (s is null || s.Raw.Length != InodeSize) t_scratch = s = new Inode(0, new byte[InodeSize]);
        data.AsSpan(off, InodeSize).CopyTo(s.Raw);
        s.Rebind(ino);
        if (InodeSize > 128 && (s.ExtraIsize > InodeSize - 128 || (s.ExtraIsize & 3) != 0)) s.ExtraIsize = 0;
        inode = s;
        return Errno.OK;
    }

    /// <summary>
    /// False when inode <paramref name="ino"/> certainly has no xattr (none in the inode, no xattr block) and no legacy
    /// Hurd translator block: getxattr can answer ENODATA without parsing anything. The SDK asks a directory for its
    /// default ACL on every create and each new node for its passive translator, so this is hot.
    /// </summary>
    public Errno MayHaveXattrs(InodeNumber ino, out bool maybe)
    {
        maybe = true;
        var err = BeginRead();
        if (err != Errno.OK) return err;
        try
        {
            err = ReadLiveInodeScratch(ino.Value, out var inode);
            if (err != Errno.OK) return err;
            maybe = inode.FileAcl != 0 || (IsHurdImage && inode.Osd1 != 0) ||
                (InInodeXattrUsable(inode) && Le.U32(inode.Raw, InInodeXattrStart(inode)) == XattrMagic);
            return Errno.OK;
        }
        finally { EndRead(); }
    }

    /// <summary>Writes <paramref name="inode"/> back into the cached inode table.</summary>
    internal Errno WriteInode(Inode inode)
    {
        var err = InodeLocation(inode.Number, out uint block, out int off);
        if (err != Errno.OK) return err;
        err = Cache.Get(block, out var data);
        if (err != Errno.OK) return err;
        inode.Raw.CopyTo(data, off);
        Cache.MarkDirty(block, data);
        return Errno.OK;
    }

    // ───────────────────────────── block allocation ─────────────────────────────

    /// <summary>
    /// Allocates one block, as close after <paramref name="goal"/> as possible (same group first, then the
    /// following groups). Updates the bitmap and both free counts. ENOSPC when full (the root reserve is
    /// kept for files owned by root).
    /// </summary>
    internal Errno AllocBlock(uint goal, bool privileged, out uint block)
    {
        block = 0;
        if (_sb.FreeBlocksCount == 0 || (!privileged && _sb.FreeBlocksCount <= _sb.RBlocksCount)) return Errno.ENOSPC;
        if (goal < FirstDataBlock || goal >= BlocksCount) goal = FirstDataBlock;
        uint g0 = (goal - FirstDataBlock) / BlocksPerGroup;
        for (uint i = 0; i <= GroupCount; i++)
        {
            uint g = (g0 + i) % GroupCount;
            if (GdFreeBlocks(g) == 0) continue;
            // Bits below the group's cursor are all in use: search from the goal (or the cursor, if above it), then wrap
            // round to the cursor.
            int c = _blockCursor[g];
            int start = Math.Max(c, i == 0 ? (int)((goal - FirstDataBlock) % BlocksPerGroup) : 0);
            var err = Cache.Get(GdBlockBitmap(g), out var bitmap);
            if (err != Errno.OK) return err;
            int n = (int)GroupBlockCount(g);
            int bit = FindZeroBit(bitmap, start, n), scannedFrom = start;
            if (bit < 0 && start > c) { bit = FindZeroBit(bitmap, c, start); scannedFrom = c; }
            while (bit >= 0)
            {
                uint b = GroupFirstBlock(g) + (uint)bit;
                if (!IsMetadataBlock(b)) break;
                // A corrupt bitmap claims metadata is free: mark it used and keep looking.
                bitmap[bit >> 3] |= (byte)(1 << (bit & 7));
                Cache.MarkDirty(GdBlockBitmap(g), bitmap);
                bit = FindZeroBit(bitmap, bit + 1, n);
            }
            if (bit < 0) continue;
            bitmap[bit >> 3] |= (byte)(1 << (bit & 7));
            Cache.MarkDirty(GdBlockBitmap(g), bitmap);
            if (scannedFrom == c) _blockCursor[g] = bit + 1; // [c, bit] now all in use
            GdAdd(g, 12, -1);
            _sb.FreeBlocksCount--;
            _sbDirty = true;
            block = GroupFirstBlock(g) + (uint)bit;
            return Errno.OK;
        }
        return Errno.ENOSPC;
    }

    /// <summary>Frees one block (bitmap and counts). EIO if it is out of range, metadata, or already free.</summary>
    internal Errno FreeBlock(uint block)
    {
        if (!ValidDataBlock(block) || IsMetadataBlock(block)) return Errno.EIO;
        uint g = (block - FirstDataBlock) / BlocksPerGroup;
        int bit = (int)((block - FirstDataBlock) % BlocksPerGroup);
        var err = Cache.Get(GdBlockBitmap(g), out var bitmap);
        if (err != Errno.OK) return err;
        byte mask = (byte)(1 << (bit & 7));
        if ((bitmap[bit >> 3] & mask) == 0) return Errno.EIO;
        bitmap[bit >> 3] &= (byte)~mask;
        Cache.MarkDirty(GdBlockBitmap(g), bitmap);
        if (bit < _blockCursor[g]) _blockCursor[g] = bit;
        GdAdd(g, 12, +1);
        _sb.FreeBlocksCount++;
        _sbDirty = true;
        Cache.Forget(block);
        return Errno.OK;
    }

    static int FindZeroBit(byte[] bitmap, int start, int end)
    {
        int i = start;
        while (i < end && (i & 7) != 0) { if ((bitmap[i >> 3] & (1 << (i & 7))) == 0) return i; i++; }
        while (i + 8 <= end && (i & 63) != 0)
        {
            byte b = bitmap[i >> 3];
            if (b != 0xFF) return i + System.Numerics.BitOperations.TrailingZeroCount(~b & 0xFF);
            i += 8;
        }
        // 64 bits at a time over full groups' bitmaps (bit k of the little-endian word is bit i + k).
        while (i + 64 <= end)
        {
            ulong w = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bitmap.AsSpan(i >> 3, 8));
            if (w != ulong.MaxValue) return i + System.Numerics.BitOperations.TrailingZeroCount(~w);
            i += 64;
        }
        while (i + 8 <= end)
        {
            byte b = bitmap[i >> 3];
            if (b != 0xFF) return i + System.Numerics.BitOperations.TrailingZeroCount(~b & 0xFF);
            i += 8;
        }
        while (i < end) { if ((bitmap[i >> 3] & (1 << (i & 7))) == 0) return i; i++; }
        return -1;
    }

    // ───────────────────────────── inode allocation ─────────────────────────────

    /// <summary>
    /// Allocates an inode: directories Orlov-style (top-level ones spread over groups with the fewest
    /// directories and above-average free space, others near their parent), files in their parent's group
    /// or a quadratic probe from it. Zeroes the slot (extra area included) and sets i_extra_isize.
    /// </summary>
    internal Errno AllocInode(uint parent, bool isDir, out Inode inode)
    {
        inode = null!;
        if (_sb.FreeInodesCount == 0) return Errno.ENOSPC;
        uint pg = (parent - 1) / InodesPerGroup;
        long g = isDir ? FindGroupDir(parent, pg) : FindGroupOther(parent, pg);
        if (g < 0) return Errno.ENOSPC;
        for (uint i = 0; i < GroupCount; i++)
        {
            uint gg = (uint)((g + i) % GroupCount);
            if (GdFreeInodes(gg) == 0) continue;
            var err = Cache.Get(GdInodeBitmap(gg), out var bitmap);
            if (err != Errno.OK) return err;
            int start = Math.Max(gg == 0 ? (int)FirstIno - 1 : 0, _inodeCursor[gg]);
            int bit = FindZeroBit(bitmap, start, (int)InodesPerGroup);
            if (bit < 0) continue;
            _inodeCursor[gg] = bit + 1;
            bitmap[bit >> 3] |= (byte)(1 << (bit & 7));
            Cache.MarkDirty(GdInodeBitmap(gg), bitmap);
            GdAdd(gg, 14, -1);
            if (isDir) GdAdd(gg, 16, +1);
            _sb.FreeInodesCount--;
            _sbDirty = true;
            uint ino = gg * InodesPerGroup + (uint)bit + 1;
            var raw = new byte[InodeSize];
            inode = new Inode(ino, raw);
            if (InodeSize >= 160) inode.ExtraIsize = 32;
            inode.Generation = NextGeneration();
            return Errno.OK;
        }
        return Errno.ENOSPC;
    }

    /// <summary>Per group, a bit below which the inode bitmap has no free bit (this mount allocated them in order, or
    /// found them used): allocation scans from here, not from the group's start. Lowered by every free.</summary>
    int[] _inodeCursor = [];
    readonly bool _hasFiletype;

    /// <summary>The same for each group's block bitmap: first-fit allocations (a new file's first block aims at its
    /// group's start) skip the used prefix.</summary>
    int[] _blockCursor = [];

    uint _generation;
    uint NextGeneration() => unchecked(++_generation + _orlovSeed * 2654435761u);

    long FindGroupOther(uint parent, uint pg)
    {
        if (GdFreeInodes(pg) > 0 && GdFreeBlocks(pg) > 0) return pg;
        uint g = pg;
        for (uint i = 1; i < GroupCount; i <<= 1)
        {
            g = (g + i) % GroupCount;
            if (GdFreeInodes(g) > 0 && GdFreeBlocks(g) > 0) return g;
        }
        for (uint i = 0; i < GroupCount; i++)
        {
            g = (pg + i) % GroupCount;
            if (GdFreeInodes(g) > 0) return g;
        }
        return -1;
    }

    long FindGroupDir(uint parent, uint pg)
    {
        uint ngroups = GroupCount;
        ulong avgFreeInodes = _sb.FreeInodesCount / ngroups;
        ulong avgFreeBlocks = _sb.FreeBlocksCount / ngroups;
        ulong ndirs = 0;
        for (uint g = 0; g < ngroups; g++) ndirs += GdUsedDirs(g);
        if (parent == 2)
        {
            // Top-level directory: a pseudo-random start, then the group with the fewest directories
            // among those with above-average free inodes and blocks.
            _orlovSeed = _orlovSeed * 1103515245u + 12345u;
            uint start = (_orlovSeed >> 8) % ngroups;
            long best = -1; uint bestDirs = uint.MaxValue;
            for (uint i = 0; i < ngroups; i++)
            {
                uint g = (start + i) % ngroups;
                if (GdFreeInodes(g) == 0 || GdFreeInodes(g) < avgFreeInodes || GdFreeBlocks(g) < avgFreeBlocks) continue;
                if (GdUsedDirs(g) < bestDirs) { best = g; bestDirs = GdUsedDirs(g); }
            }
            if (best >= 0) return best;
        }
        else
        {
            ulong maxDirs = ndirs / ngroups + InodesPerGroup / 16;
            ulong minInodes = avgFreeInodes - avgFreeInodes / 4;
            ulong minBlocks = avgFreeBlocks - avgFreeBlocks / 4;
            for (uint i = 0; i < ngroups; i++)
            {
                uint g = (pg + i) % ngroups;
                if (GdUsedDirs(g) >= maxDirs) continue;
                if (GdFreeInodes(g) < minInodes || GdFreeBlocks(g) < minBlocks) continue;
                if (GdFreeInodes(g) == 0) continue;
                return g;
            }
        }
        for (uint i = 0; i < ngroups; i++)
        {
            uint g = (pg + i) % ngroups;
            if (GdFreeInodes(g) > 0 && GdFreeInodes(g) >= avgFreeInodes) return g;
        }
        for (uint i = 0; i < ngroups; i++)
        {
            uint g = (pg + i) % ngroups;
            if (GdFreeInodes(g) > 0) return g;
        }
        return -1;
    }

    /// <summary>Frees an inode in the bitmap and counts (the caller has released its blocks).</summary>
    Errno FreeInodeBit(uint ino, bool wasDir)
    {
        if (!ValidIno(ino)) return Errno.EIO;
        uint g = (ino - 1) / InodesPerGroup; int bit = (int)((ino - 1) % InodesPerGroup);
        var err = Cache.Get(GdInodeBitmap(g), out var bitmap);
        if (err != Errno.OK) return err;
        byte mask = (byte)(1 << (bit & 7));
        if ((bitmap[bit >> 3] & mask) == 0) return Errno.EIO;
        bitmap[bit >> 3] &= (byte)~mask;
        Cache.MarkDirty(GdInodeBitmap(g), bitmap);
        if (bit < _inodeCursor[g]) _inodeCursor[g] = bit;
        GdAdd(g, 14, +1);
        if (wasDir && GdUsedDirs(g) > 0) GdAdd(g, 16, -1);
        _sb.FreeInodesCount++;
        _sbDirty = true;
        return Errno.OK;
    }

    /// <summary>
    /// Deletes an inode whose last link and last reference are gone: frees its data, indirect and xattr
    /// blocks, sets dtime, clears the bitmap bit and fixes the counts.
    /// </summary>
    internal Errno DeleteInode(Inode inode)
    {
        Errno result = Errno.OK;
        if (HasBlockPointers(inode))
        {
            var err = FreeBlocksRange(inode, 0, long.MaxValue);
            if (err != Errno.OK) result = err;
        }
        var e2 = XattrDropBlock(inode);
        if (e2 != Errno.OK) result = e2;
        e2 = DropLegacyTranslator(inode);
        if (e2 != Errno.OK) result = e2;
        bool wasDir = inode.IsDirectory;
        if (wasDir) DropDirIndex(inode.Number);
        inode.LinksCount = 0;
        inode.Dtime = (uint)Math.Max(1, Now().Sec);
        inode.Size = 0;
        inode.Blocks512 = 0;
        for (int i = 0; i < Inode.NBlocks; i++) inode.SetBlock(i, 0);
        var e3 = WriteInode(inode);
        if (e3 != Errno.OK) result = e3;
        var e4 = FreeInodeBit(inode.Number, wasDir);
        if (e4 != Errno.OK) result = e4;
        return result;
    }

    /// <summary>True if i_block holds block pointers (not a fast symlink or device numbers).</summary>
    internal bool HasBlockPointers(Inode inode)
    {
        if (inode.IsRegular || inode.IsDirectory) return true;
        if (inode.IsSymlink) return DataBlocks512(inode) > 0;
        return false;
    }

    /// <summary>i_blocks minus the xattr block (how the kernel tells a fast symlink).</summary>
    internal long DataBlocks512(Inode inode) =>
        (long)inode.Blocks512 - (inode.FileAcl != 0 ? BlockSize / 512 : 0);

    // ───────────────────────────── orphans ─────────────────────────────

    /// <summary>
    /// Each orphan this mount put on (or kept on) the on-disk chain → the inode whose i_dtime points at it, 0 for the
    /// superblock's s_last_orphan: removing an arbitrary orphan (the last close of an unlinked file) is then O(1)
    /// instead of a walk of the whole chain (quadratic when many unlinked files are closed out of order, as the FUSE
    /// bridge's node ports are). Only a hint: every use is checked against the disk, and a mismatch walks the chain.
    /// </summary>
    readonly Dictionary<uint, uint> _orphanPrev = new();

    void OrphanAdd(Inode inode)
    {
        uint old = _sb.LastOrphan;
        inode.Dtime = old;
        _sb.LastOrphan = inode.Number;
        _sbDirty = true;
        _orphanPrev[inode.Number] = 0;
        if (old != 0) _orphanPrev[old] = inode.Number;
    }

    /// <summary>Unlinks <paramref name="ino"/> from the on-disk orphan chain (O(1) by <see cref="_orphanPrev"/>, else a bounded walk).</summary>
    Errno OrphanRemove(uint ino)
    {
        if (_orphanPrev.Remove(ino, out uint hint))
        {
            if (ReadInode(ino, out var self) != Errno.OK) return Errno.EIO;
            uint next = self.Dtime;
            if (hint == 0 && _sb.LastOrphan == ino)
            {
                _sb.LastOrphan = next; _sbDirty = true;
                if (next != 0 && _orphanPrev.ContainsKey(next)) _orphanPrev[next] = 0;
                self.Dtime = 0; return WriteInode(self);
            }
            if (hint != 0 && ReadInode(hint, out var prev) == Errno.OK && prev.Dtime == ino)
            {
                prev.Dtime = next;
                if (next != 0 && _orphanPrev.ContainsKey(next)) _orphanPrev[next] = hint;
                self.Dtime = 0;
                var werr = WriteInode(prev);
                return werr != Errno.OK ? werr : WriteInode(self);
            }
            // The hint disagrees with the disk: forget all hints and walk.
            _orphanPrev.Clear();
        }
        if (_sb.LastOrphan == ino)
        {
            if (ReadInode(ino, out var self) != Errno.OK) return Errno.EIO;
            _sb.LastOrphan = self.Dtime; _sbDirty = true;
            self.Dtime = 0; return WriteInode(self);
        }
        uint cur = _sb.LastOrphan;
        for (uint steps = 0; cur != 0 && steps < InodesCount; steps++)
        {
            if (ReadInode(cur, out var node) != Errno.OK) return Errno.EIO;
            if (node.Dtime == ino)
            {
                if (ReadInode(ino, out var self) != Errno.OK) return Errno.EIO;
                node.Dtime = self.Dtime;
                self.Dtime = 0;
                var err = WriteInode(node);
                return err != Errno.OK ? err : WriteInode(self);
            }
            cur = node.Dtime;
        }
        return Errno.OK;
    }

    /// <summary>
    /// Frees the inodes on the ext3-style orphan list (a crash left them; mount or remount read-write).
    /// Inodes still referenced here (unlinked while open, then remounted) stay on the list.
    /// </summary>
    Errno CleanOrphans()
    {
        uint cur = _sb.LastOrphan;
        var seen = new HashSet<uint>();
        var kept = new List<uint>();
        Errno result = Errno.OK;
        while (cur != 0)
        {
            if (!ValidIno(cur) || cur < FirstIno || !seen.Add(cur)) { result = Errno.EIO; break; }
            var err = ReadInode(cur, out var inode);
            if (err != Errno.OK) { result = err; break; }
            uint next = inode.Dtime;
            if (_refs.ContainsKey(cur)) kept.Add(cur);
            else
            {
                inode.Dtime = 0;
                if (inode.LinksCount == 0 && inode.Mode != 0) DeleteInode(inode);
                else WriteInode(inode);
            }
            cur = next;
        }
        // Relink what stays (a corrupt tail is dropped: e2fsck -fy handles what it leaves).
        uint head = 0;
        _orphanPrev.Clear();
        for (int i = kept.Count - 1; i >= 0; i--)
        {
            if (ReadInode(kept[i], out var k) != Errno.OK) continue;
            k.Dtime = head;
            WriteInode(k);
            if (head != 0) _orphanPrev[head] = kept[i];
            _orphanPrev[kept[i]] = 0;
            head = kept[i];
        }
        _sb.LastOrphan = head;
        _sbDirty = true;
        return result;
    }

    // ───────────────────────────── references (open files) ─────────────────────────────

    /// <summary>
    /// Takes a reference on an inode (an open file, a node the translator holds). While referenced, an
    /// inode whose last link goes stays allocated, on the orphan list, until <see cref="Release"/>.
    /// </summary>
    public Errno Acquire(InodeNumber ino)
    {
        _lock.EnterWriteLock();
        try
        {
            var err = ReadLiveInodeScratch(ino.Value, out _);
            if (err != Errno.OK) return err;
            _refs[ino.Value] = _refs.GetValueOrDefault(ino.Value) + 1;
            return Errno.OK;
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>Drops a reference; the last one on an unlinked inode frees it.</summary>
    public Errno Release(InodeNumber ino)
    {
        _lock.EnterWriteLock();
        try
        {
            if (!_refs.TryGetValue(ino.Value, out int n)) return Errno.EINVAL;
            if (n > 1) { _refs[ino.Value] = n - 1; return Errno.OK; }
            _refs.Remove(ino.Value);
            if (IsReadOnly) return Errno.OK;
            // The common last close (the file still has links) only looks: no copy of the inode is made for it.
            var err = ReadInodeScratch(ino.Value, out var inode);
            if (err != Errno.OK) return err;
            if (inode.LinksCount == 0 && inode.Mode != 0)
            {
                OrphanRemove(ino.Value);
                err = ReadInode(ino.Value, out inode);
                if (err != Errno.OK) return err;
                return DeleteInode(inode);
            }
            return Errno.OK;
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>Called with the last link gone: deletes now, or puts it on the orphan list if referenced.</summary>
    Errno DropLastLink(Inode inode)
    {
        if (_refs.ContainsKey(inode.Number)) { OrphanAdd(inode); return WriteInode(inode); }
        return DeleteInode(inode);
    }

    // ───────────────────────────── lock helpers ─────────────────────────────

    /// <summary>Enters the write lock for a change; EROFS on a read-only mount, EIO after unmount.</summary>
    Errno BeginWrite()
    {
        if (IsReadOnly) return Errno.EROFS;
        _lock.EnterWriteLock();
        if (_unmounted) { _lock.ExitWriteLock(); return Errno.EIO; }
        return Errno.OK;
    }

    void EndWrite()
    {
        if (_synchronous && !_unmounted) SyncLocked();
        _lock.ExitWriteLock();
    }

    /// <summary>Turns synchronous mode on or off at run time (fsysopts --sync / --no-sync).</summary>
    public bool Synchronous
    {
        get => _synchronous;
        set
        {
            _lock.EnterWriteLock();
            try { _synchronous = value; if (value && !_unmounted && !IsReadOnly) SyncLocked(); }
            finally { _lock.ExitWriteLock(); }
        }
    }

    Errno BeginRead()
    {
        _lock.EnterReadLock();
        if (_unmounted) { _lock.ExitReadLock(); return Errno.EIO; }
        return Errno.OK;
    }

    void EndRead() => _lock.ExitReadLock();
}
