namespace Hurd.Tmpfs;

/// <summary>
/// Where file data lives: 4 KiB pages carved out of 1 MiB slabs on the pinned object heap, handed out by number and
/// recycled through a free list. One slab is one GC object, so a filesystem holding gigabytes costs the GC a few
/// thousand objects instead of a million, and pages are never copied by promotion. Slabs are kept when their pages are
/// freed (they are reused for the next allocations); the size limit, not the pool, bounds the memory.
/// </summary>
internal sealed class PagePool
{
    public const int PageSize = TmpfsFileSystem.PageSize;
    const int SlabShift = 8; // 256 pages per slab
    const int SlabPages = 1 << SlabShift;

    byte[][] slabs = [];
    int slabCount;
    readonly Stack<int> free = new();
    readonly Lock gate = new();

    /// <summary>A page, zeroed unless <paramref name="zero"/> is false; its number is ≥ 1 (0 means "no page").</summary>
    /// <param name="zero">False only when the caller overwrites the whole page at once, under the lock that makes the
    /// page reachable: a page recycled from another file holds that file's bytes until then.</param>
    public int Allocate(bool zero = true)
    {
        int id;
        lock (gate)
        {
            if (free.Count == 0) Grow();
            id = free.Pop();
        }
        if (zero) Page(id).Clear();
        return id;
    }

    void Grow()
    {
        var slab = GC.AllocateUninitializedArray<byte>(SlabPages * PageSize, pinned: true);
        if (slabCount == slabs.Length)
        {
            var bigger = new byte[Math.Max(16, slabs.Length * 2)][];
            Array.Copy(slabs, bigger, slabCount);
            Volatile.Write(ref slabs, bigger);
        }
        slabs[slabCount] = slab;
        int first = slabCount << SlabShift;
        slabCount++;
        for (int i = SlabPages - 1; i >= 0; i--) free.Push(first + i + 1);
    }

    /// <summary>Gives a page back.</summary>
    public void Free(int id)
    {
        lock (gate) free.Push(id);
    }

    /// <summary>The bytes of page <paramref name="id"/> (≥ 1).</summary>
    public Span<byte> Page(int id)
    {
        int i = id - 1;
        return Volatile.Read(ref slabs)[i >> SlabShift].AsSpan((i & (SlabPages - 1)) * PageSize, PageSize);
    }
}
