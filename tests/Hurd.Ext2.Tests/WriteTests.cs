using System.Text;
using Hurd.Ipc.Abi;

namespace Hurd.Ext2.Tests;

/// <summary>What the core writes is read back by debugfs and passes the strict e2fsck.</summary>
public class WriteTests
{
    static readonly string SlowTarget = "/some/long/target/" + new string('y', 90);

    static byte[] AclVfs()
    {
        // version 2; USER_OBJ rw-, USER 1000 r--, GROUP_OBJ r--, MASK r--, OTHER ---
        var b = new List<byte>();
        void U16(int v) { b.Add((byte)v); b.Add((byte)(v >> 8)); }
        void U32(uint v) { U16((int)(v & 0xffff)); U16((int)(v >> 16)); }
        U32(2);
        U16(1); U16(6); U32(uint.MaxValue);
        U16(2); U16(4); U32(1000);
        U16(4); U16(4); U32(uint.MaxValue);
        U16(0x10); U16(4); U32(uint.MaxValue);
        U16(0x20); U16(0); U32(uint.MaxValue);
        return b.ToArray();
    }

    [Theory(Timeout = 300_000)]
    [InlineData(1024, false)]
    [InlineData(4096, false)]
    [InlineData(2048, true)]
    public async Task AllOperations_DebugfsReadsBack_StrictFsckClean(int bs, bool ourMkfs)
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            if (ourMkfs) Assert.Equal(Errno.OK, Mkfs.Create(img, 64L << 20, new MkfsOptions { BlockSize = bs }, out _));
            else E2Tools.MkfsExt2(img, 64L << 20, bs);
            var content = E2Tools.Pattern(300_000, 7);
            var t = new TimeSpec(1_600_000_000, 123_456_789);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                var root = InodeNumber.Root;
                Assert.Equal(Errno.OK, fs.Mkdir(root, "a", E2Tools.Oct(755), 0, 0, out var a));
                Assert.Equal(Errno.OK, fs.Mkdir(a, "b", E2Tools.Oct(700), 0, 0, out var b));
                Assert.Equal(Errno.OK, fs.Create(a, "f", E2Tools.Oct(644), 1000, 100, out var f));
                E2Tools.WriteAll(fs, f, 0, content);
                Assert.Equal(Errno.OK, fs.Symlink(a, "fast", "f", 0, 0, out _));
                Assert.Equal(Errno.OK, fs.Symlink(a, "slow", SlowTarget, 0, 0, out _));
                Assert.Equal(Errno.OK, fs.Mknod(a, "null", FileMode.CharDevice | E2Tools.Oct(666), 0, 0, Ext2Format.MakeDev(1, 3), out _));
                Assert.Equal(Errno.OK, fs.Mknod(a, "bigdev", FileMode.CharDevice | E2Tools.Oct(600), 0, 0, Ext2Format.MakeDev(300, 70000), out _));
                Assert.Equal(Errno.OK, fs.Mknod(a, "fifo", FileMode.Fifo | E2Tools.Oct(644), 0, 0, 0, out _));
                Assert.Equal(Errno.OK, fs.Link(f, root, "hard"));
                Assert.Equal(Errno.OK, fs.Setxattr(f, "user.small", "v"u8));
                Assert.Equal(Errno.OK, fs.Setxattr(f, "user.big", E2Tools.Pattern(500, 8)));
                Assert.Equal(Errno.OK, fs.Setxattr(f, "system.posix_acl_access", AclVfs()));
                Assert.Equal(Errno.OK, fs.Setxattr(f, "trusted.t", "tt"u8));
                Assert.Equal(Errno.OK, fs.Setxattr(f, "security.s", "ss"u8));
                Assert.Equal(Errno.EEXIST, fs.Setxattr(f, "user.small", "w"u8, XattrFlags.Create));
                Assert.Equal(Errno.ENODATA, fs.Setxattr(f, "user.nope", "w"u8, XattrFlags.Replace));
                Assert.Equal(Errno.OK, fs.Rename(a, "b", root, "c"));
                var req = new SetAttrRequest { Mask = SetAttrMask.Mtime | SetAttrMask.Atime | SetAttrMask.Mode, Mtime = t, Atime = t, Mode = 0x1A0 };
                Assert.Equal(Errno.OK, fs.SetAttr(f, req));
                // Sparse: one byte at 3 GiB (large_file; triple indirect at 1 KiB).
                Assert.Equal(Errno.OK, fs.Create(root, "sparse", E2Tools.Oct(644), 0, 0, out var sp));
                E2Tools.WriteAll(fs, sp, 3L << 30, "x"u8);
                // Truncate: 500 KB down to 1000 bytes frees the indirect blocks.
                Assert.Equal(Errno.OK, fs.Create(root, "t", E2Tools.Oct(644), 0, 0, out var tr));
                E2Tools.WriteAll(fs, tr, 0, E2Tools.Pattern(500_000, 9));
                Assert.Equal(Errno.OK, fs.Truncate(tr, 1000));
                // Punch a hole.
                Assert.Equal(Errno.OK, fs.Create(root, "p", E2Tools.Oct(644), 0, 0, out var p));
                E2Tools.WriteAll(fs, p, 0, E2Tools.Pattern(100_000, 10));
                Assert.Equal(Errno.OK, fs.Fallocate(p, FallocateMode.PunchHole | FallocateMode.KeepSize, 10_000, 50_000));
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
            Assert.Equal(content, MkfsTests.DebugfsCat(img, "/a/f"));
            var stat = E2Tools.DebugfsR(img, "stat /a/f");
            Assert.Contains("Links: 2", stat);
            Assert.Contains("User:  1000   Group:   100", stat);
            Assert.Contains("Mode:  0640", stat);
            Assert.Equal(t, ReadTests.DebugfsTime(stat, "mtime"));
            var ls = E2Tools.DebugfsR(img, "ls -l /a");
            foreach (var n in new[] { "f", "fast", "slow", "null", "bigdev", "fifo" }) Assert.Contains(" " + n, ls);
            Assert.DoesNotContain(" b\n", ls);
            Assert.Contains("Fast link dest: \"f\"", E2Tools.DebugfsR(img, "stat /a/fast"));
            Assert.Equal(SlowTarget, Encoding.UTF8.GetString(MkfsTests.DebugfsCat(img, "/a/slow")));
            Assert.Contains("Device major/minor number: 01:03", E2Tools.DebugfsR(img, "stat /a/null"));
            Assert.Contains("300:70000", E2Tools.DebugfsR(img, "stat /a/bigdev"));
            var ea = E2Tools.DebugfsR(img, "ea_list /a/f");
            Assert.Contains("user.small", ea);
            Assert.Contains("user.big", ea);
            Assert.Contains("system.posix_acl_access", ea);
            Assert.Contains("trusted.t", ea);
            Assert.Contains("security.s", ea);
            Assert.Contains("large_file", E2Tools.Run("dumpe2fs", $"-h {img}").Out);
            Assert.Contains("Size: 1000", E2Tools.DebugfsR(img, "stat /t"));
            var pdata = MkfsTests.DebugfsCat(img, "/p");
            var expect = E2Tools.Pattern(100_000, 10);
            Array.Clear(expect, 10_000, 50_000);
            Assert.Equal(expect, pdata);

            // And the core reads it all back after a remount.
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                var f = E2Tools.Resolve(fs, "/a/f");
                Assert.Equal(content, E2Tools.ReadAll(fs, f));
                Assert.Equal(Errno.OK, fs.Getxattr(f, "system.posix_acl_access", out var acl));
                Assert.Equal(AclVfs(), acl);
                Assert.Equal(Errno.OK, fs.Getxattr(f, "user.big", out var big));
                Assert.Equal(E2Tools.Pattern(500, 8), big);
                // The getxattr(2)/listxattr(2) shapes.
                Assert.Equal(Errno.OK, fs.Getxattr(f, "user.big"u8, Span<byte>.Empty, out int xs));
                Assert.Equal(500, xs);
                Assert.Equal(Errno.ERANGE, fs.Getxattr(f, "user.big"u8, new byte[10], out _));
                var xb = new byte[600];
                Assert.Equal(Errno.OK, fs.Getxattr(f, "user.big"u8, xb, out xs));
                Assert.Equal(E2Tools.Pattern(500, 8), xb[..xs]);
                Assert.Equal(Errno.OK, fs.Listxattr(f, Span<byte>.Empty, out int lsz));
                var lb = new byte[lsz];
                Assert.Equal(Errno.OK, fs.Listxattr(f, lb, out _));
                Assert.Contains("user.small\0", E2Tools.Utf8(lb));
                Assert.Equal(Errno.ERANGE, fs.Listxattr(f, new byte[3], out _));
                Assert.Equal(Errno.OK, fs.GetAttr(f, out var st));
                Assert.Equal(t, st.Mtime);
                Assert.Equal(Errno.OK, fs.GetAttr(E2Tools.Resolve(fs, "/c"), out st));
                Assert.Equal(2u, st.Nlink);
                Assert.Equal(Errno.OK, fs.Lookup(E2Tools.Resolve(fs, "/c"), "..", out var up));
                Assert.Equal(InodeNumber.Root, up);
                Assert.Equal(Errno.OK, fs.GetAttr(E2Tools.Resolve(fs, "/a"), out st));
                Assert.Equal(2u, st.Nlink);
                var sp = E2Tools.Resolve(fs, "/sparse");
                var one = new byte[1];
                Assert.Equal(Errno.OK, fs.Read(sp, 3L << 30, one, out int n));
                Assert.Equal((byte)'x', one[0]);
                Assert.Equal(Errno.OK, fs.Seek(sp, 0, Ext2Fs.SeekData, out long pos));
                Assert.Equal(3L << 30, pos);
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
        }
        finally { E2Tools.Delete(img); }
    }

    [Fact(Timeout = 300_000)]
    public async Task HtreeDirectory_ModifiedByCore_LosesIndexFlag_FsckClean()
    {
        await Task.Yield();
        string src = E2Tools.TempPath(".src"), img = E2Tools.TempPath();
        try
        {
            Directory.CreateDirectory(Path.Combine(src, "big"));
            // 6000 names of this length give a two-level htree (interior index blocks) at 1 KiB.
            for (int i = 0; i < 6000; i++) File.WriteAllText(Path.Combine(src, "big", $"name-{i:D5}-padding-padding-padding"), "");
            using (var fst = new FileStream(img, System.IO.FileMode.Create)) fst.SetLength(32L << 20);
            Assert.Equal(0, E2Tools.Run("mkfs.ext2", $"-q -F -b 1024 -d {src} {img}").Rc);
            E2Tools.Run("e2fsck", $"-fyD {img}");
            Assert.Contains("Flags: 0x1000", E2Tools.DebugfsR(img, "stat /big"));
            Assert.Contains("Indirect levels: 1", E2Tools.DebugfsR(img, "htree /big"));
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                var big = E2Tools.Resolve(fs, "/big");
                Assert.Equal(Errno.OK, fs.List(big, out var listed));
                Assert.Equal(6002, listed.Count);
                for (int i = 0; i < 6000; i += 7) Assert.Equal(Errno.OK, fs.Unlink(big, $"name-{i:D5}-padding-padding-padding"));
                for (int i = 0; i < 1500; i++) Assert.Equal(Errno.OK, fs.Create(big, $"new-{i}", E2Tools.Oct(644), 0, 0, out _));
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
            Assert.Contains("Flags: 0x0", E2Tools.DebugfsR(img, "stat /big"));
            Assert.Contains("new-1499", E2Tools.DebugfsR(img, "ls /big"));
        }
        finally { E2Tools.Delete(src); E2Tools.Delete(img); }
    }

    [Fact(Timeout = 300_000)]
    public async Task Rename_Semantics()
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(img, 8L << 20, 1024);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                var r = InodeNumber.Root;
                Assert.Equal(Errno.OK, fs.Mkdir(r, "d1", E2Tools.Oct(755), 0, 0, out var d1));
                Assert.Equal(Errno.OK, fs.Mkdir(d1, "sub", E2Tools.Oct(755), 0, 0, out var sub));
                Assert.Equal(Errno.OK, fs.Mkdir(r, "d2", E2Tools.Oct(755), 0, 0, out var d2));
                Assert.Equal(Errno.OK, fs.Create(r, "x", E2Tools.Oct(644), 0, 0, out var x));
                Assert.Equal(Errno.OK, fs.Create(r, "y", E2Tools.Oct(644), 0, 0, out var y));
                Assert.Equal(Errno.EEXIST, fs.Rename(r, "x", r, "y", RenameFlags.NoReplace));
                Assert.Equal(Errno.EINVAL, fs.Rename(r, "d1", sub, "inside"));
                Assert.Equal(Errno.ENOTEMPTY, fs.Rename(r, "d2", r, "d1"));
                Assert.Equal(Errno.EISDIR, fs.Rename(r, "x", r, "d2"));
                Assert.Equal(Errno.ENOTDIR, fs.Rename(r, "d2", r, "x"));
                Assert.Equal(Errno.OK, fs.Rename(r, "x", r, "y", RenameFlags.Exchange));
                Assert.Equal(Errno.OK, fs.Lookup(r, "x", out var nx)); Assert.Equal(y, nx);
                Assert.Equal(Errno.OK, fs.Lookup(r, "y", out var ny)); Assert.Equal(x, ny);
                // Exchange a file with a directory in another parent: link counts follow the directory.
                Assert.Equal(Errno.OK, fs.Rename(r, "x", d1, "sub", RenameFlags.Exchange));
                Assert.Equal(Errno.OK, fs.Lookup(r, "x", out var nsub)); Assert.Equal(sub, nsub);
                Assert.Equal(Errno.OK, fs.Lookup(sub, "..", out var up)); Assert.Equal(r, up);
                // Replace a file: the old one is freed.
                Assert.Equal(Errno.OK, fs.Rename(d1, "sub", r, "y"));
                Assert.Equal(Errno.ESTALE, fs.GetAttr(x, out _));
                // Replace an empty directory with a directory.
                Assert.Equal(Errno.OK, fs.Rename(r, "x", r, "d2"));
                Assert.Equal(Errno.ENOENT, fs.Lookup(r, "x", out _));
                Assert.Equal(Errno.OK, fs.Rename(r, "y", r, "y"));
                Assert.Equal(Errno.ENAMETOOLONG, fs.Rename(r, "y", r, new string('n', 256)));
                Assert.Equal(Errno.ENAMETOOLONG, fs.Create(r, new string('n', 256), E2Tools.Oct(644), 0, 0, out _));
                Assert.Equal(Errno.OK, fs.Create(r, new string('n', 255), E2Tools.Oct(644), 0, 0, out _));
                Assert.Equal(Errno.OK, fs.GetAttr(r, out var rst));
                Assert.Equal(5u, rst.Nlink); // 2 + lost+found, d1, d2
                Assert.Equal(Errno.OK, fs.Mkdir(d1, "deep", E2Tools.Oct(755), 0, 0, out _));
                Assert.Equal(Errno.ENOTEMPTY, fs.Rmdir(r, "d1"));
                Assert.Equal(Errno.OK, fs.Rmdir(d1, "deep"));
                Assert.Equal(Errno.OK, fs.Rmdir(r, "d1"));
                Assert.Equal(Errno.OK, fs.GetAttr(r, out rst));
                Assert.Equal(4u, rst.Nlink);
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
        }
        finally { E2Tools.Delete(img); }
    }

    [Fact(Timeout = 300_000)]
    public async Task UnlinkedWhileOpen_StaysUntilRelease_AndCrashLeavesOrphanCleanedAtMount()
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(img, 8L << 20, 1024);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                Assert.Equal(Errno.OK, fs.Create(InodeNumber.Root, "open1", E2Tools.Oct(644), 0, 0, out var f1));
                E2Tools.WriteAll(fs, f1, 0, E2Tools.Pattern(50_000, 1));
                Assert.Equal(Errno.OK, fs.Acquire(f1));
                Assert.Equal(Errno.OK, fs.Unlink(InodeNumber.Root, "open1"));
                Assert.Equal(Errno.OK, fs.GetAttr(f1, out var st));
                Assert.Equal(0u, st.Nlink);
                Assert.Equal(E2Tools.Pattern(50_000, 1), E2Tools.ReadAll(fs, f1));
                // Remounting read-only and back keeps an open orphan alive.
                Assert.Equal(Errno.OK, fs.SetReadOnly(true));
                Assert.Equal(Errno.OK, fs.SetReadOnly(false));
                Assert.Equal(E2Tools.Pattern(50_000, 1), E2Tools.ReadAll(fs, f1));
                Assert.Equal(f1.Value, fs.Superblock.LastOrphan);
                Assert.Equal(Errno.OK, fs.Release(f1));
                Assert.Equal(Errno.ESTALE, fs.GetAttr(f1, out _));
                Assert.Equal(0u, fs.Superblock.LastOrphan);
                // A second one stays open across a "crash".
                Assert.Equal(Errno.OK, fs.Create(InodeNumber.Root, "open2", E2Tools.Oct(644), 0, 0, out var f2));
                E2Tools.WriteAll(fs, f2, 0, E2Tools.Pattern(300_000, 2));
                Assert.Equal(Errno.OK, fs.Mkdir(InodeNumber.Root, "dir", E2Tools.Oct(755), 0, 0, out var d));
                Assert.Equal(Errno.OK, fs.Acquire(f2));
                Assert.Equal(Errno.OK, fs.Acquire(d));
                Assert.Equal(Errno.OK, fs.Unlink(InodeNumber.Root, "open2"));
                Assert.Equal(Errno.OK, fs.Rmdir(InodeNumber.Root, "dir"));
                Assert.Equal(Errno.OK, fs.Sync());
                Assert.Equal(f2.Value == 0 ? 0u : d.Value, fs.Superblock.LastOrphan);
                fs.Abandon();
            }
            using (var dev = new FileBlockDevice(img))
            {
                Assert.Equal(Errno.OK, Ext2Fs.Mount(dev, null, out var ro, out var msg));
                Assert.True(ro!.IsReadOnly);
                Assert.Contains("not cleanly unmounted", msg);
                Assert.Equal(Errno.OK, ro.Unmount());
                var fs = E2Tools.MountOk(dev, new Ext2MountOptions { Force = true });
                Assert.False(fs.IsReadOnly);
                Assert.Equal(0u, fs.Superblock.LastOrphan);
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
        }
        finally { E2Tools.Delete(img); }
    }

    [Fact(Timeout = 300_000)]
    public async Task ManyUnlinkedWhileOpen_ReleasedOutOfOrder_ChainStaysExact()
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(img, 16L << 20, 1024);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                Assert.Equal(Errno.OK, fs.StatFs(out var before));
                var files = new List<InodeNumber>();
                for (int i = 0; i < 300; i++)
                {
                    Assert.Equal(Errno.OK, fs.Create(InodeNumber.Root, $"o{i}", E2Tools.Oct(644), 0, 0, out var f));
                    if (i % 3 == 0) E2Tools.WriteAll(fs, f, 0, E2Tools.Pattern(3000, i));
                    Assert.Equal(Errno.OK, fs.Acquire(f));
                    files.Add(f);
                }
                foreach (var i in Enumerable.Range(0, 300).OrderBy(i => (i * 7919) % 301)) Assert.Equal(Errno.OK, fs.Unlink(InodeNumber.Root, $"o{i}"));
                // Release in an order unrelated to the chain's; a third stays open across a remount and a sync.
                var order = Enumerable.Range(0, 300).OrderBy(i => (i * 104729) % 307).ToList();
                foreach (var i in order.Take(100)) Assert.Equal(Errno.OK, fs.Release(files[i]));
                Assert.Equal(Errno.OK, fs.SetReadOnly(true));
                Assert.Equal(Errno.OK, fs.SetReadOnly(false));
                foreach (var i in order.Skip(100).Take(100)) Assert.Equal(Errno.OK, fs.Release(files[i]));
                Assert.Equal(Errno.OK, fs.Sync());
                foreach (var i in order.Skip(200)) Assert.Equal(Errno.OK, fs.Release(files[i]));
                Assert.Equal(0u, fs.Superblock.LastOrphan);
                Assert.Equal(Errno.OK, fs.StatFs(out var after));
                Assert.Equal(before.Ffree, after.Ffree);
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
        }
        finally { E2Tools.Delete(img); }
    }

    [Fact(Timeout = 300_000)]
    public async Task FillFreeRefill_AllocatorCursorsReuseFreedSpace_StrictFsckClean()
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(img, 4L << 20, 1024);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                // Fill with files of 1-9 blocks until the blocks or the inodes run out.
                var made = new List<string>();
                for (int i = 0; ; i++)
                {
                    var e = fs.Create(InodeNumber.Root, $"f{i}", E2Tools.Oct(644), 0, 0, out var f);
                    if (e == Errno.ENOSPC) break;
                    Assert.Equal(Errno.OK, e);
                    made.Add($"f{i}");
                    e = fs.Write(f, 0, E2Tools.Pattern(1024 * (1 + i % 9), i), out int w);
                    if (e == Errno.ENOSPC || w < 1024 * (1 + i % 9)) break;
                }
                Assert.Equal(Errno.OK, fs.StatFs(out var full));
                // Free every other file (low inodes and blocks included), then fill again: the freed space is found.
                for (int i = 0; i < made.Count; i += 2) Assert.Equal(Errno.OK, fs.Unlink(InodeNumber.Root, made[i]));
                Assert.Equal(Errno.OK, fs.StatFs(out var freed));
                Assert.True(freed.Bfree > full.Bfree + 100);
                int refilled = 0;
                for (int i = 0; ; i++)
                {
                    var e = fs.Create(InodeNumber.Root, $"g{i}", E2Tools.Oct(644), 0, 0, out var f);
                    if (e == Errno.ENOSPC) break;
                    Assert.Equal(Errno.OK, e);
                    e = fs.Write(f, 0, E2Tools.Pattern(3000, i), out int w);
                    if (e == Errno.ENOSPC || w < 3000) break;
                    refilled++;
                }
                Assert.Equal(Errno.OK, fs.StatFs(out var again));
                Assert.True(refilled > 50);
                Assert.True(again.Bfree < 20 || again.Ffree == 0);
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
        }
        finally { E2Tools.Delete(img); }
    }

    [Fact(Timeout = 300_000)]
    public async Task Features_IncompatRefused_RoCompatReadOnly()
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(img, 8L << 20, 1024);
            E2Tools.DebugfsR(img, "id"); // sanity
            E2Tools.Run("debugfs", $"-w -R \"feature huge_file\" {img}");
            using (var dev = new FileBlockDevice(img))
            {
                Assert.Equal(Errno.OK, Ext2Fs.Mount(dev, null, out var fs, out var msg));
                Assert.True(fs!.IsReadOnly);
                Assert.Contains("huge_file", msg);
                Assert.Equal(Errno.EROFS, fs.Mkdir(InodeNumber.Root, "x", E2Tools.Oct(755), 0, 0, out _));
                Assert.Equal(Errno.EROFS, fs.SetReadOnly(false));
                fs.Unmount();
            }
            E2Tools.Run("debugfs", $"-w -R \"feature -huge_file extent\" {img}");
            using (var dev = new FileBlockDevice(img))
            {
                Assert.Equal(Errno.EINVAL, Ext2Fs.Mount(dev, null, out var fs, out var msg));
                Assert.Null(fs);
                Assert.Contains("extent", msg);
            }
            // Debian's ext4 (extents, 64bit, flex_bg...) is refused; ext3 (a journal) mounts read-only.
            E2Tools.MkfsExt2(img, 16L << 20, 4096, "-t ext4");
            using (var dev = new FileBlockDevice(img))
            {
                Assert.Equal(Errno.EINVAL, Ext2Fs.Mount(dev, null, out _, out var msg));
                Assert.Contains("refusing to mount", msg);
            }
            E2Tools.MkfsExt2(img, 16L << 20, 1024, "-t ext3");
            using (var dev = new FileBlockDevice(img))
            {
                Assert.Equal(Errno.OK, Ext2Fs.Mount(dev, null, out var fs, out var msg));
                Assert.True(fs!.IsReadOnly);
                Assert.Contains("journal", msg);
                Assert.Equal(Errno.OK, fs.List(InodeNumber.Root, out var entries));
                Assert.Contains(entries, e => e.Name == "lost+found");
                fs.Unmount();
            }
        }
        finally { E2Tools.Delete(img); }
    }

    [Fact(Timeout = 300_000)]
    public async Task Fallocate_ZeroRange_SeekDataHole_MemoryDevice()
    {
        await Task.Yield();
        var dev = new MemoryBlockDevice(16 << 20);
        Assert.Equal(Errno.OK, Mkfs.Create(dev, dev.Size, new MkfsOptions { BlockSize = 4096 }, out _));
        var fs = E2Tools.MountOk(dev);
        Assert.Equal(Errno.OK, fs.Create(InodeNumber.Root, "f", E2Tools.Oct(644), 0, 0, out var f));
        Assert.Equal(Errno.OK, fs.Fallocate(f, FallocateMode.Allocate, 0, 40960));
        Assert.Equal(Errno.OK, fs.GetAttr(f, out var st));
        Assert.Equal(40960, st.Size);
        Assert.Equal(80, st.Blocks);
        E2Tools.WriteAll(fs, f, 0, E2Tools.Pattern(40960, 3));
        Assert.Equal(Errno.OK, fs.Fallocate(f, FallocateMode.ZeroRange, 100, 10000));
        var all = E2Tools.ReadAll(fs, f);
        var expect = E2Tools.Pattern(40960, 3);
        Array.Clear(expect, 100, 10000);
        Assert.Equal(expect, all);
        Assert.Equal(Errno.OK, fs.Fallocate(f, FallocateMode.PunchHole | FallocateMode.KeepSize, 8192, 16384));
        Assert.Equal(Errno.OK, fs.Seek(f, 0, Ext2Fs.SeekHole, out long pos));
        Assert.Equal(8192, pos);
        Assert.Equal(Errno.OK, fs.Seek(f, 8192, Ext2Fs.SeekData, out pos));
        Assert.Equal(24576, pos);
        Assert.Equal(Errno.OK, fs.Seek(f, 30000, Ext2Fs.SeekHole, out pos));
        Assert.Equal(40960, pos);
        Assert.Equal(Errno.ENXIO, fs.Seek(f, 40960, Ext2Fs.SeekData, out _));
        // O_APPEND: at the end, whatever the caller thinks the size is.
        Assert.Equal(Errno.OK, fs.Create(InodeNumber.Root, "log", E2Tools.Oct(644), 0, 0, out var log));
        Assert.Equal(Errno.OK, fs.Write(log, Ext2Fs.AppendOffset, "one\n"u8, out int w1, out long e1));
        Assert.Equal(Errno.OK, fs.Write(log, Ext2Fs.AppendOffset, "two\n"u8, out int w2, out long e2));
        Assert.Equal((4, 4L, 4, 8L), (w1, e1, w2, e2));
        Assert.Equal("one\ntwo\n", E2Tools.Utf8(E2Tools.ReadAll(fs, log)));
        Assert.Equal(Errno.EINVAL, fs.Write(log, -5, "x"u8, out _));
        // copy_file_range keeps holes and zeroes what the destination had under them.
        Assert.Equal(Errno.OK, fs.Create(InodeNumber.Root, "copy", E2Tools.Oct(644), 0, 0, out var copy));
        E2Tools.WriteAll(fs, copy, 0, E2Tools.Pattern(50_000, 4));
        Assert.Equal(Errno.OK, fs.CopyFileRange(f, 0, copy, 0, 1 << 20, out long copied));
        Assert.Equal(40960, copied);
        var copiedBytes = E2Tools.ReadAll(fs, copy);
        Assert.Equal(E2Tools.ReadAll(fs, f), copiedBytes[..40960]);
        Assert.Equal(E2Tools.Pattern(50_000, 4)[40960..], copiedBytes[40960..]);
        Assert.Equal(Errno.OK, fs.Seek(copy, 0, Ext2Fs.SeekHole, out pos));
        Assert.Equal(8192, pos);
        Assert.Equal(Errno.OK, fs.StatFs(out var before));
        Assert.Equal(Errno.ENOSPC, fs.Fallocate(f, FallocateMode.Allocate, 1 << 20, 1L << 30));
        Assert.Equal(Errno.OK, fs.StatFs(out var after));
        Assert.Equal(Errno.OK, fs.GetAttr(f, out st));
        Assert.Equal(40960, st.Size);
        Assert.Equal(Errno.OK, fs.Fallocate(f, FallocateMode.KeepSize, 0, 1 << 20));
        Assert.Equal(Errno.OK, fs.GetAttr(f, out st));
        Assert.Equal(40960, st.Size);
        Assert.Equal(80, st.Blocks);
        Assert.Equal(Errno.OK, fs.Unmount());
        // The image on the memory device is a valid filesystem: copy it out and check.
        string img = E2Tools.TempPath();
        try
        {
            File.WriteAllBytes(img, dev.Data);
            E2Tools.StrictFsck(img);
        }
        finally { E2Tools.Delete(img); }
    }
}
