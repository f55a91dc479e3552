using System.Text;
using Hurd.Ipc.Abi;

namespace Hurd.Ext2.Tests;

/// <summary>Images made by Debian's mkfs.ext2 (-d) and debugfs read back exactly.</summary>
public class ReadTests
{
    static readonly string SlowTarget = "a-rather-long-symlink-target/" + new string('x', 70) + "/end";

    /// <summary>False when the host filesystem under the temp directory refuses user xattrs.</summary>
    static bool HostXattrs;

    /// <summary>Builds a host tree with every kind of node mkfs -d copies.</summary>
    static void BuildSourceTree(string src)
    {
        Directory.CreateDirectory(src);
        File.WriteAllBytes(Path.Combine(src, "empty"), []);
        File.WriteAllText(Path.Combine(src, "small.txt"), "hello, ext2!\n");
        File.WriteAllBytes(Path.Combine(src, "mid.bin"), E2Tools.Pattern(5000, 2));
        File.WriteAllBytes(Path.Combine(src, "ind.bin"), E2Tools.Pattern(70_000, 3));
        File.WriteAllBytes(Path.Combine(src, "dind.bin"), E2Tools.Pattern(400_000, 4));
        Directory.CreateDirectory(Path.Combine(src, "sub/deeper"));
        File.WriteAllText(Path.Combine(src, "sub/deeper/file.txt"), "deep\n");
        File.CreateSymbolicLink(Path.Combine(src, "fast"), "small.txt");
        File.CreateSymbolicLink(Path.Combine(src, "slow"), SlowTarget);
        File.WriteAllText(Path.Combine(src, "hard1"), "linked\n");
        Assert.Equal(0, E2Tools.Run("ln", $"{Path.Combine(src, "hard1")} {Path.Combine(src, "hard2")}").Rc);
        Assert.Equal(0, E2Tools.MkNod(Path.Combine(src, "fifo"), 0x1000 | 0x1A4, 0));
        if (E2Tools.IsRoot)
        {
            Assert.Equal(0, E2Tools.MkNod(Path.Combine(src, "null"), 0x2000 | 0x1B6, Ext2Format.MakeDev(1, 3)));
            Assert.Equal(0, E2Tools.MkNod(Path.Combine(src, "bigdev"), 0x6000 | 0x180, Ext2Format.MakeDev(300, 70000)));
        }
        string owned = Path.Combine(src, "owned");
        File.WriteAllText(owned, "mine\n");
        File.SetUnixFileMode(owned, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        if (E2Tools.IsRoot) Assert.Equal(0, E2Tools.LChown(owned, 1234, 5678));
        File.SetLastWriteTimeUtc(owned, new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1234567));
        string x = Path.Combine(src, "small.txt");
        HostXattrs = E2Tools.LSetXattr(x, "user.color", "blue"u8.ToArray(), 4, 0) == 0
            && E2Tools.LSetXattr(x, "user.big", E2Tools.Pattern(600, 5), 600, 0) == 0;
        string big = Path.Combine(src, "big");
        Directory.CreateDirectory(big);
        for (int i = 0; i < 3000; i++) File.WriteAllText(Path.Combine(big, $"entry-{i:D5}-with-a-longer-name"), i.ToString());
    }

    [Theory(Timeout = 300_000)]
    [InlineData(1024)]
    [InlineData(2048)]
    [InlineData(4096)]
    public async Task MkfsD_Tree_ReadsBackExactly(int bs)
    {
        await Task.Yield();
        string src = E2Tools.TempPath(".src"), img = E2Tools.TempPath();
        try
        {
            BuildSourceTree(src);
            using (var f = new FileStream(img, System.IO.FileMode.Create)) f.SetLength(64L << 20);
            var r = E2Tools.Run("mkfs.ext2", $"-q -F -b {bs} -d {src} {img}", timeoutMs: 240_000);
            Assert.True(r.Rc == 0, r.Err);
            // mkfs -d 1.47.0 writes linear directories; e2fsck -D turns /big into an htree, as the kernel would.
            E2Tools.Run("e2fsck", $"-fyD {img}", timeoutMs: 240_000);
            Assert.Contains("Flags: 0x1000", E2Tools.DebugfsR(img, "stat /big"));
            using var dev = new FileBlockDevice(img, readOnly: true);
            var fs = E2Tools.MountOk(dev);
            Assert.True(fs.IsReadOnly);
            CompareTree(fs, src, "");
            // mkfs -d 1.47.0 keeps whole seconds only; the on-disk fields (extra included) must match debugfs's view.
            foreach (var p in new[] { "/owned", "/ind.bin", "/sub/deeper/file.txt", "/big" })
            {
                Assert.Equal(Errno.OK, fs.GetAttr(E2Tools.Resolve(fs, p), out var pst));
                var dst = E2Tools.DebugfsR(img, $"stat {p}");
                Assert.Equal(DebugfsTime(dst, "mtime"), pst.Mtime);
                Assert.Equal(DebugfsTime(dst, "ctime"), pst.Ctime);
                Assert.Equal(DebugfsTime(dst, "atime"), pst.Atime);
            }
            Assert.Equal(Errno.OK, fs.List(E2Tools.Resolve(fs, "/big"), out var entries));
            Assert.Equal(3002, entries.Count);
            // xattrs copied by mkfs -d: one small (in the inode), one large (in a block at 1 KiB).
            var small = E2Tools.Resolve(fs, "/small.txt");
            if (!HostXattrs) { Assert.Equal(Errno.OK, fs.Unmount()); return; }
            Assert.Equal(Errno.OK, fs.Getxattr(small, "user.color", out var color));
            Assert.Equal("blue", E2Tools.Utf8(color));
            Assert.Equal(Errno.OK, fs.Getxattr(small, "user.big", out var bigx));
            Assert.Equal(E2Tools.Pattern(600, 5), bigx);
            Assert.Equal(Errno.OK, fs.Listxattr(small, out var names));
            Assert.Contains("user.color", names);
            Assert.Equal(Errno.EROFS, fs.Create(InodeNumber.Root, "nope", E2Tools.Oct(644), 0, 0, out _));
            Assert.Equal(Errno.OK, fs.Unmount());
        }
        finally { E2Tools.Delete(src); E2Tools.Delete(img); }
    }

    static void CompareTree(Ext2Fs fs, string hostRoot, string rel)
    {
        foreach (var host in Directory.EnumerateFileSystemEntries(Path.Combine(hostRoot, rel)))
        {
            string name = Path.GetFileName(host);
            string r = rel.Length == 0 ? name : rel + "/" + name;
            var h = E2Tools.LStat(host);
            var ino = E2Tools.Resolve(fs, "/" + r);
            Assert.Equal(Errno.OK, fs.GetAttr(ino, out var st));
            Assert.True(h.Mode == st.Mode, $"{r}: mode {st.Mode:X} != host {h.Mode:X}");
            Assert.True(h.Uid == st.Uid && h.Gid == st.Gid, $"{r}: owner");
            Assert.True(h.Nlink == st.Nlink, $"{r}: nlink {st.Nlink} != {h.Nlink}");
            Assert.True(h.Mtime.Sec == st.Mtime.Sec, $"{r}: mtime {st.Mtime} != {h.Mtime}");
            var type = h.Mode.Type();
            if (type == FileMode.Regular)
            {
                Assert.Equal(h.Size, st.Size);
                Assert.True(File.ReadAllBytes(host).AsSpan().SequenceEqual(E2Tools.ReadAll(fs, ino)), $"{r}: contents");
            }
            else if (type == FileMode.Symlink)
            {
                Assert.Equal(Errno.OK, fs.ReadLink(ino, out var target));
                Assert.Equal(new FileInfo(host).LinkTarget, E2Tools.Utf8(target));
            }
            else if (type is FileMode.CharDevice or FileMode.BlockDevice) Assert.Equal(h.Rdev, st.Rdev);
            else if (type == FileMode.Directory && name != "big") CompareTree(fs, hostRoot, r);
        }
    }

    /// <summary>Parses debugfs's "mtime: 0xSSSSSSSS:EEEEEEEE" line.</summary>
    internal static TimeSpec DebugfsTime(string stat, string field)
    {
        foreach (var line in stat.Split('\n'))
        {
            var t = line.Trim();
            if (!t.StartsWith(field + ":")) continue;
            var hex = t[(field.Length + 1)..].Trim().Split(' ')[0].Split(':');
            long sec = (int)Convert.ToUInt32(hex[0], 16);
            uint extra = hex.Length > 1 ? Convert.ToUInt32(hex[1], 16) : 0;
            return new TimeSpec(sec + ((long)(extra & 3) << 32), extra >> 2);
        }
        throw new InvalidOperationException($"no {field} in debugfs stat");
    }

    [Theory(Timeout = 300_000)]
    [InlineData(1024)]
    [InlineData(2048)]
    [InlineData(4096)]
    public async Task DebugfsFilled_Image_ReadsBackExactly(int bs)
    {
        await Task.Yield();
        string img = E2Tools.TempPath(), dir = E2Tools.TempPath(".host");
        try
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "hello.txt"), "hello from debugfs\n");
            File.WriteAllBytes(Path.Combine(dir, "val.bin"), E2Tools.Pattern(600, 9));
            string sparse = Path.Combine(dir, "sparse");
            using (var f = new FileStream(sparse, System.IO.FileMode.Create))
            {
                f.SetLength(5L << 30);
                f.Position = 1000; f.Write("tail\n"u8);
                f.Position = 4L << 30; f.Write("hello\n"u8);
            }
            E2Tools.MkfsExt2(img, 64L << 20, bs);
            E2Tools.Debugfs(img, $"""
                mkdir /dir
                write {dir}/hello.txt /dir/hello.txt
                symlink /dir/fast hello.txt
                symlink /dir/slow {SlowTarget}
                ln /dir/hello.txt /hardlink
                sif /dir/hello.txt links_count 2
                sif /dir/hello.txt uid 1000
                sif /dir/hello.txt gid 2000
                sif /dir/hello.txt mode 0100600
                write {sparse} /sparse
                ea_set /dir/hello.txt user.small tiny
                ea_set -f {dir}/val.bin /dir/hello.txt user.large
                cd /dir
                mknod null c 1 3
                mknod bigdev c 1 1
                sif bigdev block[0] 0
                sif bigdev block[1] 0x11112c70
                mknod fifo p
                mknod disk b 8 1
                """, write: true);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                var hello = E2Tools.Resolve(fs, "/dir/hello.txt");
                Assert.Equal("hello from debugfs\n", E2Tools.Utf8(E2Tools.ReadAll(fs, hello)));
                Assert.Equal(hello, E2Tools.Resolve(fs, "/hardlink"));
                Assert.Equal(Errno.OK, fs.GetAttr(hello, out var st));
                Assert.Equal(2u, st.Nlink);
                Assert.Equal(1000u, st.Uid);
                Assert.Equal(2000u, st.Gid);
                Assert.Equal((FileMode)0x8180, st.Mode);
                var dstat = E2Tools.DebugfsR(img, "stat /dir/hello.txt");
                Assert.Equal(DebugfsTime(dstat, "mtime"), st.Mtime);
                Assert.Equal(DebugfsTime(dstat, "ctime"), st.Ctime);
                Assert.Equal(Errno.OK, fs.Getxattr(hello, "user.small", out var v));
                Assert.Equal("tiny", E2Tools.Utf8(v));
                Assert.Equal(Errno.OK, fs.Getxattr(hello, "user.large", out v));
                Assert.Equal(E2Tools.Pattern(600, 9), v);
                Assert.Equal(Errno.ENODATA, fs.Getxattr(hello, "user.none", out _));
                Assert.Equal(Errno.OK, fs.ReadLink(E2Tools.Resolve(fs, "/dir/fast"), out var t));
                Assert.Equal("hello.txt", E2Tools.Utf8(t));
                Assert.Equal(Errno.OK, fs.ReadLink(E2Tools.Resolve(fs, "/dir/slow"), out t));
                Assert.Equal(SlowTarget, E2Tools.Utf8(t));
                Assert.Equal(Errno.OK, fs.GetAttr(E2Tools.Resolve(fs, "/dir/null"), out st));
                Assert.Equal(FileMode.CharDevice, st.Mode.Type());
                Assert.Equal(Ext2Format.MakeDev(1, 3), st.Rdev);
                Assert.Equal(Errno.OK, fs.GetAttr(E2Tools.Resolve(fs, "/dir/bigdev"), out st));
                Assert.Equal(Ext2Format.MakeDev(300, 70000), st.Rdev);
                Assert.Equal(Errno.OK, fs.GetAttr(E2Tools.Resolve(fs, "/dir/disk"), out st));
                Assert.Equal(FileMode.BlockDevice, st.Mode.Type());
                Assert.Equal(Ext2Format.MakeDev(8, 1), st.Rdev);
                Assert.Equal(Errno.OK, fs.GetAttr(E2Tools.Resolve(fs, "/dir/fifo"), out st));
                Assert.Equal(FileMode.Fifo, st.Mode.Type());

                // The sparse file: data at 1000 and at 4 GiB (triple indirect with 1 KiB blocks), holes between.
                var sp = E2Tools.Resolve(fs, "/sparse");
                Assert.Equal(Errno.OK, fs.GetAttr(sp, out st));
                Assert.Equal(5L << 30, st.Size);
                var buf = new byte[6];
                Assert.Equal(Errno.OK, fs.Read(sp, 4L << 30, buf, out int n));
                Assert.Equal("hello\n", Encoding.ASCII.GetString(buf, 0, n));
                Assert.Equal(Errno.OK, fs.Read(sp, 1000, buf.AsSpan(0, 5), out n));
                Assert.Equal("tail\n", Encoding.ASCII.GetString(buf, 0, 5));
                Assert.Equal(Errno.OK, fs.Read(sp, 2L << 30, buf, out n));
                Assert.All(buf, b => Assert.Equal(0, b));
                Assert.Equal(Errno.OK, fs.Seek(sp, 0, Ext2Fs.SeekHole, out long pos));
                Assert.Equal(bs, pos);
                Assert.Equal(Errno.OK, fs.Seek(sp, bs, Ext2Fs.SeekData, out pos));
                Assert.Equal(4L << 30, pos);
                Assert.Equal(Errno.ENXIO, fs.Seek(sp, (4L << 30) + bs, Ext2Fs.SeekData, out _));

                // Now change it: shrink the sparse file below the triple-indirect range, unlink a link.
                Assert.Equal(Errno.OK, fs.Truncate(sp, 3000));
                Assert.Equal(Errno.OK, fs.GetAttr(sp, out st));
                Assert.Equal(bs / 512, (int)st.Blocks);
                Assert.Equal(Errno.OK, fs.Unlink(InodeNumber.Root, "hardlink"));
                Assert.Equal(Errno.OK, fs.Removexattr(hello, "user.large"));
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
            Assert.Contains("Links: 1", E2Tools.DebugfsR(img, "stat /dir/hello.txt"));
        }
        finally { E2Tools.Delete(img); E2Tools.Delete(dir); }
    }
}
