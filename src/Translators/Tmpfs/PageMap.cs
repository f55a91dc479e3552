namespace Hurd.Tmpfs;

/// <summary>
/// The pages of one sparse file, as page numbers of a <see cref="PagePool"/>: 0 is a hole, a positive number a page
/// holding data, a negative one a page allocated by fallocate and not written since (it reads as zeros and, as in
/// Linux's shmem, SEEK_DATA/SEEK_HOLE count it as a hole). A directly indexed array covers the first GiB (grown as
/// written), a dictionary the rest. Not thread-safe: the file's lock guards it.
/// </summary>
internal sealed class PageMap
{
    /// <summary>Pages below this index live in the array.</summary>
    internal const long LowPages = 1 << 18;

    int[] low = [];
    Dictionary<long, int>? high;

    /// <summary>Number of pages present.</summary>
    public long Count { get; private set; }

    /// <summary>The page number at index <paramref name="i"/>, or 0 for a hole.</summary>
    public int Get(long i)
    {
        if (i < low.Length) return low[i];
        if (i >= LowPages && high is not null && high.TryGetValue(i, out var p)) return p;
        return 0;
    }

    /// <summary>Stores page number <paramref name="page"/> (≠ 0) at index <paramref name="i"/>.</summary>
    public void Set(long i, int page)
    {
        if (i < LowPages)
        {
            if (i >= low.Length)
            {
                long n = Math.Max(16, low.Length);
                while (n <= i) n *= 2;
                Array.Resize(ref low, (int)Math.Min(n, LowPages));
            }
            if (low[i] == 0) Count++;
            low[i] = page;
        }
        else
        {
            high ??= new();
            if (!high.ContainsKey(i)) Count++;
            high[i] = page;
        }
    }

    /// <summary>Removes pages with index in [<paramref name="from"/>, <paramref name="to"/>), passing each page number to
    /// <paramref name="freed"/>; returns how many were present.</summary>
    public long RemoveRange(long from, long to, PagePool pool)
    {
        long removed = 0;
        if (from < low.Length)
        {
            long end = Math.Min(to, low.Length);
            for (long i = from; i < end; i++)
                if (low[i] != 0) { pool.Free(Math.Abs(low[i])); low[i] = 0; removed++; }
        }
        if (high is not null && to > LowPages && high.Count > 0)
        {
            var keys = new List<long>();
            foreach (var k in high.Keys) if (k >= from && k < to) keys.Add(k);
            foreach (var k in keys) { pool.Free(Math.Abs(high[k])); high.Remove(k); }
            removed += keys.Count;
        }
        Count -= removed;
        return removed;
    }

    /// <summary>How many pages with index in [<paramref name="from"/>, <paramref name="to"/>) are present.</summary>
    public long CountRange(long from, long to)
    {
        long n = 0;
        if (from < low.Length)
        {
            long end = Math.Min(to, low.Length);
            for (long i = from; i < end; i++) if (low[i] != 0) n++;
        }
        if (high is not null && to > LowPages)
            foreach (var k in high.Keys) if (k >= from && k < to) n++;
        return n;
    }

    /// <summary>The first present page index ≥ <paramref name="from"/>, or -1.</summary>
    public long NextPresent(long from)
    {
        for (long i = from; i < low.Length; i++) if (low[i] != 0) return i;
        if (high is null || high.Count == 0) return -1;
        long best = -1;
        foreach (var k in high.Keys) if (k >= from && (best < 0 || k < best)) best = k;
        return best;
    }

    /// <summary>The first index ≥ <paramref name="from"/> holding written data, or -1.</summary>
    public long NextData(long from)
    {
        for (long i = from; i < low.Length; i++) if (low[i] > 0) return i;
        if (high is null || high.Count == 0) return -1;
        long best = -1;
        foreach (var (k, v) in high) if (v > 0 && k >= from && (best < 0 || k < best)) best = k;
        return best;
    }

    /// <summary>The first index ≥ <paramref name="from"/> without written data (a hole or an unwritten page).</summary>
    public long NextNonData(long from)
    {
        long i = from;
        for (; i < low.Length; i++) if (low[i] <= 0) return i;
        if (i < LowPages) return i;
        if (high is null) return i;
        while (high.TryGetValue(i, out var v) && v > 0) i++;
        return i;
    }

    /// <summary>The first missing page index ≥ <paramref name="from"/>.</summary>
    public long NextAbsent(long from)
    {
        long i = from;
        for (; i < low.Length; i++) if (low[i] == 0) return i;
        if (i < LowPages) return i;
        if (high is null) return i;
        while (high.ContainsKey(i)) i++;
        return i;
    }
}
