using System.Security.Cryptography;
using Hurd.Ipc.Abi;
using IOFileMode = System.IO.FileMode;

namespace Hurd.Ext2;

/// <summary>Options for <see cref="Mkfs"/> (defaults follow Debian's mke2fs.conf).</summary>
public sealed class MkfsOptions
{
    /// <summary>1024, 2048 or 4096; default 1024 under 512 MiB, else 4096.</summary>
    public int? BlockSize { get; init; }
    /// <summary>Bytes per inode; default 8192 under 3 MiB ("floppy"), 4096 under 512 MiB ("small"), else 16384.</summary>
    public int? InodeRatio { get; init; }
    /// <summary>Inode record size, 128 or 256 (default 256).</summary>
    public int InodeSize { get; init; } = 256;
    /// <summary>Set the dir_index feature (this core never builds htrees; it only keeps the flag rule).</summary>
    public bool DirIndex { get; init; } = true;
    /// <summary>Volume label (up to 16 bytes).</summary>
    public string Label { get; init; } = "";
    /// <summary>Creation time; default now.</summary>
    public TimeSpec? Time { get; init; }
    /// <summary>Called after each group as (groups done, groups total).</summary>
    public Action<long, long>? Progress { get; init; }
}

/// <summary>
/// Our mkfs.ext2: revision 1, 256-byte inodes with nanosecond times, features ext_attr, dir_index,
/// filetype, sparse_super, large_file (no resize_inode: that feature is left off), a root directory
/// and lost+found. The result passes <c>e2fsck -fn</c> and mounts on Linux.
/// </summary>
public static class Mkfs
{
    /// <summary>Parses a size such as "512M", "4G", "100k" or "1048576" (binary units); false if malformed.</summary>
    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        text = text.Trim();
        if (text.Length == 0) return false;
        long mul = char.ToUpperInvariant(text[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, 'T' => 1L << 40, _ => 1 };
        string digits = mul == 1 ? text : text[..^1];
        if (!long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n)) return false;
        if (n > long.MaxValue / mul) return false;
        bytes = n * mul;
        return bytes > 0;
    }

    /// <summary>Creates (or truncates) the image file <paramref name="path"/> at <paramref name="sizeBytes"/> and formats it.</summary>
    public static Errno Create(string path, long sizeBytes, MkfsOptions? options, out string message)
    {
        message = "";
        try
        {
            using (var fs = new FileStream(path, IOFileMode.OpenOrCreate, FileAccess.ReadWrite))
            {
                fs.SetLength(0);
                fs.SetLength(sizeBytes);
            }
        }
        catch (IOException e) { message = e.Message; return Errno.EIO; }
        catch (UnauthorizedAccessException e) { message = e.Message; return Errno.EACCES; }
        using var dev = new FileBlockDevice(path);
        return Create(dev, sizeBytes, options, out message, deviceIsZeroed: true);
    }

    /// <summary>
    /// Formats <paramref name="dev"/> to <paramref name="sizeBytes"/> (at most the device size).
    /// With <paramref name="deviceIsZeroed"/> false the inode tables are written out as zeros.
    /// EINVAL with a message if the size or options cannot make a filesystem.
    /// </summary>
    public static Errno Create(IBlockDevice dev, long sizeBytes, MkfsOptions? options, out string message, bool deviceIsZeroed = false)
    {
        options ??= new MkfsOptions();
        message = "";
        if (sizeBytes > dev.Size) { message = "size is larger than the device"; return Errno.EINVAL; }
        int bs = options.BlockSize ?? (sizeBytes < 512L << 20 ? 1024 : 4096);
        if (bs is not (1024 or 2048 or 4096)) { message = "block size must be 1024, 2048 or 4096"; return Errno.EINVAL; }
        int isz = options.InodeSize;
        if (isz is not (128 or 256)) { message = "inode size must be 128 or 256"; return Errno.EINVAL; }
        int ratio = options.InodeRatio ?? (sizeBytes < 3L << 20 ? 8192 : sizeBytes < 512L << 20 ? 4096 : 16384);
        if (ratio < bs) ratio = bs;
        long blocks64 = sizeBytes / bs;
        if (blocks64 > uint.MaxValue) blocks64 = uint.MaxValue;
        uint blocks = (uint)blocks64;
        uint fdb = bs == 1024 ? 1u : 0u;
        uint bpg = (uint)(8 * bs);
        uint inodesPerBlock = (uint)(bs / isz);
        uint groups, ipg, itableBlocks, gdtBlocks;
        while (true)
        {
            if (blocks < fdb + 64) { message = $"{sizeBytes} bytes is too small for an ext2 filesystem"; return Errno.EINVAL; }
            groups = (blocks - fdb + bpg - 1) / bpg;
            ulong inodes = Math.Max(16UL, (ulong)blocks * (ulong)bs / (ulong)ratio);
            ipg = (uint)((inodes + groups - 1) / groups);
            ipg = (ipg + inodesPerBlock - 1) / inodesPerBlock * inodesPerBlock;
            ipg = (ipg + 7) / 8 * 8;
            ipg = Math.Min(ipg, bpg);
            if (ipg < 16) ipg = 16;
            itableBlocks = ipg / inodesPerBlock;
            gdtBlocks = (groups * 32 + (uint)bs - 1) / (uint)bs;
            uint last = blocks - fdb - (groups - 1) * bpg;
            uint overhead = (Ext2Fs.GroupHasSuper(groups - 1, true) ? 1 + gdtBlocks : 0) + 2 + itableBlocks;
            if (groups > 1 && last < overhead + 50) { blocks -= last; continue; }
            if (groups == 1 && last < overhead + 1 + 16) { message = $"{sizeBytes} bytes is too small for an ext2 filesystem"; return Errno.EINVAL; }
            break;
        }
        if ((ulong)ipg * groups > uint.MaxValue) { message = "too many inodes"; return Errno.EINVAL; }

        var now = options.Time ?? TimeSpec.Now();
        var sbRaw = new byte[1024];
        var sb = new Superblock(sbRaw)
        {
            InodesCount = ipg * groups,
            BlocksCount = blocks,
            RBlocksCount = (uint)(blocks / 20),
            FirstDataBlock = fdb,
            LogBlockSize = (uint)System.Numerics.BitOperations.Log2((uint)bs / 1024),
            BlocksPerGroup = bpg,
            FragsPerGroup = bpg,
            InodesPerGroup = ipg,
            Wtime = (uint)now.Sec,
            MaxMntCount = -1,
            Magic = Superblock.Ext2Magic,
            State = Superblock.StateValid,
            Errors = 1,
            LastCheck = (uint)now.Sec,
            CreatorOs = 0,
            RevLevel = 1,
            FirstIno = 11,
            InodeSize = (ushort)isz,
            FeatureCompat = Ext2Features.CompatExtAttr | (options.DirIndex ? Ext2Features.CompatDirIndex : 0),
            FeatureIncompat = Ext2Features.IncompatFiletype,
            FeatureRoCompat = Ext2Features.RoCompatSparseSuper | Ext2Features.RoCompatLargeFile,
            DefaultMountOpts = 0xC,
            MkfsTime = (uint)now.Sec,
            MinExtraIsize = (ushort)(isz >= 160 ? 32 : 0),
            WantExtraIsize = (ushort)(isz >= 160 ? 32 : 0),
        };
        sb.LogFragSize = sb.LogBlockSize;
        RandomNumberGenerator.Fill(sb.Uuid);
        sb.Uuid[6] = (byte)((sb.Uuid[6] & 0x0F) | 0x40);
        sb.Uuid[8] = (byte)((sb.Uuid[8] & 0x3F) | 0x80);
        if (options.DirIndex)
        {
            RandomNumberGenerator.Fill(sb.HashSeed);
            sb.DefHashVersion = 1; // half_md4
            sb.Flags = 1;          // signed directory hash (x86 char)
        }
        var label = System.Text.Encoding.UTF8.GetBytes(options.Label);
        label.AsSpan(0, Math.Min(label.Length, 16)).CopyTo(sb.VolumeName);

        var gdt = new byte[gdtBlocks * bs];
        var blockBitmap = new byte[bs];
        var inodeBitmap = new byte[bs];
        var zeros = new byte[Math.Min(itableBlocks, 256u) * (uint)bs];
        uint lpfBlocks = (uint)Math.Min(12, 16384 / bs);
        uint rootBlock = 0, lpfFirst = 0;
        ulong freeBlocksTotal = 0, freeInodesTotal = 0;
        Errno err;
        for (uint g = 0; g < groups; g++)
        {
            uint start = fdb + g * bpg;
            uint count = Math.Min(bpg, blocks - start);
            uint cur = start;
            bool super = Ext2Fs.GroupHasSuper(g, true);
            if (super) cur += 1 + gdtBlocks;
            uint bb = cur, ib = cur + 1, it = cur + 2;
            uint used = it + itableBlocks - start;
            if (g == 0)
            {
                rootBlock = it + itableBlocks;
                lpfFirst = rootBlock + 1;
                used += 1 + lpfBlocks;
            }
            Array.Clear(blockBitmap);
            for (uint i = 0; i < used; i++) blockBitmap[i >> 3] |= (byte)(1 << (int)(i & 7));
            for (uint i = count; i < 8 * (uint)bs; i++) blockBitmap[i >> 3] |= (byte)(1 << (int)(i & 7));
            Array.Clear(inodeBitmap);
            uint usedInodes = g == 0 ? 11u : 0u;
            for (uint i = 0; i < usedInodes; i++) inodeBitmap[i >> 3] |= (byte)(1 << (int)(i & 7));
            for (uint i = ipg; i < 8 * (uint)bs; i++) inodeBitmap[i >> 3] |= (byte)(1 << (int)(i & 7));
            int o = (int)g * 32;
            Le.U32(gdt, o, bb);
            Le.U32(gdt, o + 4, ib);
            Le.U32(gdt, o + 8, it);
            Le.U16(gdt, o + 12, (ushort)(count - used));
            Le.U16(gdt, o + 14, (ushort)(ipg - usedInodes));
            Le.U16(gdt, o + 16, (ushort)(g == 0 ? 2 : 0));
            freeBlocksTotal += count - used;
            freeInodesTotal += ipg - usedInodes;
            if ((err = dev.WriteBlocks(bb, bs, blockBitmap)) != Errno.OK) { message = "write failed"; return err; }
            if ((err = dev.WriteBlocks(ib, bs, inodeBitmap)) != Errno.OK) { message = "write failed"; return err; }
            if (!deviceIsZeroed)
            {
                for (uint b = 0; b < itableBlocks; b += (uint)(zeros.Length / bs))
                {
                    int n = (int)Math.Min((uint)(zeros.Length / bs), itableBlocks - b);
                    if ((err = dev.WriteBlocks(it + b, bs, zeros.AsSpan(0, n * bs))) != Errno.OK) { message = "write failed"; return err; }
                }
            }
            options.Progress?.Invoke(g + 1, groups);
        }
        sb.FreeBlocksCount = (uint)freeBlocksTotal;
        sb.FreeInodesCount = (uint)freeInodesTotal;

        // Root directory and lost+found.
        var dirBlock = new byte[bs];
        PutEntry(dirBlock, 0, 12, "."u8, 2);
        PutEntry(dirBlock, 12, 12, ".."u8, 2);
        PutEntry(dirBlock, 24, bs - 24, "lost+found"u8, 11);
        if ((err = dev.WriteBlocks(rootBlock, bs, dirBlock)) != Errno.OK) { message = "write failed"; return err; }
        Array.Clear(dirBlock);
        PutEntry(dirBlock, 0, 12, "."u8, 11);
        PutEntry(dirBlock, 12, bs - 12, ".."u8, 2);
        if ((err = dev.WriteBlocks(lpfFirst, bs, dirBlock)) != Errno.OK) { message = "write failed"; return err; }
        Array.Clear(dirBlock);
        Le.U16(dirBlock, 4, (ushort)bs);
        for (uint i = 1; i < lpfBlocks; i++)
            if ((err = dev.WriteBlocks(lpfFirst + i, bs, dirBlock)) != Errno.OK) { message = "write failed"; return err; }

        uint itable0 = Le.U32(gdt, 8);
        var inoRaw = new byte[isz];
        var root = NewDirInode(inoRaw, 2, 0x41ED, 3, (uint)bs, bs, now, isz);
        root.SetBlock(0, rootBlock);
        if ((err = WriteInodeRaw(dev, itable0, bs, isz, 2, inoRaw)) != Errno.OK) { message = "write failed"; return err; }
        inoRaw = new byte[isz];
        var lpf = NewDirInode(inoRaw, 11, 0x41C0, 2, lpfBlocks * (uint)bs, bs, now, isz);
        for (uint i = 0; i < lpfBlocks; i++) lpf.SetBlock((int)i, lpfFirst + i);
        lpf.Blocks512 = lpfBlocks * (uint)(bs / 512);
        if ((err = WriteInodeRaw(dev, itable0, bs, isz, 11, inoRaw)) != Errno.OK) { message = "write failed"; return err; }

        // Group descriptors and superblocks: the primary and the sparse_super backups.
        for (uint g = 0; g < groups; g++)
        {
            if (!Ext2Fs.GroupHasSuper(g, true)) continue;
            uint start = fdb + g * bpg;
            sb.BlockGroupNr = (ushort)g;
            long sbOffset = g == 0 ? 1024 : (long)start * bs;
            if ((err = dev.Write(sbOffset, sbRaw)) != Errno.OK) { message = "write failed"; return err; }
            if ((err = dev.WriteBlocks(start + 1, bs, gdt)) != Errno.OK) { message = "write failed"; return err; }
        }
        sb.BlockGroupNr = 0;
        if ((err = dev.Write(1024, sbRaw)) != Errno.OK) { message = "write failed"; return err; }
        err = dev.Flush();
        if (err != Errno.OK) message = "flush failed";
        return err;
    }

    static Inode NewDirInode(byte[] raw, uint ino, ushort mode, ushort links, uint size, int bs, TimeSpec now, int isz)
    {
        var inode = new Inode(ino, raw);
        if (isz >= 160) inode.ExtraIsize = 32;
        inode.Mode = mode;
        inode.LinksCount = links;
        inode.SizeLow = size;
        inode.Blocks512 = (uint)(bs / 512);
        inode.Atime = now; inode.Mtime = now; inode.Ctime = now; inode.Crtime = now;
        return inode;
    }

    static Errno WriteInodeRaw(IBlockDevice dev, uint itable, int bs, int isz, uint ino, byte[] raw) =>
        dev.Write((long)itable * bs + (long)(ino - 1) * isz, raw);

    static void PutEntry(byte[] data, int off, int recLen, ReadOnlySpan<byte> name, uint ino)
    {
        Le.U32(data, off, ino);
        Le.U16(data, off + 4, (ushort)recLen);
        data[off + 6] = (byte)name.Length;
        data[off + 7] = (byte)DirEntryType.Directory;
        name.CopyTo(data.AsSpan(off + 8));
    }
}
