namespace Hurd.Tmpfs;

/// <summary>
/// The pages of one sparse file: a directly indexed array for the first GiB (grown as written), a dictionary above.
/// A missing page is a hole. Not thread-safe: the file's lock guards it.
/// </summary>
internal sealed class PageMap
{
    /// <summary>Pages below this index live in the array.</summary>
    internal const long LowPages = 1 << 18;

    byte[]?[] low = [];
    Dictionary<long, byte[]>? high;

    /// <summary>Number of pages present.</summary>
    public long Count { get; private set; }

    public byte[]? Get(long i)
    {
        if (i < low.Length) return low[i];
        if (i >= LowPages && high is not null && high.TryGetValue(i, out var p)) return p;
        return null;
    }

    public void Set(long i, byte[] page)
    {
        if (i < LowPages)
        {
            if (i >= low.Length)
            {
                long n = Math.Max(16, low.Length);
                while (n <= i) n *= 2;
                Array.Resize(ref low, (int)Math.Min(n, LowPages));
            }
            if (low[i] is null) Count++;
            low[i] = page;
        }
        else
        {
            high ??= new();
            if (!high.ContainsKey(i)) Count++;
            high[i] = page;
        }
    }

    /// <summary>Removes pages with index in [<paramref name="from"/>, <paramref name="to"/>); returns how many were present.</summary>
    public long RemoveRange(long from, long to)
    {
        long removed = 0;
        if (from < low.Length)
        {
            long end = Math.Min(to, low.Length);
            for (long i = from; i < end; i++)
                if (low[i] is not null) { low[i] = null; removed++; }
        }
        if (high is not null && to > LowPages && high.Count > 0)
        {
            long span = to - Math.Max(from, LowPages);
            if (span <= high.Count * 4L)
            {
                for (long i = Math.Max(from, LowPages); i < to; i++)
                    if (high.Remove(i)) removed++;
            }
            else
            {
                var keys = new List<long>();
                foreach (var k in high.Keys) if (k >= from && k < to) keys.Add(k);
                foreach (var k in keys) high.Remove(k);
                removed += keys.Count;
            }
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
            for (long i = from; i < end; i++) if (low[i] is not null) n++;
        }
        if (high is not null && to > LowPages)
            foreach (var k in high.Keys) if (k >= from && k < to) n++;
        return n;
    }

    /// <summary>The first present page index ≥ <paramref name="from"/>, or -1.</summary>
    public long NextPresent(long from)
    {
        for (long i = from; i < low.Length; i++) if (low[i] is not null) return i;
        if (high is null || high.Count == 0) return -1;
        long best = -1;
        foreach (var k in high.Keys) if (k >= from && (best < 0 || k < best)) best = k;
        return best;
    }

    /// <summary>The first missing page index ≥ <paramref name="from"/>.</summary>
    public long NextAbsent(long from)
    {
        long i = from;
        for (; i < low.Length; i++) if (low[i] is null) return i;
        if (i < LowPages) return i;
        if (high is null) return i;
        while (high.ContainsKey(i)) i++;
        return i;
    }
}
