using System.Text;
using Hurd.Ipc.Abi;

namespace Hurd.Ext2;

public sealed partial class Ext2Fs
{
    /// <summary>
    /// An in-memory index of one large directory: name → (logical block, offset), and per block the
    /// largest record a new entry could take. Built by one linear scan on first use, kept exact by
    /// every change made through this core (under the write lock), dropped when the directory is
    /// deleted or looks inconsistent. Never written to disk: the on-disk directory stays linear.
    /// </summary>
    sealed class DirIndex
    {
        public readonly Dictionary<string, (long Lblk, int Off)> Names = new(StringComparer.Ordinal);
        public readonly List<int> MaxFree = new();
        public Dictionary<string, (long, int)>.AlternateLookup<ReadOnlySpan<char>> Alt;
        public DirIndex() => Alt = Names.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    const int DirIndexMinBlocks = 3;
    const int DirIndexMaxNames = 2_000_000;
    readonly Dictionary<uint, DirIndex> _dirIndexes = new();
    readonly Lock _dirIndexLock = new();
    int _dirIndexNames;

    static string Latin1Key(ReadOnlySpan<byte> name) => Encoding.Latin1.GetString(name);

    void DropDirIndex(uint dir)
    {
        lock (_dirIndexLock)
        {
            if (_dirIndexes.Remove(dir, out var idx)) _dirIndexNames -= idx.Names.Count;
        }
    }

    /// <summary>The largest record a new entry could take in this block.</summary>
    int BlockMaxFree(byte[] data)
    {
        int best = 0;
        for (int off = 0; off < BlockSize;)
        {
            if (EntryAt(data, off, out int recLen, out uint ino, out int nameLen) != Errno.OK) return 0;
            int free = ino == 0 ? recLen : recLen - RecLenFor(nameLen);
            if (free > best) best = free;
            off += recLen;
        }
        return best;
    }

    /// <summary>Gets (building if needed) the index of a directory with at least <see cref="DirIndexMinBlocks"/> blocks; null for small ones.</summary>
    Errno GetDirIndex(Inode dir, out DirIndex? index)
    {
        index = null;
        var err = DirBlocks(dir, out long nblocks);
        if (err != Errno.OK) return err;
        if (nblocks < DirIndexMinBlocks) { DropDirIndex(dir.Number); return Errno.OK; }
        lock (_dirIndexLock)
        {
            if (_dirIndexes.TryGetValue(dir.Number, out index))
            {
                if (index.MaxFree.Count == nblocks) return Errno.OK;
                _dirIndexes.Remove(dir.Number);
                _dirIndexNames -= index.Names.Count;
                index = null;
            }
        }
        var idx = new DirIndex();
        Span<char> chars = stackalloc char[256];
        for (long lblk = 0; lblk < nblocks; lblk++)
        {
            err = DirBlock(dir, lblk, out _, out var data);
            if (err != Errno.OK) return err;
            int best = 0;
            for (int off = 0; off < BlockSize;)
            {
                err = EntryAt(data, off, out int recLen, out uint ino, out int nameLen);
                if (err != Errno.OK) return err;
                if (ino != 0)
                {
                    idx.Names[Latin1Key(data.AsSpan(off + 8, nameLen))] = (lblk, off);
                    best = Math.Max(best, recLen - RecLenFor(nameLen));
                }
                else best = Math.Max(best, recLen);
                off += recLen;
            }
            idx.MaxFree.Add(best);
        }
        lock (_dirIndexLock)
        {
            if (_dirIndexNames + idx.Names.Count > DirIndexMaxNames) { _dirIndexes.Clear(); _dirIndexNames = 0; }
            if (_dirIndexes.TryGetValue(dir.Number, out var other)) { index = other; return Errno.OK; }
            _dirIndexes[dir.Number] = idx;
            _dirIndexNames += idx.Names.Count;
        }
        index = idx;
        return Errno.OK;
    }

    /// <summary>Index lookup: OK with the slot, ENOENT, or an error; <paramref name="used"/> false means "no index, scan".</summary>
    Errno DirFindIndexed(Inode dir, ReadOnlySpan<byte> name, out DirSlot slot, out bool used)
    {
        slot = default; used = false;
        var err = GetDirIndex(dir, out var idx);
        if (err != Errno.OK || idx == null) return err;
        Span<char> key = stackalloc char[name.Length];
        for (int i = 0; i < name.Length; i++) key[i] = (char)name[i];
        (long Lblk, int Off) pos;
        bool found;
        lock (_dirIndexLock) found = idx.Alt.TryGetValue(key, out pos);
        used = true;
        if (!found) return Errno.ENOENT;
        err = DirBlock(dir, pos.Lblk, out uint pb, out var data);
        if (err != Errno.OK) return err;
        // Offsets in the index are entry boundaries (every change to the block goes through this core and keeps the
        // index exact), so the entry is checked where it is, without walking the block; the previous entry's offset,
        // needed only to remove it, is left for DirRemove to find.
        if (EntryAt(data, pos.Off, out _, out uint eino, out int elen) == Errno.OK && eino != 0 &&
            data.AsSpan(pos.Off + 8, elen).SequenceEqual(name))
        {
            slot = new DirSlot { Lblk = pos.Lblk, Pblk = pb, Off = pos.Off, PrevOff = PrevUnknown, Ino = eino, Type = data[pos.Off + 7] };
            return Errno.OK;
        }
        // The index disagrees with the disk: forget it and let the caller scan.
        DropDirIndex(dir.Number);
        used = false;
        return Errno.OK;
    }

    /// <summary>After an entry was added at (lblk, off), or a block appended: keep the index exact.</summary>
    void DirIndexAdded(Inode dir, ReadOnlySpan<byte> name, long lblk, int off, byte[] block)
    {
        lock (_dirIndexLock)
        {
            if (!_dirIndexes.TryGetValue(dir.Number, out var idx)) return;
            if (lblk == idx.MaxFree.Count) idx.MaxFree.Add(0);
            if (lblk >= idx.MaxFree.Count) { _dirIndexes.Remove(dir.Number); _dirIndexNames -= idx.Names.Count; return; }
            idx.Names[Latin1Key(name)] = (lblk, off);
            _dirIndexNames++;
            idx.MaxFree[(int)lblk] = BlockMaxFree(block);
        }
    }

    /// <summary>After the entry <paramref name="name"/> in block <paramref name="lblk"/> was removed.</summary>
    void DirIndexRemoved(Inode dir, ReadOnlySpan<byte> name, long lblk, byte[] block)
    {
        lock (_dirIndexLock)
        {
            if (!_dirIndexes.TryGetValue(dir.Number, out var idx)) return;
            Span<char> key = stackalloc char[name.Length];
            for (int i = 0; i < name.Length; i++) key[i] = (char)name[i];
            if (idx.Alt.Remove(key)) _dirIndexNames--;
            if (lblk < idx.MaxFree.Count) idx.MaxFree[(int)lblk] = BlockMaxFree(block);
        }
    }

    /// <summary>The first block that may take a record of <paramref name="need"/> bytes per the index; -1 to scan, nblocks if none.</summary>
    long DirIndexBlockWithRoom(Inode dir, int need, long nblocks)
    {
        lock (_dirIndexLock)
        {
            if (!_dirIndexes.TryGetValue(dir.Number, out var idx) || idx.MaxFree.Count != nblocks) return -1;
            for (int i = 0; i < idx.MaxFree.Count; i++) if (idx.MaxFree[i] >= need) return i;
            return nblocks;
        }
    }
}
