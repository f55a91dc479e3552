using Hurd.Ipc.Abi;

namespace Hurd.Ext2.Tests;

public class MkfsTests
{
    [Theory(Timeout = 300_000)]
    [InlineData(1L << 20, null)]
    [InlineData(8L << 20, null)]
    [InlineData(64L << 20, null)]
    [InlineData(70L << 20, 2048)]
    [InlineData(600L << 20, null)]
    [InlineData(300L << 20, 4096)]
    public async Task OurMkfs_Image_PassesStrictFsck(long size, int? blockSize)
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            long lastDone = 0;
            var err = Mkfs.Create(img, size, new MkfsOptions { BlockSize = blockSize, Progress = (d, t) => lastDone = d }, out var msg);
            Assert.True(err == Errno.OK, msg);
            Assert.True(lastDone > 0);
            E2Tools.StrictFsck(img);
            var info = E2Tools.Run("dumpe2fs", $"-h {img}").Out;
            Assert.Contains("ext_attr", info);
            Assert.Contains("filetype", info);
            Assert.Contains("sparse_super", info);
            Assert.Contains("Inode size:\t          256", info);
            Assert.Contains("lost+found", E2Tools.DebugfsR(img, "ls -l /"));

            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                Assert.Equal(Errno.OK, fs.Mkdir(InodeNumber.Root, "dir", E2Tools.Oct(755), 0, 0, out var d));
                Assert.Equal(Errno.OK, fs.Create(d, "file", E2Tools.Oct(644), 0, 0, out var f));
                E2Tools.WriteAll(fs, f, 0, E2Tools.Pattern(100_000, 1));
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
            Assert.Equal(E2Tools.Pattern(100_000, 1), DebugfsCat(img, "/dir/file"));
        }
        finally { E2Tools.Delete(img); }
    }

    internal static byte[] DebugfsCat(string img, string path)
    {
        string outFile = E2Tools.TempPath(".out");
        try
        {
            E2Tools.DebugfsR(img, $"dump {path} {outFile}");
            return File.ReadAllBytes(outFile);
        }
        finally { E2Tools.Delete(outFile); }
    }

    [Fact(Timeout = 300_000)]
    public async Task MountImage_OwnsDevice_AndParseSize()
    {
        await Task.Yield();
        Assert.True(Mkfs.TryParseSize("64M", out long n)); Assert.Equal(64L << 20, n);
        Assert.True(Mkfs.TryParseSize("2g", out n)); Assert.Equal(2L << 30, n);
        Assert.True(Mkfs.TryParseSize("4096", out n)); Assert.Equal(4096, n);
        Assert.False(Mkfs.TryParseSize("12X", out _));
        Assert.False(Mkfs.TryParseSize("-5M", out _));
        string img = E2Tools.TempPath();
        try
        {
            Assert.Equal(Errno.ENOENT, Ext2Fs.MountImage(img, null, out _, out var msg));
            Assert.Contains(img, msg);
            Assert.Equal(Errno.OK, Mkfs.Create(img, 4L << 20, null, out _));
            Assert.Equal(Errno.OK, Ext2Fs.MountImage(img, null, out var fs, out _));
            using (var owned = fs!) Assert.Equal(Errno.OK, owned.Create(InodeNumber.Root, "x", E2Tools.Oct(644), 0, 0, out _));
            Assert.Equal(Errno.OK, Ext2Fs.MountImage(img, new Ext2MountOptions { ReadOnly = true }, out fs, out _));
            using (var owned = fs!)
            {
                Assert.Equal(Errno.EROFS, owned.Create(InodeNumber.Root, "y", E2Tools.Oct(644), 0, 0, out _));
                Assert.Equal(Errno.OK, owned.SetReadOnly(false));
                Assert.Equal(Errno.OK, owned.Create(InodeNumber.Root, "y", E2Tools.Oct(644), 0, 0, out _));
            }
            E2Tools.StrictFsck(img);
            Assert.Contains(" x", E2Tools.DebugfsR(img, "ls -l /"));
        }
        finally { E2Tools.Delete(img); }
    }

    [Fact(Timeout = 300_000)]
    public async Task OurMkfs_TooSmall_ReturnsEINVAL()
    {
        await Task.Yield();
        var dev = new MemoryBlockDevice(32 * 1024);
        Assert.Equal(Errno.EINVAL, Mkfs.Create(dev, dev.Size, null, out var msg));
        Assert.Contains("too small", msg);
    }

    [Fact(Timeout = 300_000)]
    public async Task OurMkfs_OnSparseMemoryDevice_Mounts()
    {
        await Task.Yield();
        var dev = new SparseMemoryBlockDevice(2L << 30);
        Assert.Equal(Errno.OK, Mkfs.Create(dev, dev.Size, null, out var msg));
        var fs = E2Tools.MountOk(dev);
        Assert.Equal(Errno.OK, fs.StatFs(out var st));
        Assert.Equal(4096, st.Bsize);
        Assert.Equal(Errno.OK, fs.Lookup(InodeNumber.Root, "lost+found", out _));
        Assert.Equal(Errno.OK, fs.Unmount());
    }
}
