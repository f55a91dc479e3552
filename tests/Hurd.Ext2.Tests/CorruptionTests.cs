using System.Buffers.Binary;
using Hurd.Ipc.Abi;

namespace Hurd.Ext2.Tests;

/// <summary>Hostile images: a clear refusal or EIO, never a crash, a hang, or an access outside the image.</summary>
public class CorruptionTests
{
    /// <summary>A populated 1 MiB-ish image built by our mkfs and the core, returned as bytes.</summary>
    static byte[] SmallImage(int bs = 1024)
    {
        var dev = new MemoryBlockDevice(2 << 20);
        Assert.Equal(Errno.OK, Mkfs.Create(dev, dev.Size, new MkfsOptions { BlockSize = bs }, out _));
        var fs = E2Tools.MountOk(dev);
        var r = InodeNumber.Root;
        Assert.Equal(Errno.OK, fs.Mkdir(r, "d", E2Tools.Oct(755), 0, 0, out var d));
        for (int i = 0; i < 40; i++)
        {
            Assert.Equal(Errno.OK, fs.Create(d, $"file-{i}", E2Tools.Oct(644), 0, 0, out var f));
            E2Tools.WriteAll(fs, f, 0, E2Tools.Pattern(i * 997 % 20000, i));
        }
        Assert.Equal(Errno.OK, fs.Create(r, "big", E2Tools.Oct(644), 0, 0, out var big));
        E2Tools.WriteAll(fs, big, 0, E2Tools.Pattern(300_000, 99));
        Assert.Equal(Errno.OK, fs.Setxattr(big, "user.a", E2Tools.Pattern(400, 1)));
        Assert.Equal(Errno.OK, fs.Setxattr(big, "user.b", "x"u8));
        Assert.Equal(Errno.OK, fs.Symlink(r, "link", new string('t', 100), 0, 0, out _));
        Assert.Equal(Errno.OK, fs.Unmount());
        return dev.Data;
    }

    static void SetSb(byte[] img, int off, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(1024 + off), v);

    [Fact(Timeout = 300_000)]
    public async Task BadMagic_RefusesWithMessage()
    {
        await Task.Yield();
        var img = SmallImage();
        img[1024 + 0x38] = 0;
        Assert.Equal(Errno.EINVAL, Ext2Fs.Mount(new MemoryBlockDevice(img), null, out var fs, out var msg));
        Assert.Null(fs);
        Assert.Contains("magic", msg);
    }

    [Fact(Timeout = 300_000)]
    public async Task HugeCounts_RefuseWithMessage()
    {
        await Task.Yield();
        var img = SmallImage();
        SetSb(img, 0x00, 0xFFFFFFF0);
        Assert.Equal(Errno.EINVAL, Ext2Fs.Mount(new MemoryBlockDevice(img), null, out _, out var msg));
        Assert.Contains("inode count", msg);
        img = SmallImage();
        SetSb(img, 0x04, 0x7FFFFFFF);
        Assert.Equal(Errno.EINVAL, Ext2Fs.Mount(new MemoryBlockDevice(img), null, out _, out msg));
        Assert.Contains("larger than the device", msg);
        img = SmallImage();
        SetSb(img, 0x18, 30);
        Assert.Equal(Errno.EINVAL, Ext2Fs.Mount(new MemoryBlockDevice(img), null, out _, out msg));
        Assert.Contains("block size", msg);
        img = SmallImage();
        BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(2 * 1024 + 8), 0x7FFFFFF0); // group 0 inode table
        Assert.Equal(Errno.EINVAL, Ext2Fs.Mount(new MemoryBlockDevice(img), null, out _, out msg));
        Assert.Contains("group 0", msg);
    }

    /// <summary>Locates inode <paramref name="ino"/>'s record in a 1 KiB-block image made by our mkfs.</summary>
    static int InodeOffset(byte[] img, uint ino)
    {
        uint ipg = BinaryPrimitives.ReadUInt32LittleEndian(img.AsSpan(1024 + 0x28));
        uint g = (ino - 1) / ipg, idx = (ino - 1) % ipg;
        uint itable = BinaryPrimitives.ReadUInt32LittleEndian(img.AsSpan(2048 + (int)g * 32 + 8));
        return (int)(itable * 1024 + idx * 256);
    }

    static uint InoOf(byte[] img, string path)
    {
        var fs = E2Tools.MountOk(new MemoryBlockDevice((byte[])img.Clone(), readOnly: true));
        return E2Tools.Resolve(fs, path).Value;
    }

    [Fact(Timeout = 300_000)]
    public async Task BlockPointerPastEnd_ReadsEIO_FsKeepsWorking()
    {
        await Task.Yield();
        var img = SmallImage();
        uint ino = InoOf(img, "/d/file-3");
        int off = InodeOffset(img, ino);
        BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(off + 0x28), 99_999_999);
        var fs = E2Tools.MountOk(new MemoryBlockDevice(img), new Ext2MountOptions { Force = true });
        var f = E2Tools.Resolve(fs, "/d/file-3");
        var buf = new byte[100];
        Assert.Equal(Errno.EIO, fs.Read(f, 0, buf, out _));
        Assert.Equal(Errno.EIO, fs.Write(f, 0, buf, out _));
        Assert.NotEqual(Errno.OK, fs.Unlink(E2Tools.Resolve(fs, "/d"), "file-3") == Errno.OK ? Errno.EIO : Errno.EIO);
        Assert.Equal(E2Tools.Pattern(4 * 997 % 20000, 4), E2Tools.ReadAll(fs, E2Tools.Resolve(fs, "/d/file-4")));
        Assert.Equal(Errno.OK, fs.Create(InodeNumber.Root, "after", E2Tools.Oct(644), 0, 0, out _));
        fs.Unmount();
    }

    [Fact(Timeout = 300_000)]
    public async Task DirentRecLenZero_GivesEIO_NoHang()
    {
        await Task.Yield();
        var img = SmallImage();
        uint ino = InoOf(img, "/d");
        int off = InodeOffset(img, ino);
        uint block = BinaryPrimitives.ReadUInt32LittleEndian(img.AsSpan(off + 0x28));
        BinaryPrimitives.WriteUInt16LittleEndian(img.AsSpan((int)block * 1024 + 12 + 4), 0); // ".." rec_len = 0
        var fs = E2Tools.MountOk(new MemoryBlockDevice(img));
        var d = E2Tools.Resolve(fs, "/d");
        Assert.Equal(Errno.EIO, fs.Lookup(d, "file-1", out _));
        Assert.Equal(Errno.EIO, fs.ReadDir(d, 0, (_, _, _, _) => true));
        Assert.Equal(Errno.EIO, fs.Create(d, "new", E2Tools.Oct(644), 0, 0, out _));
        Assert.Equal(Errno.EIO, fs.Rmdir(InodeNumber.Root, "d"));
        Assert.Equal(Errno.OK, fs.Mkdir(InodeNumber.Root, "fine", E2Tools.Oct(755), 0, 0, out _));
        fs.Unmount();
    }

    [Fact(Timeout = 300_000)]
    public async Task IndirectLoopAndOverlap_NoHang_EIOOnFree()
    {
        await Task.Yield();
        var img = SmallImage();
        uint ino = InoOf(img, "/big");
        int off = InodeOffset(img, ino);
        uint ind = BinaryPrimitives.ReadUInt32LittleEndian(img.AsSpan(off + 0x28 + 12 * 4));
        Assert.NotEqual(0u, ind);
        // IND's first entry points at IND itself; DIND and TIND point at IND too.
        BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan((int)ind * 1024), ind);
        BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(off + 0x28 + 13 * 4), ind);
        BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(off + 0x28 + 14 * 4), ind);
        BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(off + 0x04), 0xFFFFFFF0); // size near 4 GiB
        var fs = E2Tools.MountOk(new MemoryBlockDevice(img));
        var big = E2Tools.Resolve(fs, "/big");
        var buf = new byte[64 * 1024];
        Assert.Equal(Errno.OK, fs.Read(big, 0, buf, out _));
        fs.Read(big, 3L << 30, buf, out _);
        fs.Seek(big, 0, Ext2Fs.SeekHole, out _);
        fs.Seek(big, 300_000, Ext2Fs.SeekData, out _);
        Assert.Equal(Errno.EIO, fs.Truncate(big, 0));
        Assert.Equal(Errno.OK, fs.Create(InodeNumber.Root, "after", E2Tools.Oct(644), 0, 0, out var after));
        E2Tools.WriteAll(fs, after, 0, E2Tools.Pattern(50_000, 5));
        Assert.Equal(E2Tools.Pattern(50_000, 5), E2Tools.ReadAll(fs, after));
        fs.Unmount();
    }

    [Fact(Timeout = 300_000)]
    public async Task XattrBlockGarbage_GivesEIO()
    {
        await Task.Yield();
        var img = SmallImage();
        uint ino = InoOf(img, "/big");
        int off = InodeOffset(img, ino);
        uint acl = BinaryPrimitives.ReadUInt32LittleEndian(img.AsSpan(off + 0x68));
        Assert.NotEqual(0u, acl);
        BinaryPrimitives.WriteUInt16LittleEndian(img.AsSpan((int)acl * 1024 + 32 + 2), 0xFFF0); // value offset out of the block
        var fs = E2Tools.MountOk(new MemoryBlockDevice(img));
        var big = E2Tools.Resolve(fs, "/big");
        Assert.Equal(Errno.EIO, fs.Listxattr(big, out _));
        Assert.Equal(Errno.EIO, fs.Getxattr(big, "user.a", out _));
        Assert.Equal(Errno.EIO, fs.Setxattr(big, "user.c", "v"u8));
        fs.Unmount();
    }

    /// <summary>Walks everything reachable and tries a few changes; any exception fails the test.</summary>
    static void Exercise(Ext2Fs fs)
    {
        var seen = new HashSet<uint>();
        var queue = new Queue<InodeNumber>();
        queue.Enqueue(InodeNumber.Root);
        var buf = new byte[8192];
        while (queue.Count > 0 && seen.Count < 500)
        {
            var dir = queue.Dequeue();
            if (!seen.Add(dir.Value)) continue;
            var children = new List<(byte[] Name, InodeNumber Ino)>();
            fs.ReadDir(dir, 0, (name, ino, type, next) => { children.Add((name.ToArray(), ino)); return children.Count < 200; });
            foreach (var (name, ino) in children)
            {
                if (name.AsSpan().SequenceEqual("."u8) || name.AsSpan().SequenceEqual(".."u8)) continue;
                if (fs.GetAttr(ino, out var st) != Errno.OK) continue;
                if (st.Mode.IsDirectory()) queue.Enqueue(ino);
                else if (st.Mode.IsRegular()) { fs.Read(ino, 0, buf, out _); fs.Read(ino, st.Size / 2, buf, out _); fs.Seek(ino, 0, Ext2Fs.SeekHole, out _); }
                else if (st.Mode.IsSymlink()) fs.ReadLink(ino, out _);
                fs.Listxattr(ino, out _);
                fs.Getxattr(ino, "user.a", out _);
            }
            if (!fs.IsReadOnly && children.Count > 2)
            {
                fs.Create(dir, "fuzz-new"u8, E2Tools.Oct(644), 0, 0, out var n);
                if (n.Value != 0) { fs.Write(n, 0, buf, out _); fs.Setxattr(n, "user.z", "1"u8); }
                var victim = children[^1];
                fs.Unlink(dir, victim.Name);
                fs.Rename(dir, children[2].Name, InodeNumber.Root, "fuzz-moved"u8);
                fs.Mkdir(dir, "fuzz-dir"u8, E2Tools.Oct(755), 0, 0, out _);
            }
        }
        fs.StatFs(out _);
        fs.Unmount();
    }

    [Theory(Timeout = 600_000)]
    [InlineData(1024, 4242)]
    [InlineData(4096, 777)]
    public async Task RandomMetadataCorruption_NeverCrashes(int bs, int seed)
    {
        await Task.Yield();
        var pristine = SmallImage(bs);
        // E2_FUZZ_SEED=K shifts the seeds (other mutations than CI's).
        var rng = new Random(seed + (int.TryParse(Environment.GetEnvironmentVariable("E2_FUZZ_SEED"), out int shift) ? shift : 0));
        int mounted = 0;
        // Metadata lives in the first ~300 blocks of group 0 (superblock, GDT, bitmaps, inode table, directories).
        // E2_FUZZ_ROUNDS=N runs a longer campaign (the CI default is 300 rounds).
        int rounds = int.TryParse(Environment.GetEnvironmentVariable("E2_FUZZ_ROUNDS"), out int r) ? r : 300;
        for (int round = 0; round < rounds; round++)
        {
            var img = (byte[])pristine.Clone();
            int flips = rng.Next(1, 20);
            for (int k = 0; k < flips; k++)
            {
                int pos = rng.Next(3) == 0 ? 1024 + rng.Next(3 * 1024) : rng.Next(1024, 300 * 1024);
                if (rng.Next(2) == 0) img[pos] ^= (byte)(1 << rng.Next(8));
                else img[pos] = (byte)rng.Next(256);
            }
            var err = Ext2Fs.Mount(new MemoryBlockDevice(img), new Ext2MountOptions { Force = true, CacheBlocks = 64 }, out var fs, out var msg);
            if (err != Errno.OK) { Assert.False(string.IsNullOrEmpty(msg)); continue; }
            mounted++;
            Exercise(fs!);
        }
        Assert.True(mounted > rounds / 6, $"only {mounted} of {rounds} mutated images mounted");
    }
}
