using System.Text;
using Hurd.Ipc.Abi;
using Hurd.Tmpfs;
using Hurd.Translators;

namespace Hurd.Translators.Tests;

/// <summary>What only tmpfs does: its options (parse, get, set at run time), its size and inode accounting.</summary>
public sealed class TmpfsTests
{
    const int T = 30_000;

    static byte[] Argz(params string[] args) => Encoding.UTF8.GetBytes(string.Concat(args.Select(a => a + "\0")));

    static (TmpfsFileSystem Fs, PosixClient Root) Make(params string[] args)
    {
        Assert.Equal(Errno.OK, TmpfsOptions.Parse(Argz(args), null, out var o));
        var fs = new TmpfsFileSystem(o);
        return (fs, new PosixClient(fs.Root, Identity.Root));
    }

    [Theory(Timeout = T)]
    [InlineData("65536", 65536L)]
    [InlineData("64k", 65536L)]
    [InlineData("64K", 65536L)]
    [InlineData("3M", 3L << 20)]
    [InlineData("2G", 2L << 30)]
    [InlineData("1T", 1L << 40)]
    [InlineData("--size=5M", 5L << 20)]
    public async Task Size_AcceptsSuffixes(string arg, long bytes)
    {
        await Task.Yield();
        Assert.Equal(Errno.OK, TmpfsOptions.Parse(Argz(arg), null, out var o));
        Assert.Equal(bytes, o.Size);
    }

    [Fact(Timeout = T)]
    public async Task Size_AcceptsPercentOfRam()
    {
        await Task.Yield();
        Assert.Equal(Errno.OK, TmpfsOptions.Parse(Argz("10%"), null, out var o));
        Assert.Equal(TmpfsOptions.PhysicalMemory / 100 * 10, o.Size);
        Assert.Equal("10%", o.SizeText);
    }

    [Theory(Timeout = T)]
    [InlineData("abc")]
    [InlineData("12X")]
    [InlineData("0")]
    [InlineData("101%")]
    [InlineData("--mode=999")]
    [InlineData("--mode=")]
    [InlineData("--inodes=0")]
    [InlineData("--frobnicate")]
    [InlineData("99999999999999999999")]
    public async Task BadOptions_AreEINVAL(string arg)
    {
        await Task.Yield();
        Assert.Equal(Errno.EINVAL, TmpfsOptions.Parse(Argz(arg), null, out _));
    }

    [Fact(Timeout = T)]
    public async Task Options_RoundTripThroughGetOptions()
    {
        await Task.Yield();
        var (fs, root) = Make("--mode=750", "--inodes=100", "8M");
        Assert.Equal("--writable\0--mode=750\0--inodes=100\08M\0", Encoding.UTF8.GetString(fs.GetOptions()));
        Assert.Equal(FileMode.Directory | (FileMode)0x1E8, root.StatOk("").Mode);
        Assert.Equal(Errno.OK, TmpfsOptions.Parse(fs.GetOptions(), null, out var again));
        Assert.Equal(fs.Options, again);
        // -m and -i short forms, libdiskfs switches accepted
        Assert.Equal(Errno.OK, TmpfsOptions.Parse(Argz("-m", "700", "-i", "5", "--no-sync", "1M"), null, out var o));
        Assert.Equal((FileMode)0x1C0, o.Mode);
        Assert.Equal(5, o.Inodes);
        // a new filesystem's root defaults to 1777
        Assert.Equal(FileMode.Directory | (FileMode)0x3FF, new PosixClient(new TmpfsFileSystem().Root, Identity.Root).StatOk("").Mode);
    }

    [Fact(Timeout = T)]
    public async Task SetOptions_ChangesLimitsAtRunTime_ButNotBelowUse()
    {
        await Task.Yield();
        var (fs, root) = Make("64k");
        Assert.Equal(Errno.OK, root.WriteFile("f", new byte[40000]));
        Assert.Equal(Errno.EINVAL, fs.SetOptions(Argz("16k")));
        Assert.Equal(65536, fs.Options.Size);
        Assert.Equal(Errno.OK, fs.SetOptions(Argz("1M")));
        Assert.Equal(1L << 20, fs.Options.Size);
        Assert.Equal(Errno.OK, root.WriteFile("g", new byte[500000]));
        Assert.Equal(Errno.OK, fs.SetOptions(Argz("--mode=700")));
        Assert.Equal((FileMode)0x1C0, root.StatOk("").Mode & FileMode.PermMask);
        Assert.Equal(1L << 20, fs.Options.Size); // untouched by a --mode change
        Assert.Equal(Errno.EINVAL, fs.SetOptions(Argz("--inodes=1")));
        Assert.Equal(Errno.EINVAL, fs.SetOptions(Argz("--bogus")));
        Assert.Equal(Errno.OK, Calls.FileStatfs(root.RootProtid, out var st));
        Assert.Equal(256, st.Blocks);
        Assert.Equal(TmpfsFileSystem.Magic, st.Type);
    }

    [Fact(Timeout = T)]
    public async Task FsysOptions_GoThroughTheSdk_ToTheController()
    {
        await Task.Yield();
        var (fs, root) = Make("--mode=755", "1M");
        Assert.Equal(Errno.OK, root.WriteFile("f", "x"));
        var user = new PosixClient(fs.Root, Identity.Of(1000, 1000));
        Assert.Equal(Errno.OK, user.Handle("f", out var p));
        try
        {
            Assert.Equal(Errno.OK, Calls.FileGetFsOptions(p, out var argz));
            Assert.Equal(fs.GetOptions(), argz);
            Assert.Equal(Errno.EPERM, Calls.CheckController(p, fs.Root));
            Assert.Equal(Errno.OK, Calls.CheckController(root.RootProtid, fs.Root));
        }
        finally { p.Release(); }
        Assert.Equal(Errno.OK, Calls.FsysSetOptions(fs.Root, Argz("2M")));
        Assert.Equal(2L << 20, fs.Options.Size);
        Assert.Equal(Errno.EINVAL, Calls.FsysSetOptions(fs.Root, Argz("junk")));
        Assert.Equal(Errno.EINVAL, Calls.FsysSetOptions(fs.Root, "2M"u8));
        // the owner of the root is a controller too
        Assert.Equal(Errno.OK, root.Chown("", 1000, 1000));
        Assert.Equal(Errno.OK, Calls.CheckController(user.RootProtid, fs.Root));
    }

    [Fact(Timeout = T)]
    public async Task FullFilesystem_GivesShortWritesThenENOSPC_AndSpaceComesBack()
    {
        await Task.Yield();
        var (fs, root) = Make("64k");
        Assert.Equal(Errno.OK, root.Open("big", OpenFlags.Write | OpenFlags.Create, out var p));
        try
        {
            var data = new byte[100000];
            Assert.Equal(Errno.OK, Calls.IoWrite(p, 0, data, out int n));
            Assert.True(n > 0 && n < data.Length && n % 4096 == 0, $"short write of {n}");
            Assert.Equal(Errno.ENOSPC, Calls.IoWrite(p, n, data, out _));
            Assert.Equal(Errno.OK, Calls.FileStatfs(p, out var st));
            Assert.Equal(0, st.Bfree);
            // the last bytes go to small nodes, then nothing fits any more
            int links = 0;
            while (root.Symlink("t", $"l{links}") == Errno.OK) links++;
            Assert.True(links > 10);
            Assert.Equal(Errno.ENOSPC, root.Mkdir("a-longer-name"));
            Assert.Equal(Errno.ENOSPC, root.Symlink("target", "l"));
            Assert.Equal(Errno.ENOSPC, root.Setxattr("big", "user.x", new byte[100]));
            Assert.Equal(Errno.ENOSPC, Calls.Fallocate(p, FallocateMode.Allocate, 0, 1 << 20));
            // a sparse write far away still needs a page
            Assert.Equal(Errno.ENOSPC, Calls.IoWrite(p, 1L << 40, data.AsSpan(0, 1), out _));
            // overwriting allocated pages needs no space
            Assert.Equal(Errno.OK, Calls.IoWrite(p, 0, data.AsSpan(0, 4096), out n));
            Assert.Equal(4096, n);
        }
        finally { p.Release(); }
        long used = fs.UsedBytes;
        Assert.Equal(Errno.OK, root.Unlink("big"));
        Assert.True(fs.UsedBytes < used - 60000, "the file's pages are given back");
        Assert.Equal(Errno.OK, root.Mkdir("d"));
    }

    [Fact(Timeout = T)]
    public async Task DirectoryEntries_CountAgainstTheSize()
    {
        await Task.Yield();
        var (fs, root) = Make("8k");
        int made = 0;
        while (root.WriteFile($"{made:D200}", []) == Errno.OK) made++;
        long each = TmpfsFileSystem.DirentSize(200);
        Assert.Equal(8192 / each, made);
        Assert.Equal(Errno.OK, root.Unlink($"{0:D200}"));
        Assert.Equal(Errno.OK, root.WriteFile("short", []));
    }

    [Fact(Timeout = T)]
    public async Task InodeLimit_IsENOSPC()
    {
        await Task.Yield();
        var (fs, root) = Make("--inodes=4", "1M");
        Assert.Equal(Errno.OK, root.WriteFile("a", "1"));
        Assert.Equal(Errno.OK, root.Mkdir("b"));
        Assert.Equal(Errno.OK, root.Symlink("a", "c"));
        Assert.Equal(Errno.ENOSPC, root.WriteFile("d", "1"));
        Assert.Equal(Errno.ENOSPC, root.Mknod("e", FileMode.Fifo));
        Assert.Equal(Errno.OK, root.Link("a", "a2")); // links take no inode
        Assert.Equal(Errno.OK, Calls.FileStatfs(root.RootProtid, out var st));
        Assert.Equal(4, st.Files);
        Assert.Equal(0, st.Ffree);
        Assert.Equal(Errno.OK, root.Rmdir("b"));
        Assert.Equal(Errno.OK, root.WriteFile("d", "1"));
    }

    [Fact(Timeout = T)]
    public async Task UnlinkedOpenFile_KeepsItsSpaceUntilTheLastClose()
    {
        await Task.Yield();
        var (fs, root) = Make("1M");
        Assert.Equal(Errno.OK, root.WriteFile("f", new byte[300000]));
        long before = fs.UsedBytes, inodes = fs.UsedInodes;
        Assert.Equal(Errno.OK, root.Open("f", OpenFlags.Read, out var p));
        var q = p.Duplicate();
        Assert.Equal(Errno.OK, root.Unlink("f"));
        Assert.True(fs.UsedBytes > 290000, "still held by the open file");
        Assert.Equal(inodes, fs.UsedInodes);
        p.Release();
        Assert.True(fs.UsedBytes > 290000, "still held by the duplicate");
        q.Release();
        Assert.True(fs.UsedBytes < before - 290000, "given back at the last close");
        Assert.Equal(inodes - 1, fs.UsedInodes);
        q.Release(); // idempotent
    }

    [Fact(Timeout = T)]
    public async Task CopyFileRange_WritesHolesAsZeros_LikeLinux()
    {
        await Task.Yield();
        var (fs, root) = Make("64M");
        Assert.Equal(Errno.OK, root.Open("src", OpenFlags.Read | OpenFlags.Write | OpenFlags.Create, out var s));
        Assert.Equal(Errno.OK, root.Open("dst", OpenFlags.Read | OpenFlags.Write | OpenFlags.Create, out var d));
        try
        {
            Assert.Equal(Errno.OK, Calls.IoWrite(s, 0, "head"u8, out _));
            Assert.Equal(Errno.OK, Calls.IoWrite(s, 5 * 4096, "tail"u8, out _));
            Assert.Equal(Errno.OK, Calls.CopyFileRange(s, 0, d, 0, 1 << 20, out long n));
            Assert.Equal(5 * 4096 + 4, n);
            Assert.Equal(Errno.OK, Calls.IoStat(d, out var st));
            Assert.Equal(5 * 4096 + 4, st.Size);
            Assert.Equal(6 * 8, st.Blocks); // the four hole pages were written (as Linux's splice copy does)
            Assert.Equal(Errno.OK, Calls.IoSeek(d, 0, Whence.Hole, out long h));
            Assert.Equal(5 * 4096 + 4, h);
            var buf = new byte[4];
            Assert.Equal(Errno.OK, Calls.IoRead(d, 5 * 4096, buf, out _));
            Assert.Equal("tail"u8.ToArray(), buf);
        }
        finally { s.Release(); d.Release(); }
    }

    [Fact(Timeout = T)]
    public async Task FallocatedPages_AreHolesUntilWritten_LikeLinux()
    {
        await Task.Yield();
        var (fs, root) = Make("64M");
        Assert.Equal(Errno.OK, root.Open("f", OpenFlags.Read | OpenFlags.Write | OpenFlags.Create, out var p));
        try
        {
            Assert.Equal(Errno.OK, Calls.Fallocate(p, FallocateMode.Allocate, 0, 4 * 4096));
            Assert.Equal(Errno.OK, Calls.IoStat(p, out var st));
            Assert.Equal(32, st.Blocks);
            Assert.Equal(Errno.ENXIO, Calls.IoSeek(p, 0, Whence.Data, out _)); // allocated, not written: a hole
            Assert.Equal(Errno.OK, Calls.IoWrite(p, 4096 + 10, "x"u8, out _));
            Assert.Equal(Errno.OK, Calls.IoSeek(p, 0, Whence.Data, out long d));
            Assert.Equal(4096, d);
            Assert.Equal(Errno.OK, Calls.IoSeek(p, d, Whence.Hole, out long h));
            Assert.Equal(8192, h);
            // a second fallocate over unwritten pages initialises them: they become data (shmem's SGP_FALLOC rule)
            Assert.Equal(Errno.OK, Calls.Fallocate(p, FallocateMode.KeepSize, 0, 4096));
            Assert.Equal(Errno.OK, Calls.IoSeek(p, 0, Whence.Data, out d));
            Assert.Equal(0, d);
        }
        finally { p.Release(); }
    }

    [Fact(Timeout = T)]
    public async Task ReadOnly_RefusesEveryChange()
    {
        await Task.Yield();
        var (fs, root) = Make("1M");
        Assert.Equal(Errno.OK, root.WriteFile("f", "x"));
        Assert.Equal(Errno.OK, root.Mkdir("d"));
        Assert.Equal(Errno.OK, fs.SetOptions(Argz("--readonly")));
        Assert.Equal(Errno.EROFS, root.WriteFile("f", "y", OpenFlags.None));
        Assert.Equal(Errno.EROFS, root.WriteFile("g", "y"));
        Assert.Equal(Errno.EROFS, root.Mkdir("e"));
        Assert.Equal(Errno.EROFS, root.Unlink("f"));
        Assert.Equal(Errno.EROFS, root.Rmdir("d"));
        Assert.Equal(Errno.EROFS, root.Rename("f", "h"));
        Assert.Equal(Errno.EROFS, root.Chmod("f", 0x1FF));
        Assert.Equal(Errno.EROFS, root.Setxattr("f", "user.a", [1]));
        Assert.Equal("x", root.ReadText("f"));
        Assert.Equal(Errno.OK, Calls.FileStatfs(root.RootProtid, out var st));
        Assert.Equal(1, st.Flags);
        Assert.Equal(Errno.OK, fs.SetOptions(Argz("--writable")));
        Assert.Equal(Errno.OK, root.WriteFile("g", "y"));
    }

    [Fact(Timeout = T)]
    public async Task ConcurrentWritersAndRenamers_KeepTheTreeConsistent()
    {
        await Task.Yield();
        var (fs, root) = Make("256M");
        Assert.Equal(Errno.OK, root.Mkdir("a"));
        Assert.Equal(Errno.OK, root.Mkdir("b"));
        var tasks = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            var rnd = new Random(t);
            for (int i = 0; i < 500; i++)
            {
                string name = $"f{rnd.Next(20)}";
                string from = rnd.Next(2) == 0 ? "a/" : "b/", to = rnd.Next(2) == 0 ? "a/" : "b/";
                switch (rnd.Next(5))
                {
                    case 0: root.WriteFile(from + name, new byte[rnd.Next(10000)]); break;
                    case 1: root.Rename(from + name, to + $"f{rnd.Next(20)}"); break;
                    case 2: root.Unlink(from + name); break;
                    case 3: root.ReadFile(from + name, out _); break;
                    case 4: root.Readdir(from.TrimEnd('/'), out _, batch: 3); break;
                }
            }
        })).ToArray();
        await Task.WhenAll(tasks);
        // every listed entry resolves, link counts and the space accounting agree with what is there
        long pages = 0, entries = 0;
        foreach (var d in new[] { "a", "b" })
        {
            Assert.Equal(Errno.OK, root.Readdir(d, out var names));
            foreach (var n in names.Where(n => n is not "." and not ".."))
            {
                var st = root.StatOk($"{d}/{n}");
                Assert.Equal(1u, st.Nlink);
                pages += st.Blocks / 8;
                entries += TmpfsFileSystem.DirentSize(n.Length);
            }
        }
        Assert.Equal(pages * 4096 + entries + 2 * TmpfsFileSystem.DirentSize(1), fs.UsedBytes);
        Assert.Equal(4u, root.StatOk("").Nlink);
    }
}
