using System.Runtime.InteropServices;
using Hurd.Ipc.Abi;
using Microsoft.Win32.SafeHandles;
using IOFileMode = System.IO.FileMode;

namespace Hurd.Ext2;

/// <summary>
/// A random-access store of bytes the ext2 core runs on (an image file, memory). Every access is
/// bounds-checked by the implementation: a read or write that does not lie entirely inside
/// [0, <see cref="Size"/>) answers <see cref="Errno.EIO"/> and touches nothing, so a corrupt image
/// can never make the core read or write outside the device.
/// </summary>
public interface IBlockDevice : IDisposable
{
    /// <summary>The device size in bytes.</summary>
    long Size { get; }

    /// <summary>True if writes are refused (EROFS).</summary>
    bool IsReadOnly { get; }

    /// <summary>Fills <paramref name="buffer"/> from byte <paramref name="offset"/>. EIO if out of bounds or on an I/O error.</summary>
    Errno Read(long offset, Span<byte> buffer);

    /// <summary>Reads file data: as <see cref="Read"/>, and a device may read ahead around it (an image file does when
    /// the data is not in the page cache). Metadata goes through <see cref="Read"/>, which never reads ahead.</summary>
    Errno ReadData(long offset, Span<byte> buffer) => Read(offset, buffer);

    /// <summary>Writes <paramref name="buffer"/> at byte <paramref name="offset"/>. EIO if out of bounds, EROFS if read-only.</summary>
    Errno Write(long offset, ReadOnlySpan<byte> buffer);

    /// <summary>Makes every completed write durable (fsync for a file). When it returns OK the data is in the image.</summary>
    Errno Flush();
}

/// <summary>Block-range helpers on <see cref="IBlockDevice"/>.</summary>
public static class BlockDeviceExtensions
{
    /// <summary>Reads whole blocks <paramref name="block"/>.. into <paramref name="buffer"/> (its length a multiple of <paramref name="blockSize"/>).</summary>
    public static Errno ReadBlocks(this IBlockDevice dev, long block, int blockSize, Span<byte> buffer) =>
        block < 0 || block > long.MaxValue / blockSize ? Errno.EIO : dev.Read(block * blockSize, buffer);

    /// <summary>Reads whole blocks of file data (<see cref="IBlockDevice.ReadData"/>).</summary>
    public static Errno ReadDataBlocks(this IBlockDevice dev, long block, int blockSize, Span<byte> buffer) =>
        block < 0 || block > long.MaxValue / blockSize ? Errno.EIO : dev.ReadData(block * blockSize, buffer);

    /// <summary>Writes whole blocks starting at <paramref name="block"/>.</summary>
    public static Errno WriteBlocks(this IBlockDevice dev, long block, int blockSize, ReadOnlySpan<byte> buffer) =>
        block < 0 || block > long.MaxValue / blockSize ? Errno.EIO : dev.Write(block * blockSize, buffer);

    internal static bool InBounds(long size, long offset, int length) =>
        offset >= 0 && length >= 0 && offset <= size && length <= size - offset;
}

/// <summary>
/// An image file accessed with pread/pwrite (<see cref="RandomAccess"/>); <see cref="Flush"/> is fsync.
/// Every <see cref="WritebackStartBytes"/> written in streaming writes (each at least
/// <see cref="StreamingWriteBytes"/>), writeback of the image's dirty pages is started in the background
/// (sync_file_range SYNC_FILE_RANGE_WRITE, as the kernel's flusher would much later): the disk writes while the
/// filesystem keeps serving, so a later fsync waits only for the tail. Small writes do not count: random
/// rewrites of the same pages are better left to coalesce in the page cache. Durability is unchanged: only
/// <see cref="Flush"/> says data is in the image.
/// </summary>
public sealed partial class FileBlockDevice : IBlockDevice
{
    /// <summary>Bytes of streaming writes between two background writeback starts.</summary>
    public const long WritebackStartBytes = 8 << 20;

    /// <summary>The smallest write that counts as streaming for <see cref="WritebackStartBytes"/>.</summary>
    public const int StreamingWriteBytes = 64 << 10;

    readonly SafeFileHandle _handle;
    readonly long _size;
    long _sinceWriteback;   // bytes of streaming writes since writeback was last started
    int _writebackQueued;   // 1 while a start is queued or running (at most one at a time)

    /// <summary>Opens <paramref name="path"/>; its current length is the device size.</summary>
    public FileBlockDevice(string path, bool readOnly = false)
    {
        _handle = File.OpenHandle(path, IOFileMode.Open, readOnly ? FileAccess.Read : FileAccess.ReadWrite, FileShare.ReadWrite);
        _size = RandomAccess.GetLength(_handle);
        IsReadOnly = readOnly;
        Path = path;
    }

    /// <summary>The image file's path.</summary>
    public string Path { get; }
    /// <inheritdoc/>
    public long Size => _size;
    /// <inheritdoc/>
    public bool IsReadOnly { get; }

    /// <summary>The window read ahead around a small read that missed the image's page cache (bytes, a power of two).</summary>
    public static readonly int MissWindowBytes = WindowFromEnvironment();

    static int WindowFromEnvironment()
    {
        var v = Environment.GetEnvironmentVariable("HURD_EXT2_RA_KB");
        return v is not null && int.TryParse(v, out int kb) && kb >= 0 ? kb << 10 : 256 << 10;
    }

    int _noWait = 1;         // 0 once the image's filesystem refused RWF_NOWAIT reads
    readonly MissPattern _misses = new(MissWindowBytes);
    long _readAheads;        // windows started (tests)

    /// <summary>How many read-ahead windows data misses have started.</summary>
    internal long ReadAheads => Interlocked.Read(ref _readAheads);

    /// <inheritdoc/>
    /// <remarks>File data is first asked of the page cache alone (preadv2 with RWF_NOWAIT: no extra system call when it
    /// is there). A small miss that continues a recent one (<see cref="MissPattern"/>: small sequential reads, or the
    /// files of a directory read one after the other, laid out one after the other) starts reading the next
    /// <see cref="MissWindowBytes"/> ahead (readahead(2), asynchronous) before the blocking read: the host's readahead,
    /// one state for the whole image, loses such streams among the others. A random miss reads only what was asked, as
    /// the kernel's ondemand readahead does. Metadata reads (<see cref="Read"/>) never read ahead.</remarks>
    public Errno ReadData(long offset, Span<byte> buffer)
    {
        if (!BlockDeviceExtensions.InBounds(_size, offset, buffer.Length)) return Errno.EIO;
        if (buffer.Length > 0 && Volatile.Read(ref _noWait) != 0)
        {
            long n = ReadNoWait(buffer, offset, out int errno);
            if (n == buffer.Length) return Errno.OK;
            if (n > 0) { buffer = buffer[(int)n..]; offset += n; }
            else if (n < 0 && errno is Eopnotsupp or Einval) Volatile.Write(ref _noWait, 0);
            if (n >= 0 || errno == Eagain) ReadAhead(offset, buffer.Length);
        }
        return Read(offset, buffer);
    }

    /// <inheritdoc/>
    public Errno Read(long offset, Span<byte> buffer)
    {
        if (!BlockDeviceExtensions.InBounds(_size, offset, buffer.Length)) return Errno.EIO;
        try
        {
            while (buffer.Length > 0)
            {
                int n = RandomAccess.Read(_handle, buffer, offset);
                if (n <= 0) { buffer.Clear(); break; } // the file shrank under us: read zeros
                buffer = buffer[n..];
                offset += n;
            }
            return Errno.OK;
        }
        catch (IOException) { return Errno.EIO; }
    }

    /// <inheritdoc/>
    public Errno Write(long offset, ReadOnlySpan<byte> buffer)
    {
        if (IsReadOnly) return Errno.EROFS;
        if (!BlockDeviceExtensions.InBounds(_size, offset, buffer.Length)) return Errno.EIO;
        try { RandomAccess.Write(_handle, buffer, offset); }
        catch (IOException) { return Errno.EIO; }
        if (buffer.Length >= StreamingWriteBytes && Interlocked.Add(ref _sinceWriteback, buffer.Length) >= WritebackStartBytes)
            StartWriteback();
        return Errno.OK;
    }

    /// <summary>Queues one background writeback start unless one is already queued. Never blocks the caller
    /// (sync_file_range may wait for the disk's request queue; the filesystem's lock is held here).</summary>
    void StartWriteback()
    {
        if (Interlocked.CompareExchange(ref _writebackQueued, 1, 0) != 0) return;
        Interlocked.Exchange(ref _sinceWriteback, 0);
        ThreadPool.UnsafeQueueUserWorkItem(static dev =>
        {
            bool added = false;
            try
            {
                dev._handle.DangerousAddRef(ref added);
                // Errors are ignored: this only starts writeback early; Flush (fsync) reports them.
                _ = SyncFileRange((int)dev._handle.DangerousGetHandle(), 0, 0, SyncFileRangeWrite);
            }
            catch (ObjectDisposedException) { } // the device was closed meanwhile
            finally
            {
                if (added) dev._handle.DangerousRelease();
                Volatile.Write(ref dev._writebackQueued, 0);
            }
        }, this, preferLocal: false);
    }

    const int RwfNoWait = 8, Eagain = 11, Einval = 22, Eopnotsupp = 95;

    unsafe long ReadNoWait(Span<byte> buffer, long offset, out int errno)
    {
        errno = 0;
        fixed (byte* p = buffer)
        {
            var iov = new Iovec { Base = p, Length = (nuint)buffer.Length };
            long n = PReadV2(_handle, &iov, 1, offset, RwfNoWait);
            if (n < 0) errno = Marshal.GetLastPInvokeError();
            return n;
        }
    }

    /// <summary>After a small missed read: when it continues a recent miss, starts reading the next
    /// <see cref="MissWindowBytes"/> from it (errors ignored: the blocking read that follows reports them).</summary>
    void ReadAhead(long offset, int length)
    {
        long w = MissWindowBytes;
        if (length >= w || w == 0) return;
        if (!_misses.Continues(offset, length)) return;
        Interlocked.Increment(ref _readAheads);
        _ = ReadAheadSys(_handle, offset, (nuint)Math.Min(w, _size - offset));
    }

    struct Iovec { public unsafe byte* Base; public nuint Length; }

    [LibraryImport("libc", EntryPoint = "preadv2", SetLastError = true)]
    private static unsafe partial long PReadV2(SafeFileHandle fd, Iovec* iov, int iovcnt, long offset, int flags);

    [LibraryImport("libc", EntryPoint = "readahead", SetLastError = true)]
    private static partial long ReadAheadSys(SafeFileHandle fd, long offset, nuint count);

    const uint SyncFileRangeWrite = 2; // SYNC_FILE_RANGE_WRITE: start writeout of dirty pages not yet under writeout

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(int fd, long offset, long nbytes, uint flags);

    /// <inheritdoc/>
    public Errno Flush()
    {
        if (IsReadOnly) return Errno.OK;
        try { RandomAccess.FlushToDisk(_handle); return Errno.OK; }
        catch (IOException) { return Errno.EIO; }
        catch (ObjectDisposedException) { return Errno.EIO; } // closed meanwhile (an fsync racing the unmount, which synced itself)
    }

    /// <inheritdoc/>
    public void Dispose() => _handle.Dispose();
}

/// <summary>A device held in one managed array (images up to 2 GiB).</summary>
public sealed class MemoryBlockDevice : IBlockDevice
{
    readonly byte[] _data;

    /// <summary>A zero-filled device of <paramref name="size"/> bytes.</summary>
    public MemoryBlockDevice(int size) => _data = new byte[size];

    /// <summary>A device over <paramref name="data"/> (not copied).</summary>
    public MemoryBlockDevice(byte[] data, bool readOnly = false) { _data = data; IsReadOnly = readOnly; }

    /// <summary>The backing array.</summary>
    public byte[] Data => _data;
    /// <inheritdoc/>
    public long Size => _data.Length;
    /// <inheritdoc/>
    public bool IsReadOnly { get; }

    /// <inheritdoc/>
    public Errno Read(long offset, Span<byte> buffer)
    {
        if (!BlockDeviceExtensions.InBounds(_data.Length, offset, buffer.Length)) return Errno.EIO;
        _data.AsSpan((int)offset, buffer.Length).CopyTo(buffer);
        return Errno.OK;
    }

    /// <inheritdoc/>
    public Errno Write(long offset, ReadOnlySpan<byte> buffer)
    {
        if (IsReadOnly) return Errno.EROFS;
        if (!BlockDeviceExtensions.InBounds(_data.Length, offset, buffer.Length)) return Errno.EIO;
        buffer.CopyTo(_data.AsSpan((int)offset));
        return Errno.OK;
    }

    /// <inheritdoc/>
    public Errno Flush() => Errno.OK;
    /// <inheritdoc/>
    public void Dispose() { }
}

/// <summary>
/// A large device in memory that stores only the 64 KiB chunks ever written (others read as zeros):
/// a multi-gigabyte image costs only what is used. Thread-safe.
/// </summary>
public sealed class SparseMemoryBlockDevice : IBlockDevice
{
    const int ChunkShift = 16, ChunkSize = 1 << ChunkShift;
    readonly Dictionary<long, byte[]> _chunks = new();
    readonly Lock _lock = new();

    /// <summary>A zero-filled device of <paramref name="size"/> bytes.</summary>
    public SparseMemoryBlockDevice(long size) => Size = size;

    /// <inheritdoc/>
    public long Size { get; }
    /// <inheritdoc/>
    public bool IsReadOnly => false;
    /// <summary>Bytes of memory held by written chunks.</summary>
    public long AllocatedBytes { get { lock (_lock) return (long)_chunks.Count * ChunkSize; } }

    /// <inheritdoc/>
    public Errno Read(long offset, Span<byte> buffer)
    {
        if (!BlockDeviceExtensions.InBounds(Size, offset, buffer.Length)) return Errno.EIO;
        lock (_lock)
        {
            while (buffer.Length > 0)
            {
                long c = offset >> ChunkShift; int within = (int)(offset & (ChunkSize - 1));
                int n = Math.Min(buffer.Length, ChunkSize - within);
                if (_chunks.TryGetValue(c, out var chunk)) chunk.AsSpan(within, n).CopyTo(buffer);
                else buffer[..n].Clear();
                buffer = buffer[n..]; offset += n;
            }
        }
        return Errno.OK;
    }

    /// <inheritdoc/>
    public Errno Write(long offset, ReadOnlySpan<byte> buffer)
    {
        if (!BlockDeviceExtensions.InBounds(Size, offset, buffer.Length)) return Errno.EIO;
        lock (_lock)
        {
            while (buffer.Length > 0)
            {
                long c = offset >> ChunkShift; int within = (int)(offset & (ChunkSize - 1));
                int n = Math.Min(buffer.Length, ChunkSize - within);
                if (!_chunks.TryGetValue(c, out var chunk))
                {
                    if (!buffer[..n].ContainsAnyExcept((byte)0)) { buffer = buffer[n..]; offset += n; continue; }
                    _chunks[c] = chunk = new byte[ChunkSize];
                }
                buffer[..n].CopyTo(chunk.AsSpan(within));
                buffer = buffer[n..]; offset += n;
            }
        }
        return Errno.OK;
    }

    /// <inheritdoc/>
    public Errno Flush() => Errno.OK;
    /// <inheritdoc/>
    public void Dispose() { }
}

/// <summary>
/// Which data misses continue a recent one, as the kernel's ondemand readahead tells a stream from random access: a
/// miss starting at most <see cref="Gap"/> after where one of the last <see cref="Streams"/> streams ended continues it
/// (its end moves a window further: the window is read ahead); one inside a window already asked for is neither; any
/// other miss starts a new stream in the oldest slot. Uniform random misses over a file of F bytes continue one with
/// probability about Streams * Gap / F (0.05 % for 256 MiB). Lock-free: a race loses or adds one hint, never data.
/// </summary>
internal sealed class MissPattern(long window)
{
    /// <summary>Streams remembered.</summary>
    public const int Streams = 2;

    /// <summary>The largest hole between two misses of one stream (blocks of other files, a directory block...).</summary>
    public const long Gap = 32 << 10;

    readonly long[] _ends = new long[Streams];   // offset after each stream's last miss or window; 0 = none
    int _next;

    /// <summary>Notes a miss of <paramref name="length"/> bytes at <paramref name="offset"/>; true when it continues a
    /// stream (read the window ahead from <paramref name="offset"/>).</summary>
    public bool Continues(long offset, int length)
    {
        for (int i = 0; i < Streams; i++)
        {
            long e = Volatile.Read(ref _ends[i]);
            if (e == 0) continue;
            if (offset >= e - window && offset < e) return false; // inside what was asked for already (still in flight)
            if (offset >= e && offset - e <= Gap)
            {
                Volatile.Write(ref _ends[i], offset + window);
                return true;
            }
        }
        int slot = (int)((uint)Interlocked.Increment(ref _next) % Streams);
        Volatile.Write(ref _ends[slot], offset + length);
        return false;
    }
}
