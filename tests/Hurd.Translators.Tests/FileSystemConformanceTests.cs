using RetryType = Hurd.Interfaces.RetryType;
using System.Text;
using Hurd.Ipc.Abi;
using Hurd.Translators;

namespace Hurd.Translators.Tests;

/// <summary>A filesystem under test: its root node, and how to dispose of it.</summary>
public sealed class TestFileSystem(Node root, object implementation, Action? dispose = null) : IDisposable
{
    public Node Root { get; } = root;
    public object Implementation { get; } = implementation;
    public void Dispose() => dispose?.Invoke();
}

/// <summary>
/// POSIX behaviour every writable translator must show, driven directly on the node API through the SDK's calls
/// (no IPC, no FUSE). A filesystem inherits the whole suite by deriving and implementing <see cref="CreateFileSystem"/>
/// (tmpfs now, ext2fs later), as ChannelTestBase does for channels.
/// </summary>
public abstract partial class FileSystemConformanceTests
{
    protected const int T = 30_000;

    /// <summary>A new, empty filesystem whose root directory is owned by root with mode 0755.</summary>
    protected abstract TestFileSystem CreateFileSystem();

    /// <summary>False for filesystems that cannot store very large sparse sizes (then EFBIG is expected instead).</summary>
    protected virtual bool SupportsHugeFiles => true;

    /// <summary>False for filesystems whose xattr values must fit one block (ext2): a 64 KiB value then fails (ENOSPC or ERANGE).</summary>
    protected virtual bool SupportsLargeXattrs => true;

    protected static PosixClient Root(TestFileSystem fs) => new(fs.Root, Identity.Root);
    protected static PosixClient User(TestFileSystem fs, uint uid, uint gid, params uint[] groups) => new(fs.Root, Identity.Of(uid, gid, groups));
    protected static byte[] B(string s) => Encoding.UTF8.GetBytes(s);
    protected static TimeSpec Ts(long s, long ns) => new(s, ns);
    static readonly TimeSpec Omit = new(0, TimeSpec.UtimeOmit), Now = new(0, TimeSpec.UtimeNow);

    static int Cmp(TimeSpec a, TimeSpec b) => a.Sec != b.Sec ? a.Sec.CompareTo(b.Sec) : a.Nsec.CompareTo(b.Nsec);
    static void Later(TimeSpec before, TimeSpec after) => Assert.True(Cmp(after, before) > 0, $"{after} should be after {before}");
    static void Pause() => Thread.Sleep(2); // timestamps must differ; no timing is asserted

    // ---- regular files ----

    [Fact(Timeout = T)]
    public async Task CreateWriteRead_RoundTrips()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.WriteFile("f", "hello, world"));
        Assert.Equal("hello, world", c.ReadText("f"));
        var st = c.StatOk("f");
        Assert.Equal(FileMode.Regular, st.Mode.Type());
        Assert.Equal(12, st.Size);
        Assert.Equal(1u, st.Nlink);
    }

    [Fact(Timeout = T)]
    public async Task SparseFile_HolesReadAsZeros()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.Open("s", OpenFlags.Read | OpenFlags.Write | OpenFlags.Create, out var p));
        try
        {
            Assert.Equal(Errno.OK, Calls.IoWrite(p, 1 << 20, B("end"), out int n));
            Assert.Equal(3, n);
            var buf = new byte[8192];
            buf.AsSpan().Fill(0xAA);
            Assert.Equal(Errno.OK, Calls.IoRead(p, 4096, buf, out n));
            Assert.Equal(8192, n);
            Assert.All(buf, b => Assert.Equal(0, b));
            Assert.Equal(Errno.OK, Calls.IoStat(p, out var st));
            Assert.Equal((1 << 20) + 3, st.Size);
            Assert.True(st.Blocks <= 64, $"a sparse file allocates only what was written (blocks {st.Blocks})");
        }
        finally { p.Release(); }
    }

    [Fact(Timeout = T)]
    public async Task Append_AlwaysWritesAtEnd()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.WriteFile("a", "abc"));
        Assert.Equal(Errno.OK, c.Open("a", OpenFlags.Write | OpenFlags.Append, out var p));
        try
        {
            Assert.Equal(Errno.OK, Calls.IoWrite(p, OpenFile.FilePointer, B("de"), out _));
            Assert.Equal(Errno.OK, Calls.IoWrite(p, 0, B("f"), out _)); // pwrite on O_APPEND appends too (Linux)
            Assert.Equal(5, p.File.Offset); // the pwrite did not move the file pointer
        }
        finally { p.Release(); }
        Assert.Equal("abcdef", c.ReadText("a"));
    }

    [Fact(Timeout = T)]
    public async Task FilePointer_IsSharedByDuplicates_AndAdvances()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.WriteFile("f", "0123456789"));
        Assert.Equal(Errno.OK, c.Open("f", OpenFlags.Read, out var p));
        var q = p.Duplicate();
        try
        {
            var buf = new byte[3];
            Assert.Equal(Errno.OK, Calls.IoRead(p, OpenFile.FilePointer, buf, out _));
            Assert.Equal(Errno.OK, Calls.IoRead(q, OpenFile.FilePointer, buf, out _));
            Assert.Equal("345", Encoding.UTF8.GetString(buf));
            Assert.Equal(Errno.OK, Calls.IoSeek(q, -2, Whence.End, out long pos));
            Assert.Equal(8, pos);
            Assert.Equal(8, p.File.Offset);
            Assert.Equal(Errno.EINVAL, Calls.IoSeek(q, -100, Whence.Current, out _));
        }
        finally { p.Release(); q.Release(); }
    }

    [Fact(Timeout = T)]
    public async Task Truncate_ShrinkThenGrow_ReadsZeros()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.WriteFile("t", new byte[10000].Select(_ => (byte)7).ToArray()));
        Assert.Equal(Errno.OK, c.Open("t", OpenFlags.Read | OpenFlags.Write, out var p));
        try
        {
            Assert.Equal(Errno.OK, Calls.FileSetSize(p, 5000));
            Assert.Equal(Errno.OK, Calls.FileSetSize(p, 9000));
            var buf = new byte[9000];
            Assert.Equal(Errno.OK, Calls.IoRead(p, 0, buf, out int n));
            Assert.Equal(9000, n);
            Assert.All(buf[..5000], b => Assert.Equal(7, b));
            Assert.All(buf[5000..], b => Assert.Equal(0, b));
            Assert.Equal(Errno.EINVAL, Calls.FileSetSize(p, -1));
        }
        finally { p.Release(); }
        Assert.Equal(Errno.OK, c.Open("t", OpenFlags.Read, out var r));
        try { Assert.Equal(Errno.EINVAL, Calls.FileSetSize(r, 0)); } finally { r.Release(); }
    }

    [Fact(Timeout = T)]
    public async Task OTrunc_EmptiesFile_AndUpdatesMtime()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.WriteFile("t", "data"));
        var before = c.StatOk("t");
        Pause();
        Assert.Equal(Errno.OK, c.Open("t", OpenFlags.Write | OpenFlags.Truncate, out var p));
        p.Release();
        var after = c.StatOk("t");
        Assert.Equal(0, after.Size);
        Later(before.Mtime, after.Mtime);
        Later(before.Ctime, after.Ctime);
    }

    [Fact(Timeout = T)]
    public async Task Ftruncate_ToTheSameSize_StillStampsTimes()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.WriteFile("f", "1234"));
        var before = c.StatOk("f");
        Pause();
        Assert.Equal(Errno.OK, c.Open("f", OpenFlags.Write, out var p));
        try { Assert.Equal(Errno.OK, Calls.FileSetSize(p, 4)); } finally { p.Release(); }
        var after = c.StatOk("f");
        Assert.Equal(4, after.Size);
        Later(before.Mtime, after.Mtime);
        Later(before.Ctime, after.Ctime);
    }

    [Fact(Timeout = T)]
    public async Task OExcl_OnExistingNameOrSymlink_IsEEXIST()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.WriteFile("f", "x"));
        Assert.Equal(Errno.OK, c.Symlink("nowhere", "l"));
        Assert.Equal(Errno.EEXIST, c.Open("f", OpenFlags.Write | OpenFlags.Create | OpenFlags.Exclusive, out _));
        Assert.Equal(Errno.EEXIST, c.Open("l", OpenFlags.Write | OpenFlags.Create | OpenFlags.Exclusive, out _));
        Assert.Equal(Errno.OK, c.Open("g", OpenFlags.Write | OpenFlags.Create | OpenFlags.Exclusive, out var p));
        p.Release();
        // O_CREAT without O_EXCL through a dangling symlink creates its target
        Assert.Equal(Errno.OK, c.Open("l", OpenFlags.Write | OpenFlags.Create, out p));
        p.Release();
        Assert.Equal(Errno.OK, c.Stat("nowhere", out _));
    }

    [Fact(Timeout = T)]
    public async Task HugeTruncate_ReportsExactSizeOrEFBIG()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.Open("h", OpenFlags.Read | OpenFlags.Write | OpenFlags.Create, out var p));
        try
        {
            long huge = 1L << 60;
            var e = Calls.FileSetSize(p, huge);
            if (SupportsHugeFiles)
            {
                Assert.Equal(Errno.OK, e);
                Assert.Equal(Errno.OK, Calls.IoStat(p, out var st));
                Assert.Equal(huge, st.Size);
                var buf = new byte[16];
                Assert.Equal(Errno.OK, Calls.IoRead(p, huge - 8, buf, out int n));
                Assert.Equal(8, n);
                Assert.Equal(Errno.OK, Calls.IoWrite(p, huge - 1, B("z"), out n));
                Assert.Equal(Errno.OK, Calls.FileSetSize(p, long.MaxValue));
                Assert.Equal(Errno.OK, Calls.FileSetSize(p, 0));
                Assert.Equal(Errno.OK, Calls.IoStat(p, out st));
                Assert.Equal(0, st.Blocks);
            }
            else Assert.Equal(Errno.EFBIG, e);
            Assert.Equal(Errno.EFBIG, Calls.IoWrite(p, long.MaxValue, B("x"), out _));
        }
        finally { p.Release(); }
    }

    [Fact(Timeout = T)]
    public async Task ReadingOrWritingADirectory_IsEISDIR()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.Mkdir("d"));
        Assert.Equal(Errno.EISDIR, c.Open("d", OpenFlags.Write, out _));
        Assert.Equal(Errno.EISDIR, c.Open("d", OpenFlags.Read | OpenFlags.Truncate, out _));
        Assert.Equal(Errno.OK, c.Open("d", OpenFlags.Read, out var p));
        try { Assert.Equal(Errno.EISDIR, Calls.IoRead(p, 0, new byte[10], out _)); } finally { p.Release(); }
    }

    [Fact(Timeout = T)]
    public async Task WriteOnReadOnlyOpen_IsEBADF()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.WriteFile("f", "x"));
        Assert.Equal(Errno.OK, c.Open("f", OpenFlags.Read, out var p));
        try { Assert.Equal(Errno.EBADF, Calls.IoWrite(p, 0, B("y"), out _)); } finally { p.Release(); }
        Assert.Equal(Errno.OK, c.Open("f", OpenFlags.Write, out p));
        try { Assert.Equal(Errno.EBADF, Calls.IoRead(p, 0, new byte[1], out _)); } finally { p.Release(); }
    }

    // ---- fallocate, SEEK_DATA/SEEK_HOLE, copy_file_range ----

    [Fact(Timeout = T)]
    public async Task Fallocate_AllocatesAndGrows_KeepSizeDoesNot()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.Open("f", OpenFlags.Read | OpenFlags.Write | OpenFlags.Create, out var p));
        try
        {
            Assert.Equal(Errno.OK, Calls.Fallocate(p, FallocateMode.Allocate, 0, 10000));
            Assert.Equal(Errno.OK, Calls.IoStat(p, out var st));
            Assert.Equal(10000, st.Size);
            Assert.True(st.Blocks >= 10000 / 512);
            Assert.Equal(Errno.OK, Calls.Fallocate(p, FallocateMode.KeepSize, 0, 100000));
            Assert.Equal(Errno.OK, Calls.IoStat(p, out st));
            Assert.Equal(10000, st.Size);
            Assert.Equal(Errno.EINVAL, Calls.Fallocate(p, FallocateMode.Allocate, -1, 10));
            Assert.Equal(Errno.EINVAL, Calls.Fallocate(p, FallocateMode.Allocate, 0, 0));
            Assert.Equal(Errno.EOPNOTSUPP, Calls.Fallocate(p, FallocateMode.PunchHole, 0, 10));
            Assert.Equal(Errno.EFBIG, Calls.Fallocate(p, FallocateMode.Allocate, long.MaxValue - 5, 10));
        }
        finally { p.Release(); }
        Assert.Equal(Errno.OK, c.Open("f", OpenFlags.Read, out p));
        try { Assert.Equal(Errno.EBADF, Calls.Fallocate(p, FallocateMode.Allocate, 0, 10)); } finally { p.Release(); }
    }

    [Fact(Timeout = T)]
    public async Task PunchHole_KeepsSize_ReadsZeros_FreesBlocks()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        var data = Enumerable.Repeat((byte)0x55, 5 * 4096).ToArray();
        Assert.Equal(Errno.OK, c.WriteFile("f", data));
        Assert.Equal(Errno.OK, c.Open("f", OpenFlags.Read | OpenFlags.Write, out var p));
        try
        {
            var before = c.StatOk("f");
            Assert.Equal(Errno.OK, Calls.Fallocate(p, FallocateMode.PunchHole | FallocateMode.KeepSize, 1000, 3 * 4096));
            Assert.Equal(Errno.OK, Calls.IoStat(p, out var st));
            Assert.Equal(5 * 4096, st.Size);
            Assert.True(st.Blocks < before.Blocks, "whole pages inside the hole are freed");
            Assert.Equal(Errno.OK, PosixClient.ReadAll(p, out var got));
            for (int i = 0; i < got.Length; i++)
                Assert.Equal(i >= 1000 && i < 1000 + 3 * 4096 ? 0 : 0x55, got[i]);
        }
        finally { p.Release(); }
    }

    [Fact(Timeout = T)]
    public async Task ZeroRange_ZeroesAndGrows_UnlessKeepSize()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.WriteFile("f", Enumerable.Repeat((byte)1, 8192).ToArray()));
        Assert.Equal(Errno.OK, c.Open("f", OpenFlags.Read | OpenFlags.Write, out var p));
        try
        {
            var e = Calls.Fallocate(p, FallocateMode.ZeroRange, 100, 200);
            if (e == Errno.EOPNOTSUPP) return; // optional mode
            Assert.Equal(Errno.OK, e);
            Assert.Equal(Errno.OK, Calls.Fallocate(p, FallocateMode.ZeroRange | FallocateMode.KeepSize, 8000, 10000));
            Assert.Equal(8192, c.StatOk("f").Size);
            Assert.Equal(Errno.OK, Calls.Fallocate(p, FallocateMode.ZeroRange, 8000, 10000));
            Assert.Equal(18000, c.StatOk("f").Size);
            Assert.Equal(Errno.OK, PosixClient.ReadAll(p, out var got));
            for (int i = 0; i < got.Length; i++)
                Assert.Equal((i >= 100 && i < 300) || i >= 8000 ? 0 : 1, got[i]);
        }
        finally { p.Release(); }
    }

    [Fact(Timeout = T)]
    public async Task SeekDataAndHole_FindTheWrittenPages()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.Open("f", OpenFlags.Read | OpenFlags.Write | OpenFlags.Create, out var p));
        try
        {
            const long M = 1 << 20;
            Assert.Equal(Errno.OK, Calls.IoWrite(p, M, B("data"), out _));
            Assert.Equal(Errno.OK, Calls.FileSetSize(p, 4 * M));
            Assert.Equal(Errno.OK, Calls.IoSeek(p, 0, Whence.Data, out long d));
            Assert.True(d <= M && d > 0, $"data at {d}");
            Assert.Equal(Errno.OK, Calls.IoSeek(p, d, Whence.Hole, out long h));
            Assert.True(h > M && h < 4 * M, $"hole at {h}");
            Assert.Equal(Errno.OK, Calls.IoSeek(p, 0, Whence.Hole, out h));
            Assert.Equal(0, h);
            Assert.Equal(Errno.ENXIO, Calls.IoSeek(p, 2 * M, Whence.Data, out _));
            Assert.Equal(Errno.OK, Calls.IoSeek(p, 2 * M, Whence.Hole, out h));
            Assert.Equal(2 * M, h);
            Assert.Equal(Errno.ENXIO, Calls.IoSeek(p, 4 * M, Whence.Hole, out _));
            Assert.Equal(Errno.ENXIO, Calls.IoSeek(p, 5 * M, Whence.Data, out _));
        }
        finally { p.Release(); }
    }

    [Fact(Timeout = T)]
    public async Task CopyFileRange_CopiesData_AndChecksArguments()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        var data = Enumerable.Range(0, 20000).Select(i => (byte)(i * 7)).ToArray();
        Assert.Equal(Errno.OK, c.WriteFile("src", data));
        Assert.Equal(Errno.OK, c.Open("src", OpenFlags.Read | OpenFlags.Write, out var s));
        Assert.Equal(Errno.OK, c.Open("dst", OpenFlags.Read | OpenFlags.Write | OpenFlags.Create, out var d));
        try
        {
            Assert.Equal(Errno.OK, Calls.CopyFileRange(s, 100, d, 5000, 15000, out long n));
            Assert.Equal(15000, n);
            Assert.Equal(Errno.OK, PosixClient.ReadAll(d, out var got));
            Assert.Equal(20000, got.Length);
            Assert.All(got[..5000], b => Assert.Equal(0, b));
            Assert.Equal(data[100..15100], got[5000..]);
            // past the source's end: 0 bytes
            Assert.Equal(Errno.OK, Calls.CopyFileRange(s, 30000, d, 0, 10, out n));
            Assert.Equal(0, n);
            // short at the source's end
            Assert.Equal(Errno.OK, Calls.CopyFileRange(s, 19990, d, 0, 100, out n));
            Assert.Equal(10, n);
            // overlapping ranges of one file
            Assert.Equal(Errno.EINVAL, Calls.CopyFileRange(s, 0, s, 100, 1000, out _));
            Assert.Equal(Errno.OK, Calls.CopyFileRange(s, 0, s, 20000, 1000, out n));
            Assert.Equal(1000, n);
            // file pointers
            Assert.Equal(Errno.OK, Calls.IoSeek(s, 10, Whence.Set, out _));
            Assert.Equal(Errno.OK, Calls.CopyFileRange(s, OpenFile.FilePointer, d, 0, 5, out n));
            Assert.Equal(15, s.File.Offset);
        }
        finally { s.Release(); d.Release(); }
        Assert.Equal(Errno.OK, c.Open("src", OpenFlags.Read, out var ro));
        Assert.Equal(Errno.OK, c.Open("dst", OpenFlags.Read | OpenFlags.Write, out var rw));
        try
        {
            Assert.Equal(Errno.EBADF, Calls.CopyFileRange(rw, 0, ro, 0, 10, out _));
            Assert.Equal(Errno.OK, c.Mkdir("dir"));
            Assert.Equal(Errno.OK, c.Open("dir", OpenFlags.Read, out var dp));
            try { Assert.Equal(Errno.EISDIR, Calls.CopyFileRange(ro, 0, dp, 0, 10, out _)); } finally { dp.Release(); }
        }
        finally { ro.Release(); rw.Release(); }
    }

    [Fact(Timeout = T)]
    public async Task UnlinkedWhileOpen_StaysReadableAndWritable()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.WriteFile("f", "keep"));
        Assert.Equal(Errno.OK, c.Open("f", OpenFlags.Read | OpenFlags.Write, out var p));
        try
        {
            Assert.Equal(Errno.OK, c.Unlink("f"));
            Assert.Equal(Errno.ENOENT, c.Stat("f", out _));
            Assert.Equal(Errno.OK, Calls.IoWrite(p, 4, B(" me"), out _));
            Assert.Equal(Errno.OK, PosixClient.ReadAll(p, out var got));
            Assert.Equal("keep me", Encoding.UTF8.GetString(got));
            Assert.Equal(Errno.OK, Calls.IoStat(p, out var st));
            Assert.Equal(0u, st.Nlink);
        }
        finally { p.Release(); }
    }

    // ---- directories and names ----

    [Fact(Timeout = T)]
    public async Task Mkdir_Rmdir_KeepLinkCounts()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        uint rootLinks = c.StatOk("").Nlink;
        Assert.Equal(Errno.OK, c.Mkdir("d", 0x1C0));
        var st = c.StatOk("d");
        Assert.Equal(FileMode.Directory | (FileMode)0x1C0, st.Mode);
        Assert.Equal(2u, st.Nlink);
        Assert.Equal(rootLinks + 1, c.StatOk("").Nlink);
        Assert.Equal(Errno.OK, c.Mkdir("d/e"));
        Assert.Equal(3u, c.StatOk("d").Nlink);
        Assert.Equal(Errno.EEXIST, c.Mkdir("d"));
        Assert.Equal(Errno.ENOTEMPTY, c.Rmdir("d"));
        Assert.Equal(Errno.OK, c.Rmdir("d/e"));
        Assert.Equal(2u, c.StatOk("d").Nlink);
        Assert.Equal(Errno.OK, c.Rmdir("d"));
        Assert.Equal(rootLinks, c.StatOk("").Nlink);
        Assert.Equal(Errno.ENOENT, c.Rmdir("d"));
    }

    [Fact(Timeout = T)]
    public async Task DotNames_AndWrongTypes_GiveThePosixErrors()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.Mkdir("d"));
        Assert.Equal(Errno.OK, c.WriteFile("d/f", "x"));
        Assert.Equal(Errno.EINVAL, c.Rmdir("d/."));
        Assert.Equal(Errno.ENOTEMPTY, c.Rmdir("d/.."));
        Assert.Equal(Errno.ENOTDIR, c.Rmdir("d/f"));
        Assert.Equal(Errno.EISDIR, c.Unlink("d"));
        Assert.Equal(Errno.EEXIST, c.Mkdir("d/.."));
        Assert.Equal(Errno.EBUSY, c.Rename("d/.", "x"));
        Assert.Equal(Errno.ENOTDIR, c.Mkdir("d/f/g"));
        Assert.Equal(Errno.ENOTDIR, c.Stat("d/f/", out _));
        Assert.Equal(Errno.ENOTDIR, c.Open("d/f", OpenFlags.Read | OpenFlags.Directory, out _));
        Assert.Equal(Errno.EISDIR, c.Open("new/", OpenFlags.Write | OpenFlags.Create, out _));
        Assert.Equal(Errno.ENOENT, c.Stat("d/missing", out _));
    }

    [Fact(Timeout = T)]
    public async Task LongNames_AreENAMETOOLONG()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        string ok = new('a', 255), tooLong = new('b', 256);
        Assert.Equal(Errno.OK, c.WriteFile(ok, "x"));
        Assert.Equal(Errno.OK, c.Stat(ok, out _));
        Assert.Equal(Errno.ENAMETOOLONG, c.Mkdir(tooLong));
        Assert.Equal(Errno.ENAMETOOLONG, c.Stat(tooLong, out _));
        Assert.Equal(Errno.ENAMETOOLONG, c.Open(tooLong, OpenFlags.Write | OpenFlags.Create, out _));
        Assert.Equal(Errno.ENAMETOOLONG, c.Rename(ok, tooLong));
        Assert.Equal(Errno.ENAMETOOLONG, c.Symlink("x", tooLong));
    }

    [Fact(Timeout = T)]
    public async Task HardLinks_ShareDataAndCountLinks()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.WriteFile("a", "one"));
        var before = c.StatOk("a");
        Pause();
        Assert.Equal(Errno.OK, c.Link("a", "b"));
        var st = c.StatOk("b");
        Assert.Equal(before.Ino, st.Ino);
        Assert.Equal(2u, st.Nlink);
        Later(before.Ctime, st.Ctime);
        Assert.Equal(Errno.OK, c.WriteFile("b", "two", OpenFlags.Truncate));
        Assert.Equal("two", c.ReadText("a"));
        Assert.Equal(Errno.EEXIST, c.Link("a", "b"));
        Assert.Equal(Errno.OK, c.Mkdir("d"));
        Assert.Equal(Errno.EPERM, c.Link("d", "d2"));
        Assert.Equal(Errno.OK, c.Unlink("a"));
        Assert.Equal(1u, c.StatOk("b").Nlink);
        Assert.Equal("two", c.ReadText("b"));
    }

    [Fact(Timeout = T)]
    public async Task Symlinks_AreFollowedByTheWalk()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.Mkdir("d"));
        Assert.Equal(Errno.OK, c.Mkdir("d/e"));
        Assert.Equal(Errno.OK, c.WriteFile("d/e/f", "found"));
        Assert.Equal(Errno.OK, c.Symlink("e", "d/le"));
        Assert.Equal(Errno.OK, c.Symlink("d/le/f", "lf"));
        Assert.Equal(Errno.OK, c.Symlink("../../d/./e/", "d/e/up"));
        Assert.Equal("found", c.ReadText("lf"));
        Assert.Equal("found", c.ReadText("d/le/f"));
        Assert.Equal("found", c.ReadText("d/e/up/f"));
        Assert.Equal(Errno.OK, c.Readlink("lf", out var t));
        Assert.Equal("d/le/f", t);
        var st = c.StatOk("lf", nofollow: true);
        Assert.Equal(FileMode.Symlink, st.Mode.Type());
        Assert.Equal(6, st.Size);
        Assert.Equal(FileMode.Regular, c.StatOk("lf").Mode.Type());
        // O_NOLINK reaches the link itself; O_NOFOLLOW makes it an error
        Assert.Equal(Errno.OK, c.Lookup("lf", OpenFlags.NoLink, out var r));
        Assert.IsAssignableFrom<ISymlink>(r.Node);
        Assert.Equal(Errno.ELOOP, c.Lookup("lf", OpenFlags.NoFollow, out _));
        // a trailing slash follows even with O_NOLINK
        Assert.Equal(Errno.OK, c.Lookup("d/le/", OpenFlags.NoLink, out r));
        Assert.IsAssignableFrom<IDirectory>(r.Node);
        Assert.Equal(Errno.EINVAL, c.Readlink("d", out _));
        Assert.Equal(Errno.ENOENT, c.Symlink("", "empty"));
    }

    [Fact(Timeout = T)]
    public async Task SymlinkLoops_AreELOOP()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.Symlink("b", "a"));
        Assert.Equal(Errno.OK, c.Symlink("a", "b"));
        Assert.Equal(Errno.ELOOP, c.Stat("a", out _));
        Assert.Equal(Errno.OK, c.Symlink("self/x", "self"));
        Assert.Equal(Errno.ELOOP, c.Stat("self", out _));
    }

    [Fact(Timeout = T)]
    public async Task AbsoluteSymlink_IsRetryMagical_WithTheRest()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.Mkdir("d"));
        Assert.Equal(Errno.OK, c.Symlink("/etc", "d/abs"));
        Assert.Equal(Errno.OK, c.Lookup("d/abs/passwd", OpenFlags.Read, out var r));
        Assert.Equal(RetryType.Magical, r.Retry);
        Assert.Equal("/etc/passwd", Encoding.UTF8.GetString(r.RetryName));
        Assert.Null(r.Node);
    }

    [Fact(Timeout = T)]
    public async Task OverlongPaths_AreENAMETOOLONG()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        // an absolute symlink whose retry name would not fit in 1024 bytes
        Assert.Equal(Errno.OK, c.Symlink("/" + new string('x', 1100), "abs"));
        Assert.Equal(Errno.ENAMETOOLONG, c.Lookup("abs", OpenFlags.Read, out _));
        // relative symlinks that expand past PATH_MAX
        Assert.Equal(Errno.OK, c.Mkdir("d"));
        string seg = new('s', 200);
        Assert.Equal(Errno.OK, c.Symlink(string.Join('/', Enumerable.Repeat(".", 2000)) + "/long", "d/l"));
        Assert.Equal(Errno.OK, c.Symlink(string.Join('/', Enumerable.Repeat("l", 1500)), "d/ll"));
        Assert.Equal(Errno.ENAMETOOLONG, c.Lookup("d/ll/" + string.Join('/', Enumerable.Repeat(seg, 10)), OpenFlags.Read, out _));
        Assert.Equal(Errno.ENAMETOOLONG, c.Symlink(new string('t', 4096), "d/toolong"));
    }

    [Fact(Timeout = T)]
    public async Task StatusFlags_CanBeChangedOnAnOpenFile()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.WriteFile("f", "abc"));
        Assert.Equal(Errno.OK, c.Open("f", OpenFlags.Read | OpenFlags.Write, out var p));
        try
        {
            p.File.SetStatusFlags(OpenFlags.Append | OpenFlags.Read | OpenFlags.Exec); // access modes do not change
            Assert.Equal(OpenFlags.Read | OpenFlags.Write | OpenFlags.Append, p.File.Flags);
            Assert.Equal(Errno.OK, Calls.IoWrite(p, 0, B("d"), out _));
            p.File.SetStatusFlags(OpenFlags.None);
            Assert.Equal(Errno.OK, Calls.IoWrite(p, 0, B("X"), out _));
        }
        finally { p.Release(); }
        Assert.Equal("Xbcd", c.ReadText("f"));
    }

    [Fact(Timeout = T)]
    public async Task DotDotAtTheRoot_IsRetryReauth_WithTheRest()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.Mkdir("d"));
        Assert.Equal(Errno.OK, c.Lookup("d/../../x/y", OpenFlags.Read, out var r));
        Assert.Equal(RetryType.Reauth, r.Retry);
        Assert.Equal("x/y", Encoding.UTF8.GetString(r.RetryName));
        Assert.Equal(Errno.OK, c.Lookup("..", OpenFlags.Read, out r));
        Assert.Equal(RetryType.Reauth, r.Retry);
        Assert.Empty(r.RetryName);
        // inside the tree ".." is resolved here
        Assert.Equal(Errno.OK, c.Lookup("d/..", OpenFlags.Read, out r));
        Assert.True(r.IsDone);
        Assert.Same(fs.Root, r.Node);
        // leading slashes are skipped; an empty name reopens the directory
        Assert.Equal(Errno.OK, c.Lookup("//d", OpenFlags.Read, out r));
        Assert.True(r.IsDone);
        Assert.Equal(Errno.OK, c.Lookup("", OpenFlags.Read, out r));
        Assert.Same(fs.Root, r.Node);
    }

    [Fact(Timeout = T)]
    public async Task TranslatedNode_StopsTheWalk_UnlessONotrans()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.Mkdir("mnt"));
        Assert.Equal(Errno.OK, c.Resolve("mnt", out var mnt));
        if (mnt is not ITranslatable) return;
        Assert.Equal(Errno.OK, Calls.FileSetTranslator(c.RootProtid, mnt, B("/hurd/hello\0--contents=hi\0")));
        Assert.True(mnt.IsTranslated);
        Assert.Equal(Errno.OK, c.Lookup("mnt/a/b", OpenFlags.Read, out var r));
        Assert.Equal(RetryType.Normal, r.Retry);
        Assert.True(r.Translated);
        Assert.Same(mnt, r.Node);
        Assert.Equal("a/b", Encoding.UTF8.GetString(r.RetryName));
        Assert.Equal(Errno.OK, c.Lookup("mnt", OpenFlags.Read | OpenFlags.NoTrans, out r));
        Assert.True(r.IsDone);
        Assert.Same(mnt, r.Node);
        // a middle component is always crossed, even with O_NOTRANS
        Assert.Equal(Errno.OK, c.Lookup("mnt/x", OpenFlags.Read | OpenFlags.NoTrans, out r));
        Assert.True(r.Translated);
        Assert.Equal(Errno.OK, Calls.Stat(c.RootProtid, mnt, out var st));
        Assert.True((st.Mode & FileMode.PassiveTranslator) != 0);
        Assert.Equal(Errno.OK, Calls.FileGetTranslator(c.RootProtid, mnt, out var argz));
        Assert.Equal("/hurd/hello\0--contents=hi\0", Encoding.UTF8.GetString(argz.Span));
        // an active translator (set by the serving layer) also counts
        Assert.Equal(Errno.OK, Calls.FileSetTranslator(c.RootProtid, mnt, default));
        Assert.False(mnt.IsTranslated);
        Assert.Equal(Errno.EINVAL, Calls.FileGetTranslator(c.RootProtid, mnt, out _));
        mnt.ActiveTranslator = new object();
        Assert.Equal(Errno.OK, Calls.Stat(c.RootProtid, mnt, out st));
        Assert.True((st.Mode & FileMode.ActiveTranslator) != 0);
        Assert.Equal(Errno.OK, c.Lookup("mnt", OpenFlags.Read, out r));
        Assert.True(r.Translated);
        mnt.ActiveTranslator = null;
        Assert.Equal(Errno.EINVAL, Calls.FileSetTranslator(c.RootProtid, mnt, B("no-nul")));
    }

    [Fact(Timeout = T)]
    public async Task SettingATranslator_NeedsOwnership()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.Mkdir("pub", 0x1FF));
        var alice = User(fs, 1000, 1000);
        var bob = User(fs, 2000, 2000);
        Assert.Equal(Errno.OK, alice.WriteFile("pub/a", "x"));
        Assert.Equal(Errno.OK, alice.Resolve("pub/a", out var n));
        if (n is not ITranslatable) return;
        Assert.Equal(Errno.EPERM, Calls.FileSetTranslator(bob.RootProtid, n, B("/hurd/x\0")));
        Assert.Equal(Errno.OK, Calls.FileSetTranslator(alice.RootProtid, n, B("/hurd/x\0")));
    }

    [Fact(Timeout = T)]
    public async Task Mknod_MakesFifosSocketsAndDevices()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.Mknod("fifo", FileMode.Fifo | (FileMode)0x1A4));
        Assert.Equal(Errno.OK, c.Mknod("sock", FileMode.Socket | (FileMode)0x1ED));
        Assert.Equal(Errno.OK, c.Mknod("null", FileMode.CharDevice | (FileMode)0x1B6, 0x103));
        Assert.Equal(Errno.OK, c.Mknod("blk", FileMode.BlockDevice | (FileMode)0x180, 0x801));
        Assert.Equal(Errno.OK, c.Mknod("plain", FileMode.Regular | (FileMode)0x1A4));
        Assert.Equal(FileMode.Fifo, c.StatOk("fifo").Mode.Type());
        Assert.Equal(FileMode.Socket, c.StatOk("sock").Mode.Type());
        var dev = c.StatOk("null");
        Assert.Equal(FileMode.CharDevice | (FileMode)0x1B6, dev.Mode);
        Assert.Equal(0x103ul, dev.Rdev);
        Assert.Equal(0x801ul, c.StatOk("blk").Rdev);
        Assert.Equal(FileMode.Regular, c.StatOk("plain").Mode.Type());
        Assert.Equal(Errno.EEXIST, c.Mknod("fifo", FileMode.Fifo));
        Assert.Equal(Errno.EINVAL, c.Mknod("dir", FileMode.Directory));
        Assert.Equal(Errno.OK, c.Mkdir("pub", 0x1FF));
        var user = User(fs, 1000, 1000);
        Assert.Equal(Errno.EPERM, user.Mknod("pub/dev", FileMode.CharDevice | (FileMode)0x1B6, 1));
        Assert.Equal(Errno.OK, user.Mknod("pub/fifo", FileMode.Fifo | (FileMode)0x1B6));
    }

    // ---- rename ----

    [Fact(Timeout = T)]
    public async Task Rename_ReplacesAFile_AndUpdatesTimes()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.WriteFile("a", "A"));
        Assert.Equal(Errno.OK, c.WriteFile("b", "B"));
        Assert.Equal(Errno.OK, c.Open("b", OpenFlags.Read, out var victim));
        var a0 = c.StatOk("a");
        var d0 = c.StatOk("");
        Pause();
        Assert.Equal(Errno.OK, c.Rename("a", "b"));
        Assert.Equal(Errno.ENOENT, c.Stat("a", out _));
        Assert.Equal("A", c.ReadText("b"));
        var a1 = c.StatOk("b");
        Assert.Equal(a0.Ino, a1.Ino);
        Later(a0.Ctime, a1.Ctime);
        Later(d0.Mtime, c.StatOk("").Mtime);
        try
        {
            Assert.Equal(Errno.OK, Calls.IoStat(victim, out var vst));
            Assert.Equal(0u, vst.Nlink);
            Assert.Equal(Errno.OK, PosixClient.ReadAll(victim, out var vd));
            Assert.Equal("B", Encoding.UTF8.GetString(vd));
        }
        finally { victim.Release(); }
        Assert.Equal(Errno.ENOENT, c.Rename("a", "c"));
    }

    [Fact(Timeout = T)]
    public async Task Rename_NoReplace_And_Exchange()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.WriteFile("a", "A"));
        Assert.Equal(Errno.OK, c.WriteFile("b", "B"));
        Assert.Equal(Errno.EEXIST, c.Rename("a", "b", RenameFlags.NoReplace));
        Assert.Equal(Errno.OK, c.Rename("a", "c", RenameFlags.NoReplace));
        Assert.Equal(Errno.OK, c.Rename("c", "b", RenameFlags.Exchange));
        Assert.Equal("B", c.ReadText("c"));
        Assert.Equal("A", c.ReadText("b"));
        Assert.Equal(Errno.ENOENT, c.Rename("c", "zz", RenameFlags.Exchange));
        Assert.Equal(Errno.EINVAL, c.Rename("c", "b", RenameFlags.Exchange | RenameFlags.NoReplace));
        // exchange a directory and a file across directories: link counts follow
        Assert.Equal(Errno.OK, c.Mkdir("d1"));
        Assert.Equal(Errno.OK, c.Mkdir("d2"));
        Assert.Equal(Errno.OK, c.Mkdir("d1/sub"));
        Assert.Equal(Errno.OK, c.WriteFile("d2/file", "F"));
        Assert.Equal(3u, c.StatOk("d1").Nlink);
        Assert.Equal(Errno.OK, c.Rename("d1/sub", "d2/file", RenameFlags.Exchange));
        Assert.Equal(2u, c.StatOk("d1").Nlink);
        Assert.Equal(3u, c.StatOk("d2").Nlink);
        Assert.Equal("F", c.ReadText("d1/sub"));
        Assert.Equal(FileMode.Directory, c.StatOk("d2/file").Mode.Type());
        Assert.Equal(Errno.OK, c.Lookup("d2/file/..", OpenFlags.Read, out var r));
        Assert.Equal(Errno.OK, c.Resolve("d2", out var d2));
        Assert.Same(d2, r.Node);
        // exchanging a directory into its own subtree
        Assert.Equal(Errno.OK, c.Mkdir("d2/file/inner"));
        Assert.Equal(Errno.EINVAL, c.Rename("d2", "d2/file/inner", RenameFlags.Exchange));
    }

    [Fact(Timeout = T)]
    public async Task Rename_FollowsThePosixTypeRules()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.Mkdir("d"));
        Assert.Equal(Errno.OK, c.Mkdir("empty"));
        Assert.Equal(Errno.OK, c.Mkdir("full"));
        Assert.Equal(Errno.OK, c.WriteFile("full/x", "x"));
        Assert.Equal(Errno.OK, c.WriteFile("f", "f"));
        Assert.Equal(Errno.EISDIR, c.Rename("f", "empty"));
        Assert.Equal(Errno.ENOTDIR, c.Rename("d", "f"));
        Assert.Equal(Errno.ENOTEMPTY, c.Rename("d", "full"));
        Assert.Equal(Errno.EINVAL, c.Rename("d", "d/sub"));
        Assert.Equal(Errno.OK, c.Mkdir("d/sub"));
        Assert.Equal(Errno.EINVAL, c.Rename("d", "d/sub/deeper"));
        uint rootLinks = c.StatOk("").Nlink;
        Assert.Equal(Errno.OK, c.Rename("d", "empty")); // a directory may replace an empty one
        Assert.Equal(rootLinks - 1, c.StatOk("").Nlink);
        Assert.Equal(Errno.OK, c.Stat("empty/sub", out _));
        // moving a directory to another parent fixes both link counts and ".."
        Assert.Equal(Errno.OK, c.Rename("empty/sub", "full/sub"));
        Assert.Equal(2u, c.StatOk("empty").Nlink);
        Assert.Equal(3u, c.StatOk("full").Nlink);
        Assert.Equal(Errno.OK, c.Lookup("full/sub/..", OpenFlags.Read, out var r));
        Assert.Equal(c.StatOk("full").Ino, r.Node!.Ino);
        // two links to one node: nothing happens
        Assert.Equal(Errno.OK, c.Link("f", "g"));
        Assert.Equal(Errno.OK, c.Rename("f", "g"));
        Assert.Equal(Errno.OK, c.Stat("f", out _));
        Assert.Equal(2u, c.StatOk("g").Nlink);
    }

    // ---- readdir ----

    [Fact(Timeout = T)]
    public async Task Readdir_ListsDotDotDotAndEntries()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.Mkdir("d"));
        foreach (var n in new[] { "x", "y", "z" }) Assert.Equal(Errno.OK, c.WriteFile("d/" + n, n));
        Assert.Equal(Errno.OK, c.Mkdir("d/sub"));
        Assert.Equal(Errno.OK, c.Readdir("d", out var names, batch: 2));
        Assert.Equal(new[] { ".", "..", "sub", "x", "y", "z" }, names.OrderBy(x => x, StringComparer.Ordinal));
        Assert.Equal(Errno.OK, c.Open("d", OpenFlags.Read, out var p));
        try
        {
            var sink = new ListSink(100);
            Assert.Equal(Errno.OK, Calls.DirReaddir(p, 0, sink));
            var sub = sink.Entries.Single(e => e.Name == "sub");
            Assert.Equal(FileMode.Directory, sub.Type);
            Assert.Equal(c.StatOk("d/sub").Ino, sub.Ino);
            Assert.Equal(FileMode.Regular, sink.Entries.Single(e => e.Name == "x").Type);
            Assert.Equal(c.StatOk("").Ino, sink.Entries.Single(e => e.Name == "..").Ino);
            foreach (var e in sink.Entries.Where(e => e.Node is not null)) Assert.Equal(e.Ino, e.Node!.Ino);
        }
        finally { p.Release(); }
        Assert.Equal(Errno.OK, c.Open("d", OpenFlags.None, out p));
        try { Assert.Equal(Errno.EBADF, Calls.DirReaddir(p, 0, new ListSink(10))); } finally { p.Release(); }
    }

    sealed class LookupSink(PosixClient c, string dir) : IDirEntrySink
    {
        public int Seen;
        public bool Add(ReadOnlySpan<byte> name, ulong ino, FileMode type, long nextCookie, Node? node)
        {
            string n = Encoding.UTF8.GetString(name);
            Assert.Equal(Errno.OK, c.Stat(dir + "/" + n, out var st, nofollow: true));
            Assert.Equal(ino, st.Ino);
            Seen++;
            return true;
        }
    }

    [Fact(Timeout = T)]
    public async Task ReaddirSink_MayLookUpEntries_LikeReaddirplus()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.Mkdir("d"));
        Assert.Equal(Errno.OK, c.WriteFile("d/a", "a"));
        Assert.Equal(Errno.OK, c.Symlink("a", "d/l"));
        Assert.Equal(Errno.OK, c.Open("d", OpenFlags.Read, out var p));
        try
        {
            var sink = new LookupSink(c, "d");
            Assert.Equal(Errno.OK, Calls.DirReaddir(p, 0, sink));
            Assert.Equal(4, sink.Seen);
        }
        finally { p.Release(); }
    }

    [Fact(Timeout = T)]
    public async Task SymlinkOpenedWithONolink_ReadsAsItsTarget()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.Symlink("some/target", "l"));
        Assert.Equal(Errno.OK, c.Open("l", OpenFlags.Read | OpenFlags.NoLink, out var p));
        try
        {
            Assert.Equal(Errno.OK, PosixClient.ReadAll(p, out var t));
            Assert.Equal("some/target", Encoding.UTF8.GetString(t));
        }
        finally { p.Release(); }
    }

    [Fact(Timeout = T)]
    public async Task ReaddirCookies_StayStableUnderMutation()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.Mkdir("d"));
        for (int i = 0; i < 200; i++) Assert.Equal(Errno.OK, c.WriteFile($"d/f{i}", ""));
        Assert.Equal(Errno.OK, c.Open("d", OpenFlags.Read, out var p));
        try
        {
            var seen = new List<string>();
            long cookie = 0;
            int round = 0;
            while (true)
            {
                var sink = new ListSink(7);
                Assert.Equal(Errno.OK, Calls.DirReaddir(p, cookie, sink));
                if (sink.Entries.Count == 0) break;
                seen.AddRange(sink.Entries.Select(e => e.Name));
                cookie = sink.Entries[^1].Next;
                // between batches: remove some odd files, add new ones, rename one
                if (++round > 20) continue; // (mutating forever would keep the listing going forever)
                var e = c.Unlink($"d/f{(round * 13) % 200 | 1}");
                Assert.True(e is Errno.OK or Errno.ENOENT, e.ToString());
                Assert.Equal(Errno.OK, c.WriteFile($"d/new{round}", ""));
            }
            Assert.Equal(seen.Count, seen.Distinct().Count()); // nothing twice
            for (int i = 0; i < 200; i += 2) Assert.Contains($"f{i}", seen); // nothing present all along is missed
            Assert.Contains(".", seen);
            Assert.Contains("..", seen);
        }
        finally { p.Release(); }
    }

    // ---- times ----

    [Fact(Timeout = T)]
    public async Task Times_FollowLinuxTmpfs()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        var d0 = c.StatOk("");
        Pause();
        Assert.Equal(Errno.OK, c.WriteFile("f", "x"));
        var f0 = c.StatOk("f");
        Later(d0.Mtime, c.StatOk("").Mtime);
        Later(d0.Ctime, c.StatOk("").Ctime);
        Pause();
        Assert.Equal(Errno.OK, c.Chmod("f", 0x180));
        var f1 = c.StatOk("f");
        Assert.Equal(f0.Mtime, f1.Mtime);
        Later(f0.Ctime, f1.Ctime);
        Pause();
        Assert.Equal(Errno.OK, c.WriteFile("f", "more", OpenFlags.None));
        var f2 = c.StatOk("f");
        Later(f1.Mtime, f2.Mtime);
        Later(f1.Ctime, f2.Ctime);
        Pause();
        var d1 = c.StatOk("");
        Assert.Equal(Errno.OK, c.Unlink("f"));
        Later(d1.Mtime, c.StatOk("").Mtime);
    }

    [Fact(Timeout = T)]
    public async Task Utimens_SetsNanoseconds_HonoursNowAndOmit()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.WriteFile("f", "x"));
        Assert.Equal(Errno.OK, c.Utimens("f", Ts(1000, 123456789), Ts(2000, 987654321)));
        var st = c.StatOk("f");
        Assert.Equal(Ts(1000, 123456789), st.Atime);
        Assert.Equal(Ts(2000, 987654321), st.Mtime);
        Assert.Equal(Errno.OK, c.Utimens("f", Omit, Ts(3000, 1)));
        st = c.StatOk("f");
        Assert.Equal(Ts(1000, 123456789), st.Atime);
        Assert.Equal(Ts(3000, 1), st.Mtime);
        Assert.Equal(Errno.OK, c.Utimens("f", Now, Omit));
        st = c.StatOk("f");
        Assert.True(st.Atime.Sec > 1_600_000_000);
        Assert.Equal(Ts(3000, 1), st.Mtime);
        Assert.Equal(Errno.EINVAL, c.Utimens("f", Ts(0, 1_000_000_000), Omit));
        Assert.Equal(Errno.EINVAL, c.Utimens("f", Ts(0, -1), Omit));
    }

    // ---- permissions ----

    /// <summary>/pub (1777 root) holding /pub/f (0640, uid 1000, gid 100).</summary>
    static void MakeSharedFile(PosixClient root)
    {
        Assert.Equal(Errno.OK, root.Mkdir("pub", 0x3FF));
        Assert.Equal(Errno.OK, root.WriteFile("pub/f", "secret"));
        Assert.Equal(Errno.OK, root.Chown("pub/f", 1000, 100));
        Assert.Equal(Errno.OK, root.Chmod("pub/f", 0x1A0));
    }

    [Fact(Timeout = T)]
    public async Task OwnerGroupOther_BitsDecideAccess()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var root = Root(fs);
        MakeSharedFile(root);
        var owner = User(fs, 1000, 1000);
        var member = User(fs, 2000, 2000, 100); // supplementary group
        var primary = User(fs, 2001, 100);
        var other = User(fs, 3000, 3000);
        Assert.Equal(Errno.OK, owner.Open("pub/f", OpenFlags.Read | OpenFlags.Write, out var p)); p.Release();
        Assert.Equal(Errno.OK, member.Open("pub/f", OpenFlags.Read, out p)); p.Release();
        Assert.Equal(Errno.OK, primary.Open("pub/f", OpenFlags.Read, out p)); p.Release();
        Assert.Equal(Errno.EACCES, member.Open("pub/f", OpenFlags.Write, out _));
        Assert.Equal(Errno.EACCES, member.Open("pub/f", OpenFlags.Read | OpenFlags.Truncate, out _));
        Assert.Equal(Errno.EACCES, other.Open("pub/f", OpenFlags.Read, out _));
        Assert.Equal(Errno.OK, root.Open("pub/f", OpenFlags.Read | OpenFlags.Write, out p)); p.Release();
        Assert.Equal(Errno.EACCES, root.Open("pub/f", OpenFlags.Exec, out _)); // root needs some x bit
        // the owner's bits apply to the owner even when the group's are wider
        Assert.Equal(Errno.OK, root.Chmod("pub/f", 0x038)); // 0070
        Assert.Equal(Errno.EACCES, owner.Open("pub/f", OpenFlags.Read, out _));
        Assert.Equal(Errno.OK, member.Open("pub/f", OpenFlags.Read | OpenFlags.Write, out p)); p.Release();
        Assert.Equal(Errno.OK, root.Chmod("pub/f", 0x1ED));
        Assert.Equal(Errno.OK, other.Open("pub/f", OpenFlags.Exec, out p)); p.Release();
        var anon = new PosixClient(fs.Root, Identity.Unauthenticated);
        Assert.Equal(Errno.OK, anon.Open("pub/f", OpenFlags.Read, out p)); p.Release();
        Assert.Equal(Errno.EACCES, anon.Open("pub/f", OpenFlags.Write, out _));
    }

    [Fact(Timeout = T)]
    public async Task Directories_NeedSearchToLookUp_AndWriteToChange()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var root = Root(fs);
        Assert.Equal(Errno.OK, root.Mkdir("d", 0x1ED)); // 0755
        Assert.Equal(Errno.OK, root.WriteFile("d/f", "x"));
        Assert.Equal(Errno.OK, root.Chmod("d/f", 0x1B6));
        var u = User(fs, 1000, 1000);
        Assert.Equal(Errno.EACCES, u.WriteFile("d/new", "x"));
        Assert.Equal(Errno.EACCES, u.Mkdir("d/sub"));
        Assert.Equal(Errno.EACCES, u.Unlink("d/f"));
        Assert.Equal(Errno.EACCES, u.Rename("d/f", "d/g"));
        Assert.Equal(Errno.EACCES, u.Symlink("x", "d/l"));
        Assert.Equal(Errno.OK, u.WriteFile("d/f", "y", OpenFlags.Truncate)); // the file itself is writable
        Assert.Equal(Errno.OK, root.Chmod("d", 0x1E4)); // 0744: no search for others
        Assert.Equal(Errno.EACCES, u.Stat("d/f", out _));
        Assert.Equal(Errno.OK, root.Chmod("d", 0x1E9)); // 0751: search, no read
        Assert.Equal(Errno.OK, u.Stat("d/f", out _));
        Assert.Equal(Errno.EACCES, u.Readdir("d", out _));
    }

    [Fact(Timeout = T)]
    public async Task CreatingWithReadOnlyMode_StillOpensForWrite()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var root = Root(fs);
        Assert.Equal(Errno.OK, root.Mkdir("pub", 0x3FF));
        var u = User(fs, 1000, 1000);
        Assert.Equal(Errno.OK, u.Open("pub/ro", OpenFlags.Write | OpenFlags.Create, out var p, (FileMode)0x124));
        try { Assert.Equal(Errno.OK, Calls.IoWrite(p, 0, B("x"), out _)); } finally { p.Release(); }
        Assert.Equal(Errno.EACCES, u.Open("pub/ro", OpenFlags.Write | OpenFlags.Create, out _));
        var st = u.StatOk("pub/ro");
        Assert.Equal(1000u, st.Uid);
        Assert.Equal(1000u, st.Gid);
        Assert.Equal(FileMode.Regular | (FileMode)0x124, st.Mode);
    }

    [Fact(Timeout = T)]
    public async Task StickyDirectory_OnlyOwnersMayRemoveOrReplace()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var root = Root(fs);
        Assert.Equal(Errno.OK, root.Mkdir("tmp", 0x3FF)); // 1777
        var alice = User(fs, 1000, 1000);
        var bob = User(fs, 2000, 2000);
        Assert.Equal(Errno.OK, alice.WriteFile("tmp/a", "alice"));
        Assert.Equal(Errno.OK, alice.Chmod("tmp/a", 0x1B6));
        Assert.Equal(Errno.OK, bob.WriteFile("tmp/b", "bob"));
        Assert.Equal(Errno.EPERM, bob.Unlink("tmp/a"));
        Assert.Equal(Errno.EPERM, bob.Rename("tmp/a", "tmp/c"));
        Assert.Equal(Errno.EPERM, bob.Rename("tmp/b", "tmp/a")); // replacing alice's entry
        Assert.Equal(Errno.OK, bob.WriteFile("tmp/a", "bob was here", OpenFlags.Truncate)); // writing is not removing
        Assert.Equal(Errno.OK, alice.Mkdir("tmp/ad"));
        Assert.Equal(Errno.EPERM, bob.Rmdir("tmp/ad"));
        Assert.Equal(Errno.OK, alice.Rename("tmp/a", "tmp/a2"));
        Assert.Equal(Errno.OK, root.Unlink("tmp/b"));
        // the directory's owner may remove anything in it
        Assert.Equal(Errno.OK, root.Chown("tmp", 2000, 2000));
        Assert.Equal(Errno.OK, bob.Unlink("tmp/a2"));
        Assert.Equal(Errno.OK, bob.Rmdir("tmp/ad"));
    }

    [Fact(Timeout = T)]
    public async Task SetIdBits_AreClearedByWriteAndChown()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var root = Root(fs);
        Assert.Equal(Errno.OK, root.Mkdir("pub", 0x3FF));
        var u = User(fs, 1000, 1000);
        Assert.Equal(Errno.OK, u.WriteFile("pub/prog", "#!"));
        Assert.Equal(Errno.OK, u.Chmod("pub/prog", 0xDFF)); // 06777
        Assert.Equal((FileMode)0xDFF, u.StatOk("pub/prog").Mode & FileMode.PermMask);
        Assert.Equal(Errno.OK, u.WriteFile("pub/prog", "x", OpenFlags.None));
        Assert.Equal((FileMode)0x1FF, u.StatOk("pub/prog").Mode & FileMode.PermMask);
        // root's write keeps them
        Assert.Equal(Errno.OK, u.Chmod("pub/prog", 0xDFF));
        Assert.Equal(Errno.OK, root.WriteFile("pub/prog", "y", OpenFlags.None));
        Assert.Equal((FileMode)0xDFF, u.StatOk("pub/prog").Mode & FileMode.PermMask);
        // chown drops them (as Linux, for every caller)
        Assert.Equal(Errno.OK, root.Chown("pub/prog", 1000, 1000));
        Assert.Equal((FileMode)0x1FF, u.StatOk("pub/prog").Mode & FileMode.PermMask);
        // S_ISGID without group-execute (mandatory locking) stays on write
        Assert.Equal(Errno.OK, u.Chmod("pub/prog", 0x5E4)); // 02744
        Assert.Equal(Errno.OK, u.WriteFile("pub/prog", "z", OpenFlags.None));
        Assert.Equal((FileMode)0x5E4 & ~FileMode.SetUid, u.StatOk("pub/prog").Mode & FileMode.PermMask);
        // truncate by a non-root writer clears S_ISUID too
        Assert.Equal(Errno.OK, u.Chmod("pub/prog", 0x9ED)); // 04755
        Assert.Equal(Errno.OK, u.Open("pub/prog", OpenFlags.Write, out var p));
        try { Assert.Equal(Errno.OK, Calls.FileSetSize(p, 0)); } finally { p.Release(); }
        Assert.Equal((FileMode)0x1ED, u.StatOk("pub/prog").Mode & FileMode.PermMask);
    }

    [Fact(Timeout = T)]
    public async Task SetgidDirectory_GivesItsGroupToNewNodes()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var root = Root(fs);
        Assert.Equal(Errno.OK, root.Mkdir("proj", 0x5FF)); // 02777
        Assert.Equal(Errno.OK, root.Chown("proj", 0, 500));
        Assert.Equal(Errno.OK, root.Chmod("proj", 0x5FF));
        var u = User(fs, 1000, 1000);
        Assert.Equal(Errno.OK, u.WriteFile("proj/f", "x"));
        Assert.Equal(Errno.OK, u.Mkdir("proj/sub", 0x1ED));
        var f = u.StatOk("proj/f");
        Assert.Equal(500u, f.Gid);
        Assert.Equal(1000u, f.Uid);
        var sub = u.StatOk("proj/sub");
        Assert.Equal(500u, sub.Gid);
        Assert.True((sub.Mode & FileMode.SetGid) != 0, "a new subdirectory of a setgid directory is setgid");
        Assert.Equal(Errno.OK, u.WriteFile("proj/sub/g", "x"));
        Assert.Equal(500u, u.StatOk("proj/sub/g").Gid);
        // outside: the caller's own group
        Assert.Equal(Errno.OK, root.Mkdir("plain", 0x1FF));
        Assert.Equal(Errno.OK, u.WriteFile("plain/f", "x"));
        Assert.Equal(1000u, u.StatOk("plain/f").Gid);
    }

    [Fact(Timeout = T)]
    public async Task ChmodAndChown_FollowThePosixRules()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var root = Root(fs);
        MakeSharedFile(root); // pub/f: 1000:100 0640
        var owner = User(fs, 1000, 1000, 200);
        var other = User(fs, 3000, 3000);
        Assert.Equal(Errno.EPERM, other.Chmod("pub/f", 0x1FF));
        Assert.Equal(Errno.EPERM, other.Chown("pub/f", 3000, uint.MaxValue));
        Assert.Equal(Errno.EPERM, owner.Chown("pub/f", 3000, uint.MaxValue));
        Assert.Equal(Errno.OK, owner.Chown("pub/f", 1000, uint.MaxValue)); // to itself: allowed
        Assert.Equal(Errno.EPERM, owner.Chown("pub/f", uint.MaxValue, 300)); // not its group
        Assert.Equal(Errno.OK, owner.Chown("pub/f", uint.MaxValue, 200));
        Assert.Equal(200u, root.StatOk("pub/f").Gid);
        Assert.Equal(Errno.OK, root.Chown("pub/f", 3000, 3000));
        Assert.Equal(3000u, root.StatOk("pub/f").Uid);
        // S_ISGID is dropped when the owner is not in the file's group
        Assert.Equal(Errno.OK, root.Chown("pub/f", 1000, 100));
        Assert.Equal(Errno.OK, owner.Chmod("pub/f", 0x5A4)); // 02644
        Assert.Equal((FileMode)0x1A4, root.StatOk("pub/f").Mode & FileMode.PermMask);
        Assert.Equal(Errno.OK, root.Chmod("pub/f", 0x5A4));
        Assert.Equal((FileMode)0x5A4, root.StatOk("pub/f").Mode & FileMode.PermMask);
    }

    [Fact(Timeout = T)]
    public async Task Utimens_Permissions()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var root = Root(fs);
        MakeSharedFile(root);
        Assert.Equal(Errno.OK, root.Chmod("pub/f", 0x1B4)); // 0664
        var owner = User(fs, 1000, 1000);
        var writer = User(fs, 2000, 100);
        var other = User(fs, 3000, 3000);
        Assert.Equal(Errno.OK, owner.Utimens("pub/f", Ts(5, 0), Ts(6, 0)));
        Assert.Equal(Errno.EPERM, writer.Utimens("pub/f", Ts(5, 0), Ts(6, 0)));
        Assert.Equal(Errno.OK, writer.Utimens("pub/f", Now, Now));
        Assert.Equal(Errno.EACCES, other.Utimens("pub/f", Now, Now));
        Assert.Equal(Errno.OK, other.Utimens("pub/f", Omit, Omit));
    }

    // ---- xattrs ----

    [Fact(Timeout = T)]
    public async Task Xattrs_SetGetListRemove_WithFlags()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, c.WriteFile("f", "x"));
        var ctime = c.StatOk("f").Ctime;
        Pause();
        Assert.Equal(Errno.OK, c.Setxattr("f", "user.color", B("blue")));
        Later(ctime, c.StatOk("f").Ctime);
        Assert.Equal(Errno.OK, c.Getxattr("f", "user.color", out var v));
        Assert.Equal("blue", Encoding.UTF8.GetString(v));
        Assert.Equal(Errno.EEXIST, c.Setxattr("f", "user.color", B("red"), XattrFlags.Create));
        Assert.Equal(Errno.ENODATA, c.Setxattr("f", "user.size", B("1"), XattrFlags.Replace));
        Assert.Equal(Errno.OK, c.Setxattr("f", "user.color", B("green"), XattrFlags.Replace));
        Assert.Equal(Errno.OK, c.Setxattr("f", "user.empty", []));
        Assert.Equal(Errno.OK, c.Getxattr("f", "user.empty", out v));
        Assert.Empty(v);
        Assert.Equal(Errno.OK, c.Listxattr("f", out var names));
        Assert.Equal(new[] { "user.color", "user.empty" }, names.OrderBy(x => x, StringComparer.Ordinal));
        Assert.Equal(Errno.ERANGE, c.Getxattr("f", "user.color", out _, bufferSize: 2));
        Assert.Equal(Errno.OK, c.Resolve("f", out var node));
        Assert.Equal(Errno.OK, Calls.Getxattr(c.RootProtid, node, B("user.color"), default, out int size));
        Assert.Equal(5, size);
        Assert.Equal(Errno.OK, Calls.Listxattr(c.RootProtid, node, default, out size));
        Assert.Equal(Errno.ERANGE, Calls.Listxattr(c.RootProtid, node, new byte[size - 1], out _));
        Assert.Equal(Errno.OK, c.Removexattr("f", "user.color"));
        Assert.Equal(Errno.ENODATA, c.Removexattr("f", "user.color"));
        Assert.Equal(Errno.ENODATA, c.Getxattr("f", "user.color", out _));
        Assert.Equal(Errno.EINVAL, c.Setxattr("f", "user.x", B("1"), XattrFlags.Create | XattrFlags.Replace));
    }

    [Fact(Timeout = T)]
    public async Task Xattrs_Namespaces_AndLimits()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var root = Root(fs);
        MakeSharedFile(root); // pub/f 1000:100 0640
        var owner = User(fs, 1000, 1000);
        var reader = User(fs, 2000, 100);
        var other = User(fs, 3000, 3000);
        Assert.Equal(Errno.OK, root.Setxattr("pub/f", "trusted.t", B("T")));
        Assert.Equal(Errno.OK, root.Setxattr("pub/f", "security.s", B("S")));
        Assert.Equal(Errno.OK, owner.Setxattr("pub/f", "user.u", B("U")));
        Assert.Equal(Errno.EPERM, owner.Setxattr("pub/f", "trusted.x", B("1")));
        Assert.Equal(Errno.ENODATA, owner.Getxattr("pub/f", "trusted.t", out _));
        Assert.Equal(Errno.EPERM, owner.Setxattr("pub/f", "security.x", B("1")));
        Assert.Equal(Errno.OK, owner.Getxattr("pub/f", "security.s", out var v));
        Assert.Equal("S", Encoding.UTF8.GetString(v));
        Assert.Equal(Errno.OK, owner.Listxattr("pub/f", out var names));
        Assert.DoesNotContain("trusted.t", names);
        Assert.Contains("user.u", names);
        Assert.Equal(Errno.OK, root.Listxattr("pub/f", out names));
        Assert.Contains("trusted.t", names);
        Assert.Equal(Errno.OK, reader.Getxattr("pub/f", "user.u", out _));
        Assert.Equal(Errno.EACCES, reader.Setxattr("pub/f", "user.u", B("no")));
        Assert.Equal(Errno.EACCES, other.Getxattr("pub/f", "user.u", out _));
        Assert.Equal(Errno.EOPNOTSUPP, root.Setxattr("pub/f", "weird.x", B("1")));
        Assert.Equal(Errno.EINVAL, root.Setxattr("pub/f", "user.", B("1")));
        Assert.Equal(Errno.ERANGE, root.Setxattr("pub/f", "user." + new string('n', 251), B("1")));
        Assert.Equal(Errno.E2BIG, root.Setxattr("pub/f", "user.big", new byte[65537]));
        var max = root.Setxattr("pub/f", "user.max", new byte[65536]);
        if (SupportsLargeXattrs) Assert.Equal(Errno.OK, max);
        else Assert.True(max is Errno.ENOSPC or Errno.ERANGE, $"a 64 KiB value: {max}");
        Assert.Equal(Errno.OK, root.Symlink("f", "pub/l"));
        Assert.Equal(Errno.EPERM, root.Setxattr("pub/l", "user.x", B("1"), nofollow: true));
        Assert.Equal(Errno.OK, root.Setxattr("pub/l", "trusted.x", B("1"), nofollow: true));
    }

    // ---- statfs ----

    [Fact(Timeout = T)]
    public async Task Statfs_ReportsSaneNumbers()
    {
        await Task.Yield();
        using var fs = CreateFileSystem();
        var c = Root(fs);
        Assert.Equal(Errno.OK, Calls.FileStatfs(c.RootProtid, out var st));
        Assert.True(st.Bsize > 0);
        Assert.True(st.Blocks >= st.Bfree);
        Assert.True(st.Bfree >= st.Bavail);
        Assert.True(st.Files >= st.Ffree);
        Assert.Equal(255, st.Namelen);
    }
}
