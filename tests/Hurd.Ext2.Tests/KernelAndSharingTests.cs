using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Hurd.Ipc.Abi;

namespace Hurd.Ext2.Tests;

public class KernelAndSharingTests
{
    [DllImport("libc", EntryPoint = "lgetxattr", SetLastError = true)]
    static extern nint LGetXattr(string path, string name, byte[] value, nuint size);

    [Theory(Timeout = 300_000)]
    [InlineData(1024)]
    [InlineData(4096)]
    public async Task KernelLoopMount_ReadsWhatWeWrote_SkipsIfUnavailable(int bs)
    {
        await Task.Yield();
        string img = E2Tools.TempPath(), mnt = E2Tools.TempPath(".mnt");
        bool mounted = false;
        try
        {
            Assert.Equal(Errno.OK, Mkfs.Create(img, 64L << 20, new MkfsOptions { BlockSize = bs }, out _));
            var big = E2Tools.Pattern(2_000_000, 1);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                Assert.Equal(Errno.OK, fs.Mkdir(InodeNumber.Root, "dir", E2Tools.Oct(750), 1000, 1000, out var d));
                Assert.Equal(Errno.OK, fs.Create(d, "big", E2Tools.Oct(640), 1000, 1000, out var b));
                E2Tools.WriteAll(fs, b, 0, big);
                Assert.Equal(Errno.OK, fs.Setxattr(b, "user.note", "kernel, can you read me?"u8));
                Assert.Equal(Errno.OK, fs.Setxattr(b, "user.blob", E2Tools.Pattern(700, 2)));
                Assert.Equal(Errno.OK, fs.Symlink(d, "ln", "big", 0, 0, out _));
                Assert.Equal(Errno.OK, fs.Create(InodeNumber.Root, "sparse", E2Tools.Oct(644), 0, 0, out var s));
                E2Tools.WriteAll(fs, s, 5_000_000, "end"u8);
                for (int i = 0; i < 200; i++) Assert.Equal(Errno.OK, fs.Create(d, $"f{i}", E2Tools.Oct(644), 0, 0, out _));
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
            Directory.CreateDirectory(mnt);
            var r = E2Tools.Run("mount", $"-o loop,ro -t ext2 {img} {mnt}");
            if (Environment.GetEnvironmentVariable("E2_REQUIRE_LOOP") == "1") Assert.True(r.Rc == 0, r.Err);
            if (r.Rc != 0) return; // no loop devices or no permission here: the kernel check is optional
            mounted = true;
            Assert.Equal(big, File.ReadAllBytes(Path.Combine(mnt, "dir/big")));
            Assert.Equal("big", new FileInfo(Path.Combine(mnt, "dir/ln")).LinkTarget);
            var st = E2Tools.LStat(Path.Combine(mnt, "dir/big"));
            Assert.Equal(1000u, st.Uid);
            Assert.Equal((FileMode)0x81A0, st.Mode);
            var buf = new byte[1024];
            nint n = LGetXattr(Path.Combine(mnt, "dir/big"), "user.note", buf, (nuint)buf.Length);
            Assert.Equal("kernel, can you read me?", System.Text.Encoding.UTF8.GetString(buf, 0, (int)n));
            n = LGetXattr(Path.Combine(mnt, "dir/big"), "user.blob", buf, (nuint)buf.Length);
            Assert.Equal(E2Tools.Pattern(700, 2), buf[..(int)n]);
            var sp = File.ReadAllBytes(Path.Combine(mnt, "sparse"));
            Assert.Equal(5_000_003, sp.Length);
            Assert.Equal("end"u8.ToArray(), sp[5_000_000..]);
            Assert.Equal(202, Directory.GetFileSystemEntries(Path.Combine(mnt, "dir")).Length);
        }
        finally
        {
            if (mounted) E2Tools.Run("umount", mnt);
            E2Tools.Delete(mnt);
            E2Tools.Delete(img);
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task SharedXattrBlock_CopyOnWrite_RefcountKept_FsckClean()
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(img, 8L << 20, 1024);
            uint a, b;
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                Assert.Equal(Errno.OK, fs.Create(InodeNumber.Root, "a", E2Tools.Oct(644), 0, 0, out var ia));
                Assert.Equal(Errno.OK, fs.Create(InodeNumber.Root, "b", E2Tools.Oct(644), 0, 0, out var ib));
                Assert.Equal(Errno.OK, fs.Setxattr(ia, "user.shared", E2Tools.Pattern(300, 3)));
                a = ia.Value; b = ib.Value;
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            // Make b share a's xattr block as the kernel's mbcache would: same i_file_acl, refcount 2.
            var stat = E2Tools.DebugfsR(img, "stat /a");
            uint acl = uint.Parse(stat.Split("File ACL: ")[1].Split(' ', '\n')[0]);
            E2Tools.Debugfs(img, $"sif /b file_acl {acl}\nsif /b blocks 2\n", write: true);
            using (var f = new FileStream(img, System.IO.FileMode.Open))
            {
                var rc = new byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(rc, 2);
                f.Position = acl * 1024L + 4; f.Write(rc);
            }
            E2Tools.StrictFsck(img);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                Assert.Equal(Errno.OK, fs.Getxattr(new InodeNumber(b), "user.shared", out var v));
                Assert.Equal(E2Tools.Pattern(300, 3), v);
                // Changing b copies the block; a keeps the original.
                Assert.Equal(Errno.OK, fs.Setxattr(new InodeNumber(b), "user.more", E2Tools.Pattern(200, 4)));
                Assert.Equal(Errno.OK, fs.Getxattr(new InodeNumber(a), "user.shared", out v));
                Assert.Equal(E2Tools.Pattern(300, 3), v);
                Assert.Equal(Errno.ENODATA, fs.Getxattr(new InodeNumber(a), "user.more", out _));
                Assert.Equal(Errno.OK, fs.Link(new InodeNumber(b), InodeNumber.Root, "b2"));
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
            Assert.Contains($"File ACL: {acl}", E2Tools.DebugfsR(img, "stat /a"));
            Assert.DoesNotContain($"File ACL: {acl}", E2Tools.DebugfsR(img, "stat /b"));
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                Assert.Equal(Errno.OK, fs.Unlink(InodeNumber.Root, "b"));
                Assert.Equal(Errno.OK, fs.Unlink(InodeNumber.Root, "b2"));
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
            // Share again (refcount 2), then delete one sharer: the block stays for the other.
            E2Tools.Debugfs(img, $"write /dev/null /c\nsif /c file_acl {acl}\nsif /c blocks 2\n", write: true);
            using (var f = new FileStream(img, System.IO.FileMode.Open))
            {
                var rc = new byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(rc, 2);
                f.Position = acl * 1024L + 4; f.Write(rc);
            }
            E2Tools.StrictFsck(img);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                Assert.Equal(Errno.OK, fs.Unlink(InodeNumber.Root, "a"));
                Assert.Equal(Errno.OK, fs.Getxattr(E2Tools.Resolve(fs, "/c"), "user.shared", out var v));
                Assert.Equal(E2Tools.Pattern(300, 3), v);
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                Assert.Equal(Errno.OK, fs.Removexattr(E2Tools.Resolve(fs, "/c"), "user.shared"));
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
        }
        finally { E2Tools.Delete(img); }
    }

    [Fact(Timeout = 300_000)]
    public async Task Mount_ClearsValid_BumpsCount_Unmount_SetsValid()
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(img, 8L << 20, 1024);
            using var dev = new FileBlockDevice(img);
            var fs = E2Tools.MountOk(dev);
            var d = E2Tools.Run("dumpe2fs", $"-h {img}").Out;
            Assert.Contains("Mount count:              1", d);
            Assert.Contains("not clean", d);
            Assert.NotEqual(0u, fs.Superblock.Mtime);
            Assert.Equal(Errno.OK, fs.Unmount());
            d = E2Tools.Run("dumpe2fs", $"-h {img}").Out;
            Assert.Contains(d.Split('\n'), l => l.StartsWith("Filesystem state:") && l.TrimEnd().EndsWith(" clean"));
            var ro = E2Tools.MountOk(dev, new Ext2MountOptions { ReadOnly = true });
            Assert.Contains("Mount count:              1", E2Tools.Run("dumpe2fs", $"-h {img}").Out);
            Assert.Equal(Errno.EROFS, ro.Mkdir(InodeNumber.Root, "x", E2Tools.Oct(755), 0, 0, out _));
            // fsysopts --writable / --readonly.
            Assert.Equal(Errno.OK, ro.SetReadOnly(false));
            Assert.Contains("not clean", E2Tools.Run("dumpe2fs", $"-h {img}").Out);
            Assert.Equal(Errno.OK, ro.Mkdir(InodeNumber.Root, "x", E2Tools.Oct(755), 0, 0, out _));
            Assert.Equal(Errno.OK, ro.SetReadOnly(true));
            E2Tools.StrictFsck(img);
            Assert.Equal(Errno.EROFS, ro.Rmdir(InodeNumber.Root, "x"));
            Assert.Equal(Errno.OK, ro.Unmount());
            Assert.Equal(Errno.EIO, ro.GetAttr(InodeNumber.Root, out _));
        }
        finally { E2Tools.Delete(img); }
    }
}
