namespace Hurd.Tmpfs;

/// <summary>
/// The pages of one sparse file, as page numbers of a <see cref="PagePool"/> (0 = hole): a directly indexed array for
/// the first GiB (grown as written), a dictionary above. Not thread-safe: the file's lock guards it.
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

    /// <summary>Stores page number <paramref name="page"/> (≥ 1) at a hole.</summary>
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
                if (low[i] != 0) { pool.Free(low[i]); low[i] = 0; removed++; }
        }
        if (high is not null && to > LowPages && high.Count > 0)
        {
            var keys = new List<long>();
            foreach (var k in high.Keys) if (k >= from && k < to) keys.Add(k);
            foreach (var k in keys) { pool.Free(high[k]); high.Remove(k); }
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
