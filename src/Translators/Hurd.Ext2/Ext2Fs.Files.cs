using Hurd.Ipc.Abi;

namespace Hurd.Ext2;

/// <summary>Which fields <see cref="Ext2Fs.SetAttr"/> changes.</summary>
[Flags]
public enum SetAttrMask
{
    None = 0, Mode = 1, Uid = 2, Gid = 4, Size = 8, Atime = 16, Mtime = 32, Ctime = 64,
}

/// <summary>The arguments of <see cref="Ext2Fs.SetAttr"/>; times may be <see cref="TimeSpec.UtimeNow"/> or <see cref="TimeSpec.UtimeOmit"/> in Nsec.</summary>
public struct SetAttrRequest
{
    public SetAttrMask Mask;
    /// <summary>Permission bits (07777); the file type never changes.</summary>
    public uint Mode;
    public uint Uid, Gid;
    public long Size;
    public TimeSpec Atime, Mtime, Ctime;
}

/// <summary>fallocate modes (Linux values).</summary>
[Flags]
public enum FallocateMode
{
    Allocate = 0, KeepSize = 1, PunchHole = 2, ZeroRange = 0x10,
}

public sealed partial class Ext2Fs
{
    /// <summary>lseek whence values the core answers.</summary>
    public const int SeekData = 3, SeekHole = 4;

    /// <summary>Largest file size: the block-map reach, capped by 32-bit i_blocks in 512-byte units.</summary>
    public long MaxFileSize
    {
        get
        {
            long p = PointersPerBlock;
            long blocks = 12 + p + p * p + p * p * p;
            long byMap = blocks * BlockSize;
            long byIBlocks = (long)uint.MaxValue * 512 - (long)(p * p + p + 3) * BlockSize;
            return Math.Min(byMap, byIBlocks);
        }
    }

    // ───────────────────────────── block map ─────────────────────────────

    /// <summary>The path to logical block <paramref name="lblk"/>: offs[0] is the i_block slot, offs[1..depth] the indirect offsets.</summary>
    bool BlockPath(long lblk, Span<int> offs, out int depth)
    {
        long p = PointersPerBlock;
        depth = 0;
        if (lblk < 0) return false;
        if (lblk < 12) { offs[0] = (int)lblk; return true; }
        lblk -= 12;
        if (lblk < p) { offs[0] = 12; offs[1] = (int)lblk; depth = 1; return true; }
        lblk -= p;
        if (lblk < p * p) { offs[0] = 13; offs[1] = (int)(lblk >> _ppbShift); offs[2] = (int)(lblk & (p - 1)); depth = 2; return true; }
        lblk -= p * p;
        if (lblk < p * p * p)
        {
            offs[0] = 14; offs[1] = (int)(lblk >> (2 * _ppbShift)); offs[2] = (int)((lblk >> _ppbShift) & (p - 1)); offs[3] = (int)(lblk & (p - 1));
            depth = 3; return true;
        }
        return false;
    }

    /// <summary>
    /// Maps logical block <paramref name="lblk"/> to a physical block (0 = hole). On a hole,
    /// <paramref name="holeBlocks"/> is how many blocks from lblk are certainly holes. EIO on a pointer
    /// outside the filesystem.
    /// </summary>
    internal Errno Bmap(Inode inode, long lblk, out uint pblk, out long holeBlocks)
    {
        pblk = 0; holeBlocks = 1;
        Span<int> offs = stackalloc int[4];
        if (!BlockPath(lblk, offs, out int depth)) { holeBlocks = long.MaxValue / 2; return Errno.OK; }
        uint p = inode.Block(offs[0]);
        for (int level = 0; ; level++)
        {
            if (p == 0)
            {
                // The zero pointer at this level covers ppb^(depth-level) blocks; lblk sits at pos within them.
                long span = 1, pos = 0;
                for (int k = depth; k > level; k--) { pos += offs[k] * span; span *= PointersPerBlock; }
                holeBlocks = span - pos;
                return Errno.OK;
            }
            if (!ValidDataBlock(p)) return Errno.EIO;
            if (level == depth) { pblk = p; return Errno.OK; }
            var err = Cache.Get(p, out var data);
            if (err != Errno.OK) return err;
            p = Le.U32(data, offs[level + 1] * 4);
        }
    }

    /// <summary>
    /// Maps logical block <paramref name="lblk"/>, allocating it (and any missing indirect blocks, zeroed)
    /// near <paramref name="goal"/>. <paramref name="fresh"/> says the data block was just allocated: its
    /// contents are undefined until the caller fills it (use <see cref="BlockCache.GetZeroed"/>).
    /// </summary>
    internal Errno BmapAlloc(Inode inode, long lblk, uint goal, out uint pblk, out bool fresh)
    {
        pblk = 0; fresh = false;
        Span<int> offs = stackalloc int[4];
        if (!BlockPath(lblk, offs, out int depth)) return Errno.EFBIG;
        bool privileged = inode.Uid == 0;
        uint bsUnits = (uint)(BlockSize / 512);
        uint p = inode.Block(offs[0]);
        if (p == 0)
        {
            if (inode.Blocks512 > uint.MaxValue - bsUnits) return Errno.EFBIG;
            var err = AllocBlock(goal, privileged, out p);
            if (err != Errno.OK) return err;
            goal = p + 1;
            inode.SetBlock(offs[0], p);
            inode.Blocks512 += bsUnits;
            if (depth == 0) { fresh = true; pblk = p; return Errno.OK; }
            err = Cache.GetZeroed(p, out _);
            if (err != Errno.OK) return err;
        }
        else if (!ValidDataBlock(p)) return Errno.EIO;
        for (int level = 1; level <= depth; level++)
        {
            var err = Cache.Get(p, out var data);
            if (err != Errno.OK) return err;
            uint q = Le.U32(data, offs[level] * 4);
            if (q == 0)
            {
                if (inode.Blocks512 > uint.MaxValue - bsUnits) return Errno.EFBIG;
                err = AllocBlock(goal == 0 ? p + 1 : goal, privileged, out q);
                if (err != Errno.OK) return err;
                goal = q + 1;
                Le.U32(data, offs[level] * 4, q);
                Cache.MarkDirty(p, data);
                inode.Blocks512 += bsUnits;
                if (level == depth) { fresh = true; pblk = q; return Errno.OK; }
                err = Cache.GetZeroed(q, out _);
                if (err != Errno.OK) return err;
            }
            else if (!ValidDataBlock(q)) return Errno.EIO;
            p = q;
        }
        pblk = p;
        return Errno.OK;
    }

    /// <summary>A goal for allocating logical block <paramref name="lblk"/>: after the previous block, else in the inode's group.</summary>
    uint AllocGoal(Inode inode, long lblk)
    {
        if (lblk > 0 && Bmap(inode, lblk - 1, out uint prev, out _) == Errno.OK && prev != 0) return prev + 1;
        uint g = (inode.Number - 1) / InodesPerGroup;
        return GroupFirstBlock(g);
    }

    /// <summary>
    /// Frees the data blocks of logical range [<paramref name="from"/>, <paramref name="to"/>) and every
    /// indirect block left empty; updates i_block and i_blocks. Indirect loops or overlaps answer EIO
    /// (each indirect block is visited at most once, so a hostile map cannot make this hang).
    /// </summary>
    internal Errno FreeBlocksRange(Inode inode, long from, long to)
    {
        Errno result = Errno.OK;
        uint bsUnits = (uint)(BlockSize / 512);
        for (int i = 0; i < 12; i++)
        {
            if (i < from || i >= to) continue;
            uint b = inode.Block(i);
            if (b == 0) continue;
            var err = FreeBlock(b);
            if (err != Errno.OK) result = err;
            inode.SetBlock(i, 0);
            inode.Blocks512 = inode.Blocks512 >= bsUnits ? inode.Blocks512 - bsUnits : 0;
        }
        HashSet<uint>? visited = null; // only files with indirect blocks need one (most unlinks free none)
        long baseL = 12, span = PointersPerBlock;
        for (int level = 1; level <= 3; level++)
        {
            int slot = 11 + level;
            uint p = inode.Block(slot);
            if (p != 0 && from < baseL + span && to > baseL)
            {
                var err = FreeTree(inode, p, level, baseL, from, to, visited ??= new HashSet<uint>(), out bool empty);
                if (err != Errno.OK) result = err;
                if (empty)
                {
                    err = FreeBlock(p);
                    if (err != Errno.OK) result = err;
                    inode.SetBlock(slot, 0);
                    inode.Blocks512 = inode.Blocks512 >= bsUnits ? inode.Blocks512 - bsUnits : 0;
                }
            }
            baseL += span;
            span *= PointersPerBlock;
        }
        return result;
    }

    Errno FreeTree(Inode inode, uint p, int level, long baseL, long from, long to, HashSet<uint> visited, out bool nowEmpty)
    {
        nowEmpty = false;
        if (!ValidDataBlock(p) || IsMetadataBlock(p) || !visited.Add(p)) return Errno.EIO;
        var err = Cache.Get(p, out var data);
        if (err != Errno.OK) return err;
        uint bsUnits = (uint)(BlockSize / 512);
        long childSpan = 1;
        for (int k = 1; k < level; k++) childSpan *= PointersPerBlock;
        bool changed = false, anyLeft = false;
        Errno result = Errno.OK;
        for (int i = 0; i < PointersPerBlock; i++)
        {
            uint q = Le.U32(data, i * 4);
            if (q == 0) continue;
            long cb = baseL + i * childSpan;
            if (cb + childSpan <= from || cb >= to) { anyLeft = true; continue; }
            bool freeIt = true;
            if (level > 1)
            {
                err = FreeTree(inode, q, level - 1, cb, from, to, visited, out bool childEmpty);
                if (err != Errno.OK) result = err;
                freeIt = childEmpty;
            }
            if (freeIt)
            {
                err = FreeBlock(q);
                if (err != Errno.OK) result = err;
                Le.U32(data, i * 4, 0);
                changed = true;
                inode.Blocks512 = inode.Blocks512 >= bsUnits ? inode.Blocks512 - bsUnits : 0;
            }
            else anyLeft = true;
        }
        if (changed) Cache.MarkDirty(p, data);
        nowEmpty = !anyLeft && result == Errno.OK;
        return result;
    }

    // ───────────────────────────── attributes ─────────────────────────────

    /// <summary>stat of an inode.</summary>
    public Errno GetAttr(InodeNumber ino, out Stat st)
    {
        st = default;
        var err = BeginRead();
        if (err != Errno.OK) return err;
        try
        {
            err = ReadLiveInodeScratch(ino.Value, out var inode);
            if (err != Errno.OK) return err;
            FillStat(inode, ref st);
            return Errno.OK;
        }
        finally { EndRead(); }
    }

    void FillStat(Inode inode, ref Stat st)
    {
        st.Ino = inode.Number;
        st.Mode = (FileMode)inode.Mode;
        st.Nlink = inode.LinksCount;
        st.Uid = inode.Uid;
        st.Gid = inode.Gid;
        st.Rdev = inode.IsDevice ? Ext2Format.DecodeDevice(inode) : 0;
        st.Size = inode.Size;
        st.Blksize = BlockSize;
        st.Blocks = inode.Blocks512;
        st.Atime = inode.Atime;
        st.Mtime = inode.Mtime;
        st.Ctime = inode.Ctime;
        st.Author = IsHurdImage && Le.U32(inode.Raw, 0x7C) != 0 ? Le.U32(inode.Raw, 0x7C) : inode.Uid;
        st.Generation = inode.Generation;
    }

    /// <summary>
    /// chmod/chown/truncate/utimens in one call. Permission checks are the caller's (the translator's);
    /// ctime becomes now unless <see cref="SetAttrMask.Ctime"/> gives it.
    /// </summary>
    public Errno SetAttr(InodeNumber ino, in SetAttrRequest req)
    {
        var err = BeginWrite();
        if (err != Errno.OK) return err;
        try
        {
            err = ReadLiveInode(ino.Value, out var inode);
            if (err != Errno.OK) return err;
            var now = Now();
            if ((req.Mask & SetAttrMask.Size) != 0)
            {
                if (inode.IsDirectory) return Errno.EISDIR;
                if (!inode.IsRegular) return Errno.EINVAL;
                err = TruncateLocked(inode, req.Size, now);
                if (err != Errno.OK) return err;
            }
            if ((req.Mask & SetAttrMask.Mode) != 0) inode.Mode = (ushort)(((uint)inode.Mode & 0xF000u) | (req.Mode & 0xFFFu));
            if ((req.Mask & SetAttrMask.Uid) != 0) inode.Uid = req.Uid;
            if ((req.Mask & SetAttrMask.Gid) != 0) inode.Gid = req.Gid;
            if ((req.Mask & SetAttrMask.Atime) != 0 && req.Atime.Nsec != TimeSpec.UtimeOmit) inode.Atime = req.Atime.Nsec == TimeSpec.UtimeNow ? now : req.Atime;
            if ((req.Mask & SetAttrMask.Mtime) != 0 && req.Mtime.Nsec != TimeSpec.UtimeOmit) inode.Mtime = req.Mtime.Nsec == TimeSpec.UtimeNow ? now : req.Mtime;
            inode.Ctime = (req.Mask & SetAttrMask.Ctime) != 0 && req.Ctime.Nsec != TimeSpec.UtimeOmit && req.Ctime.Nsec != TimeSpec.UtimeNow ? req.Ctime : now;
            return WriteInode(inode);
        }
        finally { EndWrite(); }
    }

    /// <summary>Sets the size: shrinking frees blocks (indirect ones included) and zeroes the tail of the last block; growing leaves a hole.</summary>
    public Errno Truncate(InodeNumber ino, long size)
    {
        var req = new SetAttrRequest { Mask = SetAttrMask.Size | SetAttrMask.Mtime, Size = size, Mtime = new TimeSpec(0, TimeSpec.UtimeNow) };
        return SetAttr(ino, req);
    }

    Errno TruncateLocked(Inode inode, long size, TimeSpec now)
    {
        if (size < 0) return Errno.EINVAL;
        if (size > MaxFileSize) return Errno.EFBIG;
        long old = inode.Size;
        if (size < old || size == 0)
        {
            long firstFree = (size + BlockSize - 1) / BlockSize;
            var err = FreeBlocksRange(inode, firstFree, long.MaxValue);
            if (err != Errno.OK) { WriteInode(inode); return err; }
            int tail = (int)(size % BlockSize);
            if (tail != 0)
            {
                err = Bmap(inode, size / BlockSize, out uint pb, out _);
                if (err == Errno.OK && pb != 0 && Cache.Get(pb, out var data) == Errno.OK)
                {
                    Array.Clear(data, tail, BlockSize - tail);
                    Cache.MarkDirty(pb, data);
                }
            }
        }
        inode.Size = size;
        NoteLargeFile(size);
        inode.Mtime = now;
        inode.Ctime = now;
        return Errno.OK;
    }

    void NoteLargeFile(long size)
    {
        if (size > int.MaxValue && (_sb.FeatureRoCompat & Ext2Features.RoCompatLargeFile) == 0)
        {
            _sb.FeatureRoCompat |= Ext2Features.RoCompatLargeFile;
            if (_sb.RevLevel == 0) { _sb.RevLevel = 1; _sb.FirstIno = 11; _sb.InodeSize = 128; }
            _sbDirty = true;
        }
    }

    // ───────────────────────────── read / write ─────────────────────────────

    /// <summary>A block-sized buffer per thread for reads of part of an uncached data block.</summary>
    [ThreadStatic] static byte[]? t_dataBlock;

    /// <summary>Reads up to dst.Length bytes at <paramref name="offset"/>; <paramref name="read"/> is 0 at or past EOF. Holes read as zeros.</summary>
    public Errno Read(InodeNumber ino, long offset, Span<byte> dst, out int read)
    {
        read = 0;
        if (offset < 0) return Errno.EINVAL;
        var err = BeginRead();
        if (err != Errno.OK) return err;
        try
        {
            err = ReadLiveInodeScratch(ino.Value, out var inode);
            if (err != Errno.OK) return err;
            if (inode.IsDirectory) return Errno.EISDIR;
            if (!inode.IsRegular) return Errno.EINVAL;
            long size = inode.Size;
            if (offset >= size) return Errno.OK;
            int len = (int)Math.Min(dst.Length, size - offset);
            int done = 0;
            // Whole blocks not in the cache are read straight from the device, adjacent ones in one call.
            uint runStart = 0; int runLen = 0, runDst = 0;
            while (done < len)
            {
                long pos = offset + done;
                long lblk = pos / BlockSize;
                int within = (int)(pos % BlockSize);
                int n = Math.Min(BlockSize - within, len - done);
                err = Bmap(inode, lblk, out uint pb, out _);
                if (err != Errno.OK) return err;
                if (pb != 0 && n == BlockSize && !Cache.TryPeek(pb, out _))
                {
                    if (runLen > 0 && pb == runStart + (uint)runLen && runLen < 1024) runLen++;
                    else
                    {
                        if (runLen > 0 && (err = _dev.ReadDataBlocks(runStart, BlockSize, dst.Slice(runDst, runLen * BlockSize))) != Errno.OK) return err;
                        runStart = pb; runLen = 1; runDst = done;
                    }
                    done += n;
                    continue;
                }
                if (runLen > 0)
                {
                    if ((err = _dev.ReadDataBlocks(runStart, BlockSize, dst.Slice(runDst, runLen * BlockSize))) != Errno.OK) return err;
                    runLen = 0;
                }
                if (pb == 0) dst.Slice(done, n).Clear();
                else if (Cache.TryPeek(pb, out var data)) data.AsSpan(within, n).CopyTo(dst.Slice(done));
                else
                {
                    // Part of a block that is not cached (a clean cached block equals the device, so the device has
                    // the latest): read from the device as data, without filling the metadata cache with it.
                    if (pb >= BlocksCount) return Errno.EIO;
                    var block = t_dataBlock is { } b && b.Length == BlockSize ? b : (t_dataBlock = new byte[BlockSize]);
                    if ((err = _dev.ReadDataBlocks(pb, BlockSize, block)) != Errno.OK) return err;
                    block.AsSpan(within, n).CopyTo(dst.Slice(done));
                }
                done += n;
            }
            if (runLen > 0 && (err = _dev.ReadDataBlocks(runStart, BlockSize, dst.Slice(runDst, runLen * BlockSize))) != Errno.OK) return err;
            read = done;
            return Errno.OK;
        }
        finally { EndRead(); }
    }

    /// <summary>
    /// Writes <paramref name="src"/> at <paramref name="offset"/>, allocating blocks (contiguous where
    /// possible) and extending the size. A short write (<paramref name="written"/> &lt; src.Length) happens
    /// only when the filesystem fills up. Sets large_file when the file passes 2 GiB.
    /// </summary>
    public Errno Write(InodeNumber ino, long offset, ReadOnlySpan<byte> src, out int written) =>
        Write(ino, offset, src, out written, out _);

    /// <summary>The offset argument of <see cref="Write(InodeNumber, long, ReadOnlySpan{byte}, out int, out long)"/> that means "append at the current end, atomically" (O_APPEND).</summary>
    public const long AppendOffset = -1;

    /// <summary>
    /// <see cref="Write(InodeNumber, long, ReadOnlySpan{byte}, out int)"/> with O_APPEND support
    /// (<paramref name="offset"/> = <see cref="AppendOffset"/>: the end of file, read under the same lock as
    /// the write); <paramref name="end"/> is the offset just past the last byte written.
    /// </summary>
    public Errno Write(InodeNumber ino, long offset, ReadOnlySpan<byte> src, out int written, out long end)
    {
        written = 0;
        end = offset;
        if (offset < 0 && offset != AppendOffset) return Errno.EINVAL;
        var err = BeginWrite();
        if (err != Errno.OK) return err;
        try
        {
            err = ReadLiveInode(ino.Value, out var inode);
            if (err != Errno.OK) return err;
            if (inode.IsDirectory) return Errno.EISDIR;
            if (!inode.IsRegular) return Errno.EINVAL;
            if (offset == AppendOffset) offset = inode.Size;
            end = offset;
            if (src.Length == 0) return Errno.OK;
            if (offset + src.Length > MaxFileSize || offset + src.Length < 0) return Errno.EFBIG;
            int done = 0;
            uint goal = 0;
            Errno result = Errno.OK;
            // Whole blocks bypass the cache: adjacent ones go to the device in one write.
            uint runStart = 0; int runLen = 0, runSrc = 0;
            while (done < src.Length)
            {
                long pos = offset + done;
                long lblk = pos / BlockSize;
                int within = (int)(pos % BlockSize);
                int n = Math.Min(BlockSize - within, src.Length - done);
                uint pb = 0;
                bool fresh = false;
                // Inside the file, a rewrite is the common case: a plain lookup, and no allocation goal (which would
                // map the previous block too). Past the end, the block is a hole: allocate at once.
                if (pos < inode.Size)
                {
                    err = Bmap(inode, lblk, out pb, out _);
                    if (err != Errno.OK) { result = err; break; }
                }
                if (pb == 0)
                {
                    if (goal == 0) goal = AllocGoal(inode, lblk);
                    err = BmapAlloc(inode, lblk, goal, out pb, out fresh);
                    if (err != Errno.OK) { result = err; break; }
                }
                goal = pb + 1;
                if (n == BlockSize)
                {
                    Cache.Forget(pb);
                    if (runLen > 0 && pb == runStart + (uint)runLen && runLen < 1024) runLen++;
                    else
                    {
                        if (runLen > 0 && (err = _dev.WriteBlocks(runStart, BlockSize, src.Slice(runSrc, runLen * BlockSize))) != Errno.OK) { result = err; runLen = 0; break; }
                        runStart = pb; runLen = 1; runSrc = done;
                    }
                    done += n;
                    continue;
                }
                byte[] data;
                if (fresh) err = Cache.GetZeroed(pb, out data);
                else
                {
                    err = Cache.Get(pb, out data);
                    if (err == Errno.OK) Cache.MarkDirty(pb, data);
                }
                if (err != Errno.OK) { result = err; break; }
                src.Slice(done, n).CopyTo(data.AsSpan(within));
                done += n;
            }
            if (runLen > 0 && (err = _dev.WriteBlocks(runStart, BlockSize, src.Slice(runSrc, runLen * BlockSize))) != Errno.OK)
            {
                result = err;
                done = runSrc; // the run did not reach the device
            }
            if (done > 0)
            {
                long newEnd = offset + done;
                if (newEnd > inode.Size) { inode.Size = newEnd; NoteLargeFile(newEnd); }
                var now = Now();
                inode.Mtime = now; inode.Ctime = now;
            }
            var werr = WriteInode(inode);
            written = done;
            end = offset + done;
            if (done > 0) return werr;
            return result != Errno.OK ? result : werr;
        }
        finally { EndWrite(); }
    }

    /// <summary>
    /// fallocate: <see cref="FallocateMode.Allocate"/> allocates zeroed blocks (extending the size unless
    /// <see cref="FallocateMode.KeepSize"/>, which allocates only up to EOF: ext2 cannot hold blocks past
    /// EOF); <see cref="FallocateMode.PunchHole"/> (with KeepSize) frees whole blocks and zeroes partial
    /// ones; <see cref="FallocateMode.ZeroRange"/> makes the range read as zeros, allocated.
    /// </summary>
    public Errno Fallocate(InodeNumber ino, FallocateMode mode, long offset, long length)
    {
        if (offset < 0 || length <= 0) return Errno.EINVAL;
        if ((mode & ~(FallocateMode.KeepSize | FallocateMode.PunchHole | FallocateMode.ZeroRange)) != 0) return Errno.EOPNOTSUPP;
        if ((mode & FallocateMode.PunchHole) != 0 && ((mode & FallocateMode.KeepSize) == 0 || (mode & FallocateMode.ZeroRange) != 0)) return Errno.EINVAL;
        var err = BeginWrite();
        if (err != Errno.OK) return err;
        try
        {
            err = ReadLiveInode(ino.Value, out var inode);
            if (err != Errno.OK) return err;
            if (inode.IsDirectory) return Errno.EISDIR;
            if (!inode.IsRegular) return Errno.ENODEV;
            long end = offset + length;
            if (end > MaxFileSize || end < 0) return Errno.EFBIG;
            bool keep = (mode & FallocateMode.KeepSize) != 0;
            long size = inode.Size;
            var now = Now();
            if ((mode & FallocateMode.PunchHole) != 0)
            {
                long pend = Math.Min(end, size);
                if (offset < pend)
                {
                    err = ZeroPartial(inode, offset, pend);
                    if (err == Errno.OK)
                    {
                        long first = (offset + BlockSize - 1) / BlockSize, last = pend / BlockSize;
                        if (pend == size) last = (size + BlockSize - 1) / BlockSize;
                        if (first < last) err = FreeBlocksRange(inode, first, last);
                    }
                    inode.Mtime = now; inode.Ctime = now;
                }
                var w = WriteInode(inode);
                return err != Errno.OK ? err : w;
            }
            long allocEnd = keep ? Math.Min(end, (size + BlockSize - 1) / BlockSize * BlockSize) : end;
            bool zero = (mode & FallocateMode.ZeroRange) != 0;
            // ENOSPC up front, with nothing changed, when the holes to fill (plus their indirect blocks) cannot fit.
            long holes = 0;
            for (long lblk = offset / BlockSize; lblk * BlockSize < allocEnd;)
            {
                err = Bmap(inode, lblk, out uint pb0, out long hole);
                if (err != Errno.OK) return err;
                long step = pb0 != 0 ? 1 : Math.Max(1, Math.Min(hole, (allocEnd + BlockSize - 1) / BlockSize - lblk));
                if (pb0 == 0) holes += step;
                lblk += step;
            }
            long needed = holes + holes / PointersPerBlock + (holes > 0 ? 3 : 0);
            long avail = (long)_sb.FreeBlocksCount - (inode.Uid == 0 ? 0 : _sb.RBlocksCount);
            if (needed > avail) return Errno.ENOSPC;
            if (zero) err = ZeroPartial(inode, offset, keep ? Math.Min(end, size) : end);
            uint goal = 0;
            for (long lblk = offset / BlockSize; err == Errno.OK && lblk * BlockSize < allocEnd; lblk++)
            {
                if (goal == 0) goal = AllocGoal(inode, lblk);
                err = BmapAlloc(inode, lblk, goal, out uint pb, out bool fresh);
                if (err != Errno.OK) break;
                goal = pb + 1;
                bool whole = lblk * BlockSize >= offset && (lblk + 1) * BlockSize <= end;
                if (fresh || (zero && whole)) err = Cache.GetZeroed(pb, out _);
            }
            if (err == Errno.OK && !keep && end > size) { inode.Size = end; NoteLargeFile(end); }
            if (zero || (!keep && end > size)) { inode.Mtime = now; }
            inode.Ctime = now;
            var werr = WriteInode(inode);
            return err != Errno.OK ? err : werr;
        }
        finally { EndWrite(); }
    }

    /// <summary>Zeroes the bytes of [from, to) that lie in partially covered, allocated blocks.</summary>
    Errno ZeroPartial(Inode inode, long from, long to)
    {
        if (from >= to) return Errno.OK;
        long fb = from / BlockSize, lb = (to - 1) / BlockSize;
        var err = ZeroInBlock(inode, fb, from, to);
        if (err == Errno.OK && lb != fb) err = ZeroInBlock(inode, lb, from, to);
        return err;
    }

    Errno ZeroInBlock(Inode inode, long b, long from, long to)
    {
        long bs = b * BlockSize, be = bs + BlockSize;
        long zs = Math.Max(bs, from), ze = Math.Min(be, to);
        if (zs == bs && ze == be) return Errno.OK;
        var err = Bmap(inode, b, out uint pb, out _);
        if (err != Errno.OK || pb == 0) return err;
        err = Cache.Get(pb, out var data);
        if (err != Errno.OK) return err;
        Array.Clear(data, (int)(zs - bs), (int)(ze - zs));
        Cache.MarkDirty(pb, data);
        return Errno.OK;
    }

    /// <summary>lseek with SEEK_DATA / SEEK_HOLE (the end of file is a hole). ENXIO at or past EOF.</summary>
    public Errno Seek(InodeNumber ino, long offset, int whence, out long result)
    {
        result = 0;
        if (whence != SeekData && whence != SeekHole) return Errno.EINVAL;
        if (offset < 0) return Errno.ENXIO;
        var err = BeginRead();
        if (err != Errno.OK) return err;
        try
        {
            err = ReadLiveInode(ino.Value, out var inode);
            if (err != Errno.OK) return err;
            long size = inode.Size;
            if (offset >= size) return Errno.ENXIO;
            long lblk = offset / BlockSize;
            while (lblk * BlockSize < size)
            {
                err = Bmap(inode, lblk, out uint pb, out long hole);
                if (err != Errno.OK) return err;
                if ((pb != 0) == (whence == SeekData)) { result = Math.Max(offset, lblk * BlockSize); return Errno.OK; }
                lblk += pb != 0 ? 1 : Math.Max(1, hole);
            }
            if (whence == SeekData) return Errno.ENXIO;
            result = size;
            return Errno.OK;
        }
        finally { EndRead(); }
    }

    /// <summary>A symlink's target. EINVAL if the inode is not a symlink; EIO if it is malformed.</summary>
    public Errno ReadLink(InodeNumber ino, out byte[] target)
    {
        target = [];
        var err = BeginRead();
        if (err != Errno.OK) return err;
        try
        {
            err = ReadLiveInode(ino.Value, out var inode);
            if (err != Errno.OK) return err;
            if (!inode.IsSymlink) return Errno.EINVAL;
            long size = inode.SizeLow;
            if (DataBlocks512(inode) == 0)
            {
                if (size > 60) return Errno.EIO;
                target = inode.BlockArea[..(int)size].ToArray();
                return Errno.OK;
            }
            if (size >= BlockSize) return Errno.EIO;
            err = Bmap(inode, 0, out uint pb, out _);
            if (err != Errno.OK) return err;
            if (pb == 0) return Errno.EIO;
            err = Cache.Get(pb, out var data);
            if (err != Errno.OK) return err;
            target = data.AsSpan(0, (int)size).ToArray();
            return Errno.OK;
        }
        finally { EndRead(); }
    }

    /// <summary>Writes one inode's dirty blocks... (the whole cache: ext2 has no per-file tracking) and fsyncs. Same as <see cref="Sync"/>.</summary>
    public Errno Fsync(InodeNumber ino) => Sync();
}
