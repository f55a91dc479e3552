using Hurd.Ipc.Abi;
using Hurd.Translators;

namespace Hurd.Tmpfs;

/// <summary>
/// A regular file: sparse, in 4 KiB pages allocated on first write; holes read as zeros. Size up to
/// <see cref="TmpfsFileSystem.MaxFileSize"/>; a huge truncate just records the size.
/// </summary>
public sealed class TmpfsFile : TmpfsNode, IReadable, IWritable, ITruncatable, IAllocatable, ISeekableData, ICopyRange
{
    const int P = TmpfsFileSystem.PageSize;
    readonly PageMap pages = new();
    long size;

    PagePool Pool => Fs.Pages;

    /// <summary>The bytes of page number <paramref name="id"/> (≠ 0; negative = allocated, not yet written).</summary>
    Span<byte> Bytes(int id) => Pool.Page(Math.Abs(id));

    internal TmpfsFile(TmpfsFileSystem fs, ulong ino, in NewNode attrs) : base(fs, ino, attrs) { nlink = 1; }

    /// <summary>The file size.</summary>
    public long Size { get { lock (Lock) return size; } }

    /// <summary>Pages allocated.</summary>
    public long AllocatedPages { get { lock (Lock) return pages.Count; } }

    private protected override void StatData(ref Stat st)
    {
        st.Size = size;
        st.Blocks = pages.Count * (P / 512);
    }

    private protected override void FreeData()
    {
        lock (Lock)
        {
            long n = pages.RemoveRange(0, long.MaxValue, Pool);
            Fs.Release(n * P);
        }
    }

    /// <inheritdoc/>
    public Errno Read(OpenFile file, long offset, Span<byte> buffer, out int read)
    {
        read = 0;
        lock (Lock)
        {
            if (offset >= size || buffer.IsEmpty) return Errno.OK;
            int n = (int)Math.Min(buffer.Length, size - offset);
            int done = 0;
            while (done < n)
            {
                long pos = offset + done;
                int inPage = (int)(pos & (P - 1));
                int chunk = Math.Min(P - inPage, n - done);
                int page = pages.Get(pos / P);
                if (page == 0) buffer.Slice(done, chunk).Clear();
                else Bytes(page).Slice(inPage, chunk).CopyTo(buffer.Slice(done, chunk));
                done += chunk;
            }
            read = n;
            if ((file.Flags & OpenFlags.NoAtime) == 0 && (Compare(atime, mtime) <= 0 || Compare(atime, ctime) <= 0))
                atime = TimeSpec.Now(); // relatime
        }
        return Errno.OK;
    }

    static int Compare(in TimeSpec a, in TimeSpec b) => a.Sec != b.Sec ? a.Sec.CompareTo(b.Sec) : a.Nsec.CompareTo(b.Nsec);

    /// <inheritdoc/>
    public Errno Write(OpenFile file, long offset, ReadOnlySpan<byte> data, out int written, out long end)
    {
        written = 0;
        end = offset;
        if (Fs.ReadOnly) return Errno.EROFS;
        lock (Lock)
        {
            long off = offset == IWritable.AppendOffset ? size : offset;
            end = off;
            if (data.IsEmpty) return Errno.OK;
            if (off >= TmpfsFileSystem.MaxFileSize) return Errno.EFBIG;
            int n = (int)Math.Min(data.Length, TmpfsFileSystem.MaxFileSize - off);
            int done = 0;
            while (done < n)
            {
                long pos = off + done;
                int inPage = (int)(pos & (P - 1));
                int chunk = Math.Min(P - inPage, n - done);
                long idx = pos / P;
                int page = pages.Get(idx);
                if (page == 0)
                {
                    if (!Fs.TryReserve(P)) break;
                    page = Pool.Allocate(zero: chunk != P); // a whole-page write needs no zeroing first
                    pages.Set(idx, page);
                }
                else if (page < 0) pages.Set(idx, page = -page); // fallocated page: now it holds data
                data.Slice(done, chunk).CopyTo(Bytes(page)[inPage..]);
                done += chunk;
            }
            if (done == 0) return Errno.ENOSPC;
            written = done;
            end = off + done;
            if (end > size) size = end;
            mtime = ctime = TimeSpec.Now();
            return Errno.OK;
        }
    }

    /// <summary>The number of pages that hold bytes [0, <paramref name="x"/>): x / P rounded up, without overflowing
    /// near <see cref="long.MaxValue"/> (offsets up to the maximum file size are legal).</summary>
    static long PagesUpTo(long x) => x / P + (x % P != 0 ? 1 : 0);

    /// <summary>Zeroes [from, to) inside existing pages and removes the pages wholly inside it. Caller holds the lock.</summary>
    void ZeroRange(long from, long to, bool deallocate)
    {
        if (from >= to) return;
        long firstFull = PagesUpTo(from), lastFull = to / P; // full pages: [firstFull, lastFull)
        if (firstFull > lastFull) // inside one page
        {
            int page = pages.Get(from / P);
            if (page != 0) Bytes(page).Slice((int)(from % P), (int)(to - from)).Clear();
            return;
        }
        int head = from % P != 0 ? pages.Get(from / P) : 0, tail = to % P != 0 ? pages.Get(to / P) : 0;
        if (head != 0) Bytes(head)[(int)(from % P)..].Clear();
        if (tail != 0) Bytes(tail)[..(int)(to % P)].Clear();
        if (deallocate)
        {
            long n = pages.RemoveRange(firstFull, lastFull, Pool);
            Fs.Release(n * P);
        }
        else
        {
            for (long i = pages.NextPresent(firstFull); i >= 0 && i < lastFull; i = pages.NextPresent(i + 1))
                Bytes(pages.Get(i)).Clear();
        }
    }

    /// <inheritdoc/>
    public Errno Truncate(long newSize)
    {
        if (Fs.ReadOnly) return Errno.EROFS;
        if (newSize > TmpfsFileSystem.MaxFileSize) return Errno.EFBIG;
        lock (Lock)
        {
            // As Linux's shmem_setattr: the same size changes nothing, times included, unless the file holds pages (then
            // shmem_truncate_range drops those past the end and stamps mtime and ctime). O_TRUNC always stamps (the SDK).
            if (newSize == size && pages.Count == 0) return Errno.OK;
            if (newSize <= size) // (also drops pages fallocated past the end with KEEP_SIZE, as Linux)
            {
                long keep = PagesUpTo(newSize);
                Fs.Release(pages.RemoveRange(keep, long.MaxValue, Pool) * P);
                int last = newSize % P != 0 ? pages.Get(newSize / P) : 0;
                if (last != 0) Bytes(last)[(int)(newSize % P)..].Clear();
            }
            size = newSize;
            mtime = ctime = TimeSpec.Now();
        }
        return Errno.OK;
    }

    /// <inheritdoc/>
    public Errno Fallocate(FallocateMode mode, long offset, long length)
    {
        if (Fs.ReadOnly) return Errno.EROFS;
        long end = offset + length;
        if ((mode & ~(FallocateMode.KeepSize | FallocateMode.PunchHole | FallocateMode.ZeroRange)) != 0) return Errno.EOPNOTSUPP;
        lock (Lock)
        {
            if ((mode & FallocateMode.PunchHole) != 0)
            {
                ZeroRange(offset, end, deallocate: true);
                mtime = ctime = TimeSpec.Now();
                return Errno.OK;
            }
            if (end > TmpfsFileSystem.MaxFileSize) return Errno.EFBIG;
            long first = offset / P, last = PagesUpTo(end); // pages touched: [first, last)
            long missing = (last - first) - pages.CountRange(first, last);
            if (missing > 0 && (missing > long.MaxValue / P || !Fs.TryReserve(missing * P))) return Errno.ENOSPC;
            if ((mode & FallocateMode.ZeroRange) != 0) ZeroRange(offset, end, deallocate: false);
            // As Linux's shmem: a new page stays "unwritten" (reads as zeros, SEEK_HOLE sees a hole); a page that an
            // earlier fallocate left unwritten is initialised now and becomes data; written pages are left alone.
            for (long i = first; i < last; i++)
            {
                int id = pages.Get(i);
                if (id == 0) pages.Set(i, -Pool.Allocate());
                else if (id < 0) pages.Set(i, -id);
            }
            if ((mode & FallocateMode.KeepSize) == 0 && end > size) size = end;
            mtime = ctime = TimeSpec.Now(); // as Linux's shmem_fallocate (file_modified), whatever the mode
            return Errno.OK;
        }
    }

    /// <inheritdoc/>
    public Errno SeekData(long offset, bool hole, out long result)
    {
        result = 0;
        lock (Lock)
        {
            if (offset >= size) return Errno.ENXIO;
            long idx = offset / P;
            if (!hole)
            {
                long p = pages.NextData(idx);
                if (p < 0 || p > (size - 1) / P) return Errno.ENXIO;
                result = Math.Max(offset, p * P);
                return Errno.OK;
            }
            long a = pages.NextNonData(idx);
            result = a > (size - 1) / P ? size : Math.Max(offset, a * P);
            return Errno.OK;
        }
    }

    /// <inheritdoc/>
    public Errno CopyFileRange(Node source, long sourceOffset, long offset, long length, out long copied)
    {
        copied = 0;
        if (source is not TmpfsFile src || src.Fs != Fs) return Errno.EXDEV;
        if (Fs.ReadOnly) return Errno.EROFS;
        var (a, b) = src.Ino < Ino ? (src, this) : (this, src);
        lock (a.Lock)
        lock (b.Lock)
        {
            if (sourceOffset >= src.size) return Errno.OK;
            long n = Math.Min(length, src.size - sourceOffset);
            if (offset >= TmpfsFileSystem.MaxFileSize) return Errno.EFBIG;
            n = Math.Min(n, TmpfsFileSystem.MaxFileSize - offset);
            long done = 0;
            while (done < n)
            {
                long sp = sourceOffset + done, dp = offset + done;
                int chunk = (int)Math.Min(Math.Min(P - (sp % P), P - (dp % P)), n - done);
                int spage = src.pages.Get(sp / P);
                int dpage = pages.Get(dp / P);
                // As Linux's tmpfs (which copies through splice): a hole in the source is written as zeros.
                if (dpage == 0)
                {
                    if (!Fs.TryReserve(P)) break;
                    dpage = Pool.Allocate();
                    pages.Set(dp / P, dpage);
                }
                else if (dpage < 0) pages.Set(dp / P, dpage = -dpage);
                if (spage == 0) Bytes(dpage).Slice((int)(dp % P), chunk).Clear();
                else Bytes(spage).Slice((int)(sp % P), chunk).CopyTo(Bytes(dpage)[(int)(dp % P)..]);
                done += chunk;
            }
            if (done == 0 && n > 0) return Errno.ENOSPC;
            copied = done;
            if (offset + done > size) size = offset + done;
            if (done > 0) mtime = ctime = TimeSpec.Now();
            return Errno.OK;
        }
    }
}
