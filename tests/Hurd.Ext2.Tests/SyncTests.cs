using Hurd.Ipc.Abi;

namespace Hurd.Ext2.Tests;

/// <summary>Sync means the data is in the image file; a crash after it loses nothing synced.</summary>
public class SyncTests
{
    [Theory(Timeout = 300_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SyncedData_InImageFile_SurvivesCrash(bool synchronousMount)
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(img, 16L << 20, 1024);
            var data = E2Tools.Pattern(150_000, 11);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev, new Ext2MountOptions { Synchronous = synchronousMount });
                Assert.Equal(Errno.OK, fs.Mkdir(InodeNumber.Root, "d", E2Tools.Oct(755), 0, 0, out var d));
                Assert.Equal(Errno.OK, fs.Create(d, "f", E2Tools.Oct(644), 0, 0, out var f));
                E2Tools.WriteAll(fs, f, 0, data);
                E2Tools.WriteAll(fs, f, 1000, "partial"u8);
                Array.Copy("partial"u8.ToArray(), 0, data, 1000, 7);
                Assert.Equal(Errno.OK, fs.Setxattr(f, "user.k", "v"u8));
                if (!synchronousMount) Assert.Equal(Errno.OK, fs.Fsync(f));
                // While still mounted, another reader of the image file sees it all.
                Assert.Equal(data, MkfsTests.DebugfsCat(img, "/d/f"));
                Assert.Contains("user.k", E2Tools.DebugfsR(img, "ea_list /d/f"));
                // Unsynced work after that may be lost by the crash.
                Assert.Equal(Errno.OK, fs.Create(d, "late", E2Tools.Oct(644), 0, 0, out _));
                fs.Abandon();
            }
            // The image is consistent except for the dirty state (and, unsynced, possibly "late").
            E2Tools.RepairAfterCrash(img);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                Assert.Equal(data, E2Tools.ReadAll(fs, E2Tools.Resolve(fs, "/d/f")));
                if (synchronousMount) Assert.Equal(Errno.OK, fs.Lookup(E2Tools.Resolve(fs, "/d"), "late", out _));
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
        }
        finally { E2Tools.Delete(img); }
    }

    /// <summary>The periodic sync writes in slices (<see cref="Ext2Fs.SyncInSlices"/>): with far more dirty blocks than
    /// one slice and a writer going on meanwhile, it ends, leaves nothing of before it dirty, and a crash right after
    /// it loses none of that: e2fsck finds only the dirty state, and every file is there.</summary>
    [Fact(Timeout = 300_000)]
    public async Task PeriodicSync_InSlices_EndsUnderAWriter_AndLosesNothing()
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(img, 64L << 20, 1024);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                Assert.Equal(Errno.OK, fs.Mkdir(InodeNumber.Root, "d", E2Tools.Oct(755), 0, 0, out var d));
                // 2,000 small files: a tail block each, their inodes and directory blocks, ~2,300 dirty 1 KiB blocks.
                for (int i = 0; i < 2000; i++)
                {
                    Assert.Equal(Errno.OK, fs.Create(d, "f" + i, E2Tools.Oct(644), 0, 0, out var f));
                    E2Tools.WriteAll(fs, f, 0, E2Tools.Pattern(300, i));
                }
                Assert.True(fs.Cache.DirtyCount > 4 * Ext2Fs.SyncSliceBlocks, $"{fs.Cache.DirtyCount} dirty blocks");
                using var stop = new CancellationTokenSource();
                var writer = Task.Run(() =>
                {
                    Assert.Equal(Errno.OK, fs.Create(InodeNumber.Root, "busy", E2Tools.Oct(644), 0, 0, out var b));
                    for (long n = 0; !stop.IsCancellationRequested; n++) E2Tools.WriteAll(fs, b, n % 4096 * 100, E2Tools.Pattern(100, (int)n));
                });
                Assert.Equal(Errno.OK, fs.SyncInSlices());
                stop.Cancel();
                await writer;
                fs.Abandon();
            }
            E2Tools.RepairAfterCrash(img);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                for (int i = 0; i < 2000; i += 97)
                    Assert.Equal(E2Tools.Pattern(300, i), E2Tools.ReadAll(fs, E2Tools.Resolve(fs, "/d/f" + i)));
                Assert.Equal(Errno.OK, fs.Unmount());
            }
        }
        finally { E2Tools.Delete(img); }
    }

    [Fact(Timeout = 120_000)]
    public async Task LargeWrites_StartBackgroundWriteback_DataIntactAfterImmediateDispose()
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            // Several writeback starts (every FileBlockDevice.WritebackStartBytes), the last one possibly still queued
            // when the device is closed: it must neither fail nor touch a reused descriptor.
            var data = E2Tools.Pattern((int)(3 * FileBlockDevice.WritebackStartBytes + 12345), 5);
            File.WriteAllBytes(img, new byte[data.Length + 4096]);
            for (int round = 0; round < 3; round++)
            {
                using var dev = new FileBlockDevice(img);
                for (int off = 0; off < data.Length; off += 1 << 20)
                    Assert.Equal(Errno.OK, dev.Write(off, data.AsSpan(off, Math.Min(1 << 20, data.Length - off))));
            }
            Assert.Equal(data, File.ReadAllBytes(img).AsSpan(0, data.Length).ToArray());
        }
        finally { E2Tools.Delete(img); }
    }

    [Fact(Timeout = 120_000)]
    public async Task Sync_RacingWritersAndUnmount_NeverThrows_FsckClean()
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(img, 32L << 20, 4096);
            Assert.Equal(Errno.OK, Ext2Fs.MountImage(img, null, out var mounted, out _));
            var fs = mounted!;
            Assert.Equal(Errno.OK, fs.Mkdir(InodeNumber.Root, "d", E2Tools.Oct(755), 0, 0, out var d));
            var data = E2Tools.Pattern(100_000, 3);
            // Sync fsyncs outside the filesystem's lock: writers go on meanwhile, and an unmount (which closes the
            // image) may come between its write-back and its fsync. It answers OK or EIO, never throws.
            var syncer = Task.Run(() =>
            {
                int n = 0;
                while (fs.Sync() == Errno.OK) n++;
                return n;
            });
            for (int i = 0; i < 60; i++)
            {
                Assert.Equal(Errno.OK, fs.Create(d, $"f{i}", E2Tools.Oct(644), 0, 0, out var f));
                E2Tools.WriteAll(fs, f, 0, data.AsSpan(0, 1000 + i * 1500));
            }
            fs.Dispose(); // unmount (written back, VALID set, fsynced) and close the image
            await syncer;
            E2Tools.StrictFsck(img);
            Assert.Equal(Errno.OK, Ext2Fs.MountImage(img, null, out var again, out _));
            using (again)
            {
                var f59 = E2Tools.Resolve(again!, "/d/f59");
                Assert.Equal(data.AsSpan(0, 1000 + 59 * 1500).ToArray(), E2Tools.ReadAll(again!, f59));
            }
            E2Tools.StrictFsck(img);
        }
        finally { E2Tools.Delete(img); }
    }
}
