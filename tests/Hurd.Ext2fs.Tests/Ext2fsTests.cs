using System.Text;
using Hurd.Ext2;
using Hurd.Ipc.Abi;
using Hurd.Translators;
using Hurd.Translators.Tests;

namespace Hurd.Ext2fs.Tests;

/// <summary>ext2fs-specific behaviour in process (no mount): the node cache, passive translator records across a
/// remount (read back by debugfs), options (fsysopts), read-only images. Every writing test ends with the strict
/// e2fsck.</summary>
public sealed class Ext2fsTests
{
    const int T = 120_000;

    static string NewImage(int blockSize = 4096)
    {
        string image = E2Tools.TempPath();
        E2Tools.MkfsExt2(image, 32L << 20, blockSize);
        return image;
    }

    [Fact(Timeout = T)]
    public async Task OneInode_IsOneNode_WhileReferenced()
    {
        await Task.Yield();
        string image = NewImage();
        try
        {
            using (var fs = E2Tools.Open(image))
            {
                var c = new PosixClient(fs.Root, Identity.Root);
                Assert.Equal(Errno.OK, c.Mkdir("d"));
                Assert.Equal(Errno.OK, c.WriteFile("d/f", "x"));
                Assert.Equal(Errno.OK, c.Link("d/f", "g"));
                Assert.Equal(Errno.OK, c.Resolve("d/f", out var a));
                Assert.Equal(Errno.OK, c.Resolve("g", out var b));
                Assert.Same(a, b);
                Assert.Equal(Errno.OK, c.Resolve("d/..", out var root));
                Assert.Same(fs.Root, root);
                Assert.Equal(Errno.OK, fs.GetNode(InodeNumber.Root, out var r2));
                Assert.Same(fs.Root, r2);
                // A recycled inode number gets a new node (new generation).
                var old = (Ext2fsNode)a;
                Assert.Equal(Errno.OK, c.Unlink("d/f"));
                Assert.Equal(Errno.OK, c.Unlink("g"));
                Assert.Equal(Errno.OK, c.WriteFile("d/n", "y"));
                Assert.Equal(Errno.OK, c.Resolve("d/n", out var n));
                if (((Ext2fsNode)n).Inode == old.Inode) Assert.NotSame(old, n);
                GC.KeepAlive(old);
            }
            E2Tools.StrictFsck(image);
        }
        finally { E2Tools.Delete(image); }
    }

    [Fact(Timeout = T)]
    public async Task PassiveTranslatorRecord_SurvivesUnmountAndRemount_AndDebugfsReadsIt()
    {
        await Task.Yield();
        string image = NewImage(1024);
        var record = "/hurd/hello\0--contents=hi\0"u8.ToArray();
        try
        {
            using (var fs = E2Tools.Open(image))
            {
                var c = new PosixClient(fs.Root, Identity.Root);
                Assert.Equal(Errno.OK, c.WriteFile("node", "underlying"));
                Assert.Equal(Errno.OK, c.Handle("node", out var p));
                try
                {
                    Assert.Equal(Errno.EINVAL, Calls.FileGetTranslator(p, p.Node, out _));
                    Assert.False(((ITranslatable)p.Node).HasPassiveTranslator);
                    Assert.Equal(Errno.OK, Calls.FileSetTranslator(p, p.Node, record));
                    Assert.True(p.Node.IsTranslated);
                    Assert.Equal(Errno.OK, Calls.IoStat(p, out var st));
                    Assert.True((st.Mode & FileMode.PassiveTranslator) != 0);
                    // The record is not an ordinary xattr for clients.
                    Assert.Equal(Errno.OK, Calls.Listxattr(p, p.Node, default, out int size));
                    Assert.Equal(0, size);
                }
                finally { p.Release(); }
            }
            E2Tools.StrictFsck(image);
            var ea = E2Tools.DebugfsR(image, "ea_get /node gnu.translator");
            Assert.Contains("/hurd/hello\\000--contents=hi\\000", ea);
            using (var fs = E2Tools.Open(image))
            {
                var c = new PosixClient(fs.Root, Identity.Root);
                Assert.Equal(Errno.OK, c.Lookup("node", OpenFlags.Read, out var r));
                Assert.True(r.Translated);
                Assert.Equal(Errno.OK, c.Lookup("node", OpenFlags.Read | OpenFlags.NoTrans, out r));
                Assert.True(r.IsDone);
                var node = r.Node!;
                Assert.True(node.IsTranslated);
                Assert.Equal(Errno.OK, Calls.FileGetTranslator(c.RootProtid, node, out var got));
                Assert.Equal(record, got.ToArray());
                Assert.Equal(Errno.OK, Calls.FileSetTranslator(c.RootProtid, node, default));
                Assert.False(node.IsTranslated);
            }
            E2Tools.StrictFsck(image);
            Assert.DoesNotContain("gnu.translator", E2Tools.DebugfsR(image, "ea_list /node"));
        }
        finally { E2Tools.Delete(image); }
    }

    [Fact(Timeout = T)]
    public async Task Options_AreShownAndChanged_LikeFsysopts()
    {
        await Task.Yield();
        string image = NewImage();
        try
        {
            using (var fs = E2Tools.Open(image))
            {
                static string Args(byte[] argz) => Encoding.UTF8.GetString(argz).TrimEnd('\0').Replace('\0', ' ');
                Assert.Equal($"--writable --sync=30 {image}", Args(fs.GetOptions()));
                var c = new PosixClient(fs.Root, Identity.Root);
                Assert.Equal(Errno.OK, c.WriteFile("a", "1"));

                Assert.Equal(Errno.OK, Calls.FsysSetOptions(fs.Root, "--readonly\0"u8));
                Assert.True(fs.Core.IsReadOnly);
                Assert.Equal($"--readonly --sync=30 {image}", Args(fs.GetOptions()));
                Assert.Equal(Errno.EROFS, c.WriteFile("b", "2"));
                Assert.Equal("1", c.ReadText("a"));
                // The image is clean while read-only (VALID written back).
                E2Tools.StrictFsck(image);

                Assert.Equal(Errno.OK, Calls.FsysSetOptions(fs.Root, "--writable\0--sync\0"u8));
                Assert.True(fs.Core.Synchronous);
                Assert.Equal($"--writable --sync {image}", Args(fs.GetOptions()));
                Assert.Equal(Errno.OK, c.WriteFile("b", "2"));

                Assert.Equal(Errno.OK, Calls.FsysSetOptions(fs.Root, "--sync=5\0"u8));
                Assert.False(fs.Core.Synchronous);
                Assert.Equal(Errno.OK, Calls.FsysSetOptions(fs.Root, "--no-sync\0"u8));
                Assert.Equal($"--writable --no-sync {image}", Args(fs.GetOptions()));

                Assert.Equal(Errno.EINVAL, Calls.FsysSetOptions(fs.Root, "--bogus\0"u8));
                Assert.Equal(Errno.EINVAL, Calls.FsysSetOptions(fs.Root, "/other.img\0"u8));
                Assert.Equal($"--writable --no-sync {image}", Args(fs.GetOptions()));
                Assert.Equal(Errno.OK, Calls.FsysSetOptions(fs.Root, Encoding.UTF8.GetBytes($"--sync=1\0{image}\0")));
                Assert.Equal(Errno.OK, c.WriteFile("c", "3"));
                // The sync thread writes the change back within the interval (polled, no timing asserted).
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while (!E2Tools.DebugfsR(image, "ls /").Contains(" c ") && DateTime.UtcNow < deadline) await Task.Delay(200);
                Assert.Contains(" c ", E2Tools.DebugfsR(image, "ls /"));
            }
            E2Tools.StrictFsck(image);
        }
        finally { E2Tools.Delete(image); }
    }

    [Fact(Timeout = T)]
    public async Task StartupOptions_Parse_AsTheHurdsExt2fs()
    {
        await Task.Yield();
        Assert.Equal(Errno.OK, Ext2fsOptions.Parse(["--readonly", "--sync=10", "img"], null, out var o, runtime: false));
        Assert.True(o.ReadOnly);
        Assert.Equal(10, o.SyncInterval);
        Assert.Equal("img", o.Image);
        Assert.Equal(Errno.OK, Ext2fsOptions.Parse(["-s", "-w", "img"], null, out o, runtime: false));
        Assert.True(o.Synchronous);
        Assert.False(o.ReadOnly);
        Assert.Equal(Errno.OK, Ext2fsOptions.Parse(["--no-sync", "img"], null, out o, runtime: false));
        Assert.Equal(0, o.SyncInterval);
        Assert.Equal(Errno.EINVAL, Ext2fsOptions.Parse(["--readonly"], null, out _, runtime: false));
        Assert.Equal(Errno.EINVAL, Ext2fsOptions.Parse(["--sync=x", "img"], null, out _, runtime: false));
        Assert.Equal(Errno.EINVAL, Ext2fsOptions.Parse(["--what", "img"], null, out _, runtime: false));
    }

    [Fact(Timeout = T)]
    public async Task StatfsAndStat_ComeFromTheImage()
    {
        await Task.Yield();
        string image = NewImage(1024);
        try
        {
            using (var fs = E2Tools.Open(image))
            {
                var c = new PosixClient(fs.Root, Identity.Root);
                Assert.Equal(Errno.OK, c.Open("", OpenFlags.Read, out var p));
                try
                {
                    Assert.Equal(Errno.OK, Calls.FileStatfs(p, out var sfs));
                    Assert.Equal(0xEF53, sfs.Type);
                    Assert.Equal(1024, sfs.Bsize);
                    Assert.Equal(fs.Fsid, sfs.Fsid);
                    Assert.Equal(Errno.OK, Calls.IoStat(p, out var st));
                    Assert.Equal(2ul, st.Ino);
                    Assert.Equal(3u, st.Nlink); // ".", "..", lost+found's ".."
                    Assert.Equal(fs.Fsid, st.Dev);
                }
                finally { p.Release(); }
            }
            E2Tools.StrictFsck(image);
        }
        finally { E2Tools.Delete(image); }
    }
}
