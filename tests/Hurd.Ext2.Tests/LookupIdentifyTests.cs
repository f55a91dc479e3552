using Hurd.Ipc.Abi;

namespace Hurd.Ext2.Tests;

/// <summary>The lookup that also names the inode found (generation and type, one read lock), and Identify: they agree
/// with Lookup and GetAttr, and keep their errors apart (the directory's, the name's, the inode's).</summary>
public class LookupIdentifyTests
{
    [Fact(Timeout = 60_000)]
    public Task LookupWithIdentity_AgreesWithGetAttr() => Task.Run(() =>
    {
        var dev = new MemoryBlockDevice(4 << 20);
        Assert.Equal(Errno.OK, Mkfs.Create(dev, dev.Size, new MkfsOptions { BlockSize = 1024 }, out _));
        var fs = E2Tools.MountOk(dev);
        var r = InodeNumber.Root;
        Assert.Equal(Errno.OK, fs.Mkdir(r, "d", E2Tools.Oct(755), 0, 0, out var d));
        Assert.Equal(Errno.OK, fs.Create(d, "f", E2Tools.Oct(644), 0, 0, out var f));
        Assert.Equal(Errno.OK, fs.Symlink(d, "s", "f", 0, 0, out var s));
        foreach (var (dir, name, want) in new[] { (r, "d", d), (d, "f", f), (d, "s", s), (d, "..", r), (d, ".", d) })
        {
            Assert.Equal(Errno.OK, fs.Lookup(dir, System.Text.Encoding.UTF8.GetBytes(name), out var ino, out uint gen, out var type));
            Assert.Equal(want, ino);
            Assert.Equal(Errno.OK, fs.GetAttr(ino, out var st));
            Assert.Equal((st.Generation, st.Mode.Type()), (gen, type));
            Assert.Equal(Errno.OK, fs.Identify(ino, out gen, out type));
            Assert.Equal((st.Generation, st.Mode.Type()), (gen, type));
        }
        Assert.Equal(Errno.ENOENT, fs.Lookup(d, "missing"u8, out var none, out _, out _));
        Assert.Equal(0u, none.Value);
        Assert.Equal(Errno.ENOTDIR, fs.Lookup(f, "x"u8, out none, out _, out _));
        Assert.Equal(0u, none.Value);
        Assert.Equal(Errno.ENAMETOOLONG, fs.Lookup(d, new byte[256], out _, out _, out _));
        // A removed file's inode is not in use: ESTALE, as GetAttr says.
        Assert.Equal(Errno.OK, fs.Unlink(d, "f"u8));
        Assert.Equal(Errno.ESTALE, fs.Identify(f, out _, out _));
        Assert.Equal(Errno.ESTALE, fs.GetAttr(f, out _));
        // A reserved inode is never a file.
        Assert.Equal(Errno.EIO, fs.Identify(new InodeNumber(3), out _, out _));
        Assert.Equal(Errno.OK, fs.Unmount());
    });
}
