using Hurd.Ipc.Abi;

namespace Hurd.Ext2.Tests;

public class DirectoryAndConcurrencyTests
{
    [Fact(Timeout = 300_000)]
    public async Task LargeDirectory_ChurnThroughIndex_MatchesFreshScan_FsckClean()
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(img, 32L << 20, 1024);
            var rng = new Random(99);
            var model = new HashSet<string>();
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                Assert.Equal(Errno.OK, fs.Mkdir(InodeNumber.Root, "big", E2Tools.Oct(755), 0, 0, out var big));
                Assert.Equal(Errno.OK, fs.Mkdir(InodeNumber.Root, "other", E2Tools.Oct(755), 0, 0, out var other));
                for (int i = 0; i < 6000; i++)
                {
                    int op = rng.Next(10);
                    string name = $"n{rng.Next(3000)}" + new string('x', rng.Next(40));
                    if (op < 5)
                    {
                        var err = fs.Create(big, name, E2Tools.Oct(644), 0, 0, out _);
                        Assert.Equal(model.Add(name) ? Errno.OK : Errno.EEXIST, err);
                    }
                    else if (op < 8 && model.Count > 0)
                    {
                        var victim = model.ElementAt(rng.Next(model.Count));
                        Assert.Equal(Errno.OK, fs.Unlink(big, victim));
                        model.Remove(victim);
                    }
                    else if (model.Count > 0)
                    {
                        var from = model.ElementAt(rng.Next(model.Count));
                        string to = "r" + rng.Next(100000);
                        if (model.Contains(to)) continue;
                        Assert.Equal(Errno.OK, fs.Rename(big, from, big, to));
                        model.Remove(from); model.Add(to);
                        if (rng.Next(4) == 0)
                        {
                            Assert.Equal(Errno.OK, fs.Rename(big, to, other, to));
                            Assert.Equal(Errno.OK, fs.Rename(other, to, big, to));
                        }
                    }
                    if (i % 500 == 0)
                        foreach (var n in model.Take(50)) Assert.Equal(Errno.OK, fs.Lookup(big, n, out _));
                }
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
            using (var dev = new FileBlockDevice(img, readOnly: true))
            {
                var fs = E2Tools.MountOk(dev);
                Assert.Equal(Errno.OK, fs.List(E2Tools.Resolve(fs, "/big"), out var entries));
                var names = entries.Select(e => e.Name).Where(n => n is not "." and not "..").OrderBy(n => n, StringComparer.Ordinal);
                Assert.Equal(model.OrderBy(n => n, StringComparer.Ordinal), names);
                foreach (var n in model) Assert.Equal(Errno.OK, fs.Lookup(E2Tools.Resolve(fs, "/big"), n, out _));
                Assert.Equal(Errno.ENOENT, fs.Lookup(E2Tools.Resolve(fs, "/big"), "missing", out _));
            }
        }
        finally { E2Tools.Delete(img); }
    }

    [Fact(Timeout = 300_000)]
    public async Task ManyThreads_ReadAndWrite_Consistent_FsckClean()
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(img, 64L << 20, 4096);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev, new Ext2MountOptions { CacheBlocks = 512 });
                var tasks = new List<Task>();
                for (int t = 0; t < 4; t++)
                {
                    int id = t;
                    tasks.Add(Task.Run(() =>
                    {
                        Assert.Equal(Errno.OK, fs.Mkdir(InodeNumber.Root, $"t{id}", E2Tools.Oct(755), 0, 0, out var dir));
                        for (int i = 0; i < 300; i++)
                        {
                            Assert.Equal(Errno.OK, fs.Create(dir, $"f{i}", E2Tools.Oct(644), 0, 0, out var f));
                            var data = E2Tools.Pattern(1000 + i * 37, id * 1000 + i);
                            E2Tools.WriteAll(fs, f, 0, data);
                            Assert.Equal(Errno.OK, fs.Lookup(dir, $"f{i}", out var again));
                            Assert.Equal(data, E2Tools.ReadAll(fs, again));
                            if (i % 3 == 0) Assert.Equal(Errno.OK, fs.Unlink(dir, $"f{i}"));
                            if (i % 50 == 0) Assert.Equal(Errno.OK, fs.Sync());
                        }
                    }));
                }
                // A reader walking the tree all along.
                using var stop = new CancellationTokenSource();
                var reader = Task.Run(() =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        fs.List(InodeNumber.Root, out var top);
                        foreach (var e in top) { fs.GetAttr(e.Ino, out _); if (e.Type == DirEntryType.Directory) fs.List(e.Ino, out _); }
                    }
                });
                await Task.WhenAll(tasks);
                stop.Cancel();
                await reader;
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
        }
        finally { E2Tools.Delete(img); }
    }

    [Fact(Timeout = 300_000)]
    public async Task FillingUp_ENOSPC_RootReserve_FsckClean()
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(img, 4L << 20, 1024);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                Assert.Equal(Errno.OK, fs.Create(InodeNumber.Root, "user", E2Tools.Oct(644), 1000, 1000, out var u));
                var chunk = new byte[64 * 1024];
                long off = 0;
                Errno err;
                while ((err = fs.Write(u, off, chunk, out int n)) == Errno.OK && n == chunk.Length) off += n;
                Assert.True(err == Errno.ENOSPC || err == Errno.OK);
                Assert.Equal(Errno.OK, fs.StatFs(out var st));
                Assert.True(st.Bavail == 0, $"bavail {st.Bavail}");
                Assert.True(st.Bfree > 0);
                // Root may still write into the reserve.
                Assert.Equal(Errno.OK, fs.Create(InodeNumber.Root, "root", E2Tools.Oct(644), 0, 0, out var r));
                E2Tools.WriteAll(fs, r, 0, new byte[8192]);
                // Fill completely, then free and check the counts stay exact.
                while (fs.Write(r, 8192 + off, chunk, out int n2) == Errno.OK && n2 > 0) off += n2;
                int files = 0;
                while (fs.Create(InodeNumber.Root, $"e{files}", E2Tools.Oct(644), 0, 0, out _) == Errno.OK) files++;
                Assert.Equal(Errno.ENOSPC, fs.Mkdir(InodeNumber.Root, "nope", E2Tools.Oct(755), 0, 0, out _));
                Assert.Equal(Errno.OK, fs.Unlink(InodeNumber.Root, "user"));
                Assert.Equal(Errno.OK, fs.Truncate(r, 100));
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
        }
        finally { E2Tools.Delete(img); }
    }
}
