using System.Runtime.InteropServices;
using Hurd.Ipc.Abi;
using Microsoft.Win32.SafeHandles;

namespace Hurd.Ext2.Tests;

/// <summary><see cref="FileBlockDevice"/> reads: data from the page cache alone (RWF_NOWAIT) and, on a miss, after reading
/// the window around it ahead; metadata with a plain pread; either way the bytes are the file's, at every size and
/// alignment.</summary>
public partial class DeviceReadTests
{
    [Fact(Timeout = 60_000)]
    public async Task Reads_ColdAndWarm_AreTheFilesBytes()
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            int size = 3 * FileBlockDevice.MissWindowBytes + 12_288 + 512;
            var data = E2Tools.Pattern(size, 7);
            File.WriteAllBytes(img, data);
            IBlockDevice dev = new FileBlockDevice(img, readOnly: true);
            using var _ = dev;
            var rnd = new Random(5);
            for (int round = 0; round < 3; round++)
            {
                DropPageCache(img);
                var cases = new List<(long Off, int Len)>
                {
                    (0, 4096), (size - 4096, 4096), (size - 1, 1), (FileBlockDevice.MissWindowBytes - 100, 200),
                    (4096 * 3, 4096 * 40), (0, size), (size, 0),
                };
                for (int i = 0; i < 200; i++)
                {
                    long off = rnd.NextInt64(size);
                    int len = (int)Math.Min(size - off, rnd.Next(2) == 0 ? 4096 : rnd.Next(1, 300_000));
                    if (rnd.Next(2) == 0) off &= ~4095L;
                    cases.Add((off, (int)Math.Min(len, size - off)));
                }
                foreach (var (off, len) in cases)
                {
                    var buf = new byte[len];
                    Assert.Equal(Errno.OK, dev.ReadData(off, buf));
                    Assert.True(data.AsSpan((int)off, len).SequenceEqual(buf), $"data read of {len} at {off}");
                    Array.Clear(buf);
                    Assert.Equal(Errno.OK, dev.Read(off, buf));
                    Assert.True(data.AsSpan((int)off, len).SequenceEqual(buf), $"read of {len} at {off}");
                }
            }
            Assert.Equal(Errno.EIO, dev.ReadData(size - 10, new byte[11]));
            Assert.Equal(Errno.EIO, dev.Read(size - 10, new byte[11]));
            Assert.Equal(Errno.EIO, dev.Read(-1, new byte[1]));
        }
        finally { File.Delete(img); }
    }

    [Fact(Timeout = 10_000)]
    public async Task MissPattern_RandomMissesStartNoWindow_StreamsDo()
    {
        await Task.Yield();
        const long W = 256 << 10, F = 256L << 20;
        // Uniform random 4 KiB misses over 256 MiB: about Streams * Gap / F of them (0.05 %) look like a stream.
        var p = new MissPattern(W);
        var rnd = new Random(3);
        int windows = 0;
        for (int i = 0; i < 20_000; i++) if (p.Continues(rnd.NextInt64(F / 4096) * 4096, 4096)) windows++;
        Assert.True(windows <= 60, $"{windows} windows for 20,000 random misses");

        // One file read 4 KiB at a time: the second miss continues the first, and each later miss (at the end of the
        // window asked for) continues the stream; a miss inside a window in flight asks nothing.
        p = new MissPattern(W);
        Assert.False(p.Continues(1 << 20, 4096));
        Assert.True(p.Continues((1 << 20) + 4096, 4096));
        Assert.False(p.Continues((1 << 20) + 8192, 4096));
        Assert.True(p.Continues((1 << 20) + 4096 + W, 4096));

        // Small files read one after the other, laid out one after the other with small holes: a stream; two such
        // streams interleaved stay two streams.
        p = new MissPattern(W);
        long a = 10 << 20, b = 100 << 20;
        Assert.False(p.Continues(a, 4096));
        Assert.False(p.Continues(b, 4096));
        Assert.True(p.Continues(a + 4096 + 8192, 4096));
        Assert.True(p.Continues(b + 4096 + 12288, 4096));
        Assert.True(p.Continues(a + 4096 + 8192 + W + 4096, 4096));
        // Past the gap: a new stream, no window.
        Assert.False(p.Continues(b + 4096 + 12288 + W + MissPattern.Gap + 4096, 4096));
    }

    [Fact(Timeout = 60_000)]
    public async Task RandomColdReads_ReadNoWindowAhead()
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            int size = 64 << 20;
            var data = E2Tools.Pattern(size, 9);
            File.WriteAllBytes(img, data);
            DropPageCache(img);
            using var dev = new FileBlockDevice(img, readOnly: true);
            var rnd = new Random(4);
            var buf = new byte[4096];
            for (int i = 0; i < 500; i++)
            {
                long off = rnd.NextInt64(size / 4096) * 4096;
                Assert.Equal(Errno.OK, dev.ReadData(off, buf));
                Assert.True(data.AsSpan((int)off, 4096).SequenceEqual(buf));
            }
            // 500 misses over 64 MiB: about 500 * 2 * 32 KiB / 64 MiB = 0.5 look like a stream.
            Assert.True(dev.ReadAheads <= 10, $"{dev.ReadAheads} windows");
        }
        finally { File.Delete(img); }
    }

    /// <summary>Drops the file's clean pages from the page cache, so the next reads miss.</summary>
    static void DropPageCache(string path)
    {
        using var h = File.OpenHandle(path, System.IO.FileMode.Open, FileAccess.ReadWrite);
        RandomAccess.FlushToDisk(h);
        _ = PosixFadvise(h, 0, 0, 4); // POSIX_FADV_DONTNEED
    }

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int PosixFadvise(SafeFileHandle fd, long offset, long len, int advice);
}
