using Hurd.Ipc.Abi;

namespace Hurd.Ext2;

/// <summary>
/// A write-back cache of filesystem blocks. Blocks are handed out as their cached arrays: a caller
/// that changes one must hold the filesystem's write lock and call <see cref="MarkDirty"/>. Dirty
/// blocks reach the device on <see cref="Flush"/> (sorted, adjacent blocks written in one call) or
/// when the cache exceeds its capacity. Thread-safe (one internal lock); block numbers are checked
/// against the filesystem size, so a corrupt pointer gives EIO, never an access outside the image.
/// Rule for callers: change a block only between getting it and <see cref="MarkDirty"/> (or right after
/// <see cref="GetZeroed"/>), with no other cache call in between: any cache call may write back and drop blocks.
/// </summary>
internal sealed class BlockCache
{
    sealed class Entry { public required byte[] Data; public bool Dirty; public long Tick; }

    readonly IBlockDevice _dev;
    readonly int _bs;
    readonly uint _blocksCount;
    readonly int _capacity;
    readonly Dictionary<uint, Entry> _map = new();
    readonly Lock _lock = new();
    long _tick;
    int _dirtyCount;

    public BlockCache(IBlockDevice dev, int blockSize, uint blocksCount, int capacityBlocks)
    {
        _dev = dev; _bs = blockSize; _blocksCount = blocksCount; _capacity = Math.Max(64, capacityBlocks);
    }

    /// <summary>Number of dirty blocks.</summary>
    public int DirtyCount { get { lock (_lock) return _dirtyCount; } }

    /// <summary>Gets block <paramref name="block"/>, reading it on a miss. EIO if outside the filesystem.</summary>
    public Errno Get(uint block, out byte[] data)
    {
        data = null!;
        if (block >= _blocksCount) return Errno.EIO;
        lock (_lock)
        {
            if (_map.TryGetValue(block, out var e)) { e.Tick = ++_tick; data = e.Data; return Errno.OK; }
        }
        var buf = new byte[_bs];
        var err = _dev.ReadBlocks(block, _bs, buf);
        if (err != Errno.OK) return err;
        lock (_lock)
        {
            if (_map.TryGetValue(block, out var e)) { e.Tick = ++_tick; data = e.Data; return Errno.OK; }
            MaybeShrink();
            _map[block] = new Entry { Data = buf, Tick = ++_tick };
            data = buf;
        }
        return Errno.OK;
    }

    /// <summary>The cached copy of a block, if any (no read, no insertion).</summary>
    public bool TryPeek(uint block, out byte[] data)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(block, out var e)) { data = e.Data; return true; }
        }
        data = null!;
        return false;
    }

    /// <summary>Gets block <paramref name="block"/> zero-filled and dirty, without reading it (a newly allocated block).</summary>
    public Errno GetZeroed(uint block, out byte[] data)
    {
        data = null!;
        if (block >= _blocksCount) return Errno.EIO;
        lock (_lock)
        {
            if (_map.TryGetValue(block, out var e))
            {
                Array.Clear(e.Data);
                if (!e.Dirty) { e.Dirty = true; _dirtyCount++; }
                e.Tick = ++_tick; data = e.Data; return Errno.OK;
            }
            // Shrink first: the caller fills the block after this returns, so it must not be
            // written back (and marked clean) before that.
            MaybeShrink();
            data = new byte[_bs];
            _map[block] = new Entry { Data = data, Dirty = true, Tick = ++_tick };
            _dirtyCount++;
        }
        return Errno.OK;
    }

    /// <summary>
    /// Marks a block obtained from <see cref="Get"/> as changed. <paramref name="data"/> is the array the
    /// caller changed: if the cache dropped the block meanwhile, it goes back in.
    /// </summary>
    public void MarkDirty(uint block, byte[] data)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(block, out var e))
            {
                e.Data = data;
                if (!e.Dirty) { e.Dirty = true; _dirtyCount++; }
            }
            else
            {
                _map[block] = new Entry { Data = data, Dirty = true, Tick = ++_tick };
                _dirtyCount++;
            }
        }
    }

    /// <summary>Drops a block from the cache without writing it (a freed data block).</summary>
    public void Forget(uint block)
    {
        lock (_lock)
        {
            if (_map.Remove(block, out var e) && e.Dirty) _dirtyCount--;
        }
    }

    /// <summary>Writes every dirty block to the device; with <paramref name="durable"/>, also flushes the device.</summary>
    public Errno Flush(bool durable)
    {
        lock (_lock)
        {
            var err = WriteDirtyLocked();
            if (err != Errno.OK) return err;
        }
        return durable ? _dev.Flush() : Errno.OK;
    }

    /// <summary>Writes the <paramref name="maxBlocks"/> lowest-numbered dirty blocks (a slice of a background sync:
    /// the caller holds the filesystem's lock only this long); <paramref name="left"/> is how many stay dirty.</summary>
    public Errno FlushSome(int maxBlocks, out int left)
    {
        lock (_lock)
        {
            var err = WriteDirtyLocked(maxBlocks);
            left = _dirtyCount;
            return err;
        }
    }

    Errno WriteDirtyLocked(int maxBlocks = int.MaxValue)
    {
        if (_dirtyCount == 0) return Errno.OK;
        var dirty = new List<uint>(_dirtyCount);
        foreach (var (k, e) in _map) if (e.Dirty) dirty.Add(k);
        dirty.Sort();
        if (dirty.Count > maxBlocks) dirty.RemoveRange(maxBlocks, dirty.Count - maxBlocks);
        return WriteLocked(dirty);
    }

    /// <summary>Writes the dirty blocks <paramref name="dirty"/> (sorted; adjacent ones in one call) and marks them clean;
    /// one that fails stays dirty.</summary>
    Errno WriteLocked(List<uint> dirty)
    {
        const int MaxRun = 256;
        byte[]? run = null;
        Errno result = Errno.OK;
        for (int i = 0; i < dirty.Count;)
        {
            int j = i + 1;
            while (j < dirty.Count && j - i < MaxRun && dirty[j] == dirty[j - 1] + 1) j++;
            Errno err;
            if (j - i == 1) err = _dev.WriteBlocks(dirty[i], _bs, _map[dirty[i]].Data);
            else
            {
                run ??= new byte[MaxRun * _bs];
                for (int k = i; k < j; k++) _map[dirty[k]].Data.CopyTo(run, (k - i) * _bs);
                err = _dev.WriteBlocks(dirty[i], _bs, run.AsSpan(0, (j - i) * _bs));
            }
            if (err != Errno.OK) result = err;
            else for (int k = i; k < j; k++) { _map[dirty[k]].Dirty = false; _dirtyCount--; }
            i = j;
        }
        return result;
    }

    /// <summary>Over capacity: drops the least recently used eighth of the cache, writing the dirty blocks among them
    /// first. An eighth, not more: that write is what every request waiting for the filesystem's lock waits for, so it
    /// stays what the eviction needs (when a burst of changes left the cache all dirty, at most an eighth of it: 8 MiB
    /// at the default capacity and 4 KiB blocks, instead of all of it). Runs once per capacity/8 insertions; its sort
    /// of the cache's ticks costs well under a microsecond per insertion.</summary>
    void MaybeShrink()
    {
        if (_map.Count <= _capacity) return;
        var ticks = new long[_map.Count];
        int n = 0;
        foreach (var e in _map.Values) ticks[n++] = e.Tick;
        Array.Sort(ticks);
        long cut = ticks[Math.Max(1, n / 8) - 1];
        var old = new List<uint>();
        foreach (var (k, e) in _map) if (e.Dirty && e.Tick <= cut) old.Add(k);
        old.Sort();
        WriteLocked(old);
        old.Clear();
        foreach (var (k, e) in _map) if (!e.Dirty && e.Tick <= cut) old.Add(k);
        foreach (var k in old) _map.Remove(k);
    }
}
