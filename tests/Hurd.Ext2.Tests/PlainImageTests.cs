using Hurd.Ipc.Abi;

namespace Hurd.Ext2.Tests;

/// <summary>The "plain" mkfs variants of ext2.md §2.1: no features, 128-byte inodes, revision 0, Hurd.</summary>
public class PlainImageTests
{
    [Theory(Timeout = 300_000)]
    [InlineData("-O none", 1024)]
    [InlineData("-O none -I 128", 1024)]
    [InlineData("-O none,filetype,sparse_super -I 128", 2048)]
    [InlineData("-r 0", 1024)]
    [InlineData("-o hurd", 4096)]
    public async Task PlainImage_ReadWrite_StrictFsckClean(string options, int bs)
    {
        await Task.Yield();
        string src = E2Tools.TempPath(".src"), img = E2Tools.TempPath();
        try
        {
            Directory.CreateDirectory(Path.Combine(src, "sub"));
            File.WriteAllBytes(Path.Combine(src, "sub/data"), E2Tools.Pattern(123_456, 1));
            File.CreateSymbolicLink(Path.Combine(src, "ln"), "sub/data");
            using (var f = new FileStream(img, System.IO.FileMode.Create)) f.SetLength(24L << 20);
            var r = E2Tools.Run("mkfs.ext2", $"-q -F -b {bs} {options} -d {src} {img}");
            Assert.True(r.Rc == 0, r.Err);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                var data = E2Tools.Resolve(fs, "/sub/data");
                Assert.Equal(E2Tools.Pattern(123_456, 1), E2Tools.ReadAll(fs, data));
                Assert.Equal(Errno.OK, fs.ReadLink(E2Tools.Resolve(fs, "/ln"), out var t));
                Assert.Equal("sub/data", E2Tools.Utf8(t));
                var sub = E2Tools.Resolve(fs, "/sub");
                for (int i = 0; i < 60; i++)
                {
                    Assert.Equal(Errno.OK, fs.Create(sub, $"n{i}", E2Tools.Oct(644), 1000, 1000, out var n));
                    E2Tools.WriteAll(fs, n, i * 1000, E2Tools.Pattern(i * 300 + 1, i));
                }
                Assert.Equal(Errno.OK, fs.Mkdir(InodeNumber.Root, "newdir", E2Tools.Oct(755), 0, 0, out var nd));
                // Entry types come from the inodes when the image has no filetype feature.
                Assert.Equal(Errno.OK, fs.List(InodeNumber.Root, out var top));
                Assert.Equal(DirEntryType.Directory, top.Single(e => e.Name == "newdir").Type);
                Assert.Equal(DirEntryType.Symlink, top.Single(e => e.Name == "ln").Type);
                Assert.Equal(Errno.OK, fs.GetAttr(E2Tools.Resolve(fs, "/sub/n1"), out var nst));
                Assert.Equal(1000u, nst.Author);
                Assert.Equal(Errno.OK, fs.Rename(sub, "n5", nd, "moved"));
                Assert.Equal(Errno.OK, fs.Unlink(sub, "n6"));
                Assert.Equal(Errno.OK, fs.Truncate(data, 5000));
                // Past 2 GiB: large_file must get set (these images start without it).
                Assert.Equal(Errno.OK, fs.Create(InodeNumber.Root, "huge", E2Tools.Oct(644), 0, 0, out var huge));
                E2Tools.WriteAll(fs, huge, 3L << 30, "z"u8);
                var tr = "/hurd/hello\0--contents\0hi\0"u8.ToArray();
                var te = fs.SetPassiveTranslator(E2Tools.Resolve(fs, "/ln"), tr);
                Assert.True(te == Errno.OK || (options == "-r 0" && te == Errno.EOPNOTSUPP), te.ToString());
                if (te == Errno.OK)
                {
                    Assert.Equal(Errno.OK, fs.GetPassiveTranslator(E2Tools.Resolve(fs, "/ln"), out var back));
                    Assert.Equal(tr, back);
                }
                Assert.Equal(Errno.ENODATA, fs.GetPassiveTranslator(data, out _));
                var xe = fs.Setxattr(data, "user.k", "v"u8);
                Assert.True(xe == Errno.OK || (options == "-r 0" && xe == Errno.EOPNOTSUPP), xe.ToString());
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
            Assert.Contains("large_file", E2Tools.Run("dumpe2fs", $"-h {img}").Out);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                Assert.Equal(E2Tools.Pattern(5000, 1), E2Tools.ReadAll(fs, E2Tools.Resolve(fs, "/sub/data")));
                Assert.Equal(E2Tools.Pattern(5 * 300 + 1, 5), E2Tools.ReadAll(fs, E2Tools.Resolve(fs, "/newdir/moved"))[5000..]);
                Assert.Equal(Errno.OK, fs.Unmount());
            }
        }
        finally { E2Tools.Delete(src); E2Tools.Delete(img); }
    }
}

public class HurdTranslatorTests
{
    [Fact(Timeout = 300_000)]
    public async Task HurdImage_LegacyTranslatorBlock_ReadThenMovedToXattr_FsckClean()
    {
        await Task.Yield();
        string img = E2Tools.TempPath(), rec = E2Tools.TempPath(".rec");
        try
        {
            using (var f = new FileStream(img, System.IO.FileMode.Create)) f.SetLength(16L << 20);
            Assert.Equal(0, E2Tools.Run("mkfs.ext2", $"-q -F -o hurd {img}").Rc);
            int bs = int.Parse(E2Tools.Run("dumpe2fs", $"-h {img}").Out.Split("Block size:")[1].Split('\n')[0].Trim());
            File.WriteAllBytes(rec, [12, 0, .. "/hurd/hello\0"u8]);
            E2Tools.Debugfs(img, $"write {rec} tmp\nwrite /dev/null x\n", write: true);
            string blk = E2Tools.DebugfsR(img, "bmap /tmp 0").Trim();
            E2Tools.Debugfs(img, $"sif /tmp block[0] 0\nsif /tmp blocks 0\nrm /tmp\nsif /x translator {blk}\nsif /x blocks {bs / 512}\n", write: true);
            E2Tools.StrictFsck(img);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                var x = E2Tools.Resolve(fs, "/x");
                Assert.Equal(Errno.OK, fs.GetPassiveTranslator(x, out var record));
                Assert.Equal("/hurd/hello\0"u8.ToArray(), record);
                Assert.Equal(Errno.OK, fs.SetPassiveTranslator(x, "/hurd/new\0"u8));
                Assert.Equal(Errno.OK, fs.GetPassiveTranslator(x, out record));
                Assert.Equal("/hurd/new\0"u8.ToArray(), record);
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                Assert.Equal(Errno.OK, fs.Unlink(InodeNumber.Root, "x"));
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
        }
        finally { E2Tools.Delete(img); E2Tools.Delete(rec); }
    }
}
